"""Which characters the catalog accepts in names and free text.

PostgreSQL's ``text`` cannot hold NUL (a 500 there, while SQLite stores it), and
control characters in names corrupt terminals, listings and the CSV and TSV
files users export. Lone surrogates cannot be encoded as UTF-8 at all. So every
service that stores a name or a text checks it here, on both catalogs alike:
names take no control character; free text (descriptions, comments, map
values) takes tab, newline and carriage return, and no other.
"""

from __future__ import annotations

import re

from pixelvault.errors import InvalidInputError

# C0 controls, DEL, C1 controls and lone surrogates.
_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _check(pattern: re.Pattern[str], what: str, value: str | None, allowed: str) -> None:
    if value is None:
        return
    found = pattern.search(value)
    if found is not None:
        raise InvalidInputError(
            f"{what} holds the control character U+{ord(found.group()):04X} at position "
            f"{found.start()}; remove it ({allowed})")


def check_name(what: str, value: str | None) -> None:
    """Refuse a name (of an object, user, group, key or file) holding a control character."""
    _check(_IN_NAMES, what, value, "names take no control characters")


def check_text(what: str, value: str | None) -> None:
    """Refuse free text holding a control character other than tab, newline or CR."""
    _check(_IN_TEXT, what, value, "text takes tab, newline and CR, no other control characters")
