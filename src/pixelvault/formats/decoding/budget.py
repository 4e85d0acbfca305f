"""The output budget of one decode, shared by every bounded decoder in the process.

Set once from the configuration (``open_vault``); read by each wrapper when the
stream it decodes does not itself say how large it may become.
"""

from __future__ import annotations

from pixelvault.errors import LimitError
from pixelvault.formats.decoding.limits import Limits
from pixelvault.sizes import format_size

RATIO_FREE_BYTES = 16 << 20

_limits = Limits()


def use_limits(limits: Limits) -> None:
    """Set the bounds from the configuration (``open_vault`` does, for the process)."""
    global _limits
    _limits = limits


def cap(stored: int) -> int:
    """The most one decode of ``stored`` bytes may yield when nothing declares its size."""
    by_ratio = max(RATIO_FREE_BYTES, int(stored * _limits.max_decompression_ratio))
    return min(_limits.max_chunk_bytes, by_ratio)


def refuse(what: str, stored: int, bound: int, decoded: int | None = None) -> LimitError:
    """``decoded``: what the stream declares, if it says (None: it went past ``bound``)."""
    size = "more than" if decoded is None else f"{format_size(decoded)}, more than"
    return LimitError(
        f"a {what} stream of {format_size(stored)} decodes to {size} the "
        f"{format_size(bound)} its tile or chunk may hold (the tile's size, "
        "import.max_chunk_bytes, import.max_decompression_ratio); the file is a "
        "decompression bomb or damaged")


def check(what: str, decoded: int, stored: int, bound: int | None = None) -> None:
    bound = cap(stored) if bound is None else bound
    if decoded > bound:
        raise refuse(what, stored, bound, decoded)
