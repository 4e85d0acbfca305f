"""OMERO's way of naming an object on a command line or in a request: ``Project:51``."""

from __future__ import annotations

from collections.abc import Sequence

from pixelvault.errors import InvalidInputError

MAX_ID = 2**31 - 1  # catalog ids are 32-bit integers on SQLite and PostgreSQL


def parse_id(text: object) -> int | None:
    """An id from a form field, query value or JSON value: ASCII digits or an int, at most
    MAX_ID (larger ones are database errors on PostgreSQL); None for anything else."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if 0 <= text <= MAX_ID else None
    if isinstance(text, str):
        text = text.strip()
        if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID:
            return int(text)
    return None


def parse_target(text: str, kinds: Sequence[str]) -> tuple[str, int]:
    """``(kind, id)`` from ``Kind:ID``, the kind lower-cased; ``kinds`` are the accepted
    ones, spelt as OMERO spells them (``Project``, ``FileAnnotation``)."""
    kind, sep, number = text.partition(":")
    kind = kind.strip().lower()
    number = number.strip()
    # ASCII digits only ("²" is a digit to str.isdigit, not to int), and an id the
    # catalog's 32-bit columns can hold (a larger one is a database error on PostgreSQL)
    if not sep or kind not in {k.lower() for k in kinds} or \
            not (number.isascii() and number.isdigit()) or int(number) > MAX_ID:
        raise InvalidInputError(f"{text!r} is not a target; write "
                                + ", ".join(f"{k}:ID" for k in kinds))
    return kind, int(number)
