"""HTTP byte ranges (RFC 9110 §14): one range per request, as clients send them."""

from __future__ import annotations

import re

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UnsatisfiableRangeError(Exception):
    """The range does not fit the file: answer 416 with ``bytes */size``."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single satisfiable range, None for the whole file.

    Several ranges, or a malformed header, are served as the whole file, which
    RFC 9110 allows; a syntactically valid range outside the file raises.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise UnsatisfiableRangeError
        return max(size - length, 0), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None
    if start >= size:
        raise UnsatisfiableRangeError
    return start, end
