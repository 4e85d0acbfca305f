"""OMERO's way of naming an object on a command line or in a request: ``Project:51``."""

from __future__ import annotations

from collections.abc import Sequence

from pixelvault.errors import InvalidInputError


def parse_target(text: str, kinds: Sequence[str]) -> tuple[str, int]:
    """``(kind, id)`` from ``Kind:ID``, the kind lower-cased; ``kinds`` are the accepted
    ones, spelt as OMERO spells them (``Project``, ``FileAnnotation``)."""
    kind, sep, number = text.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in {k.lower() for k in kinds} or not number.strip().isdigit():
        raise InvalidInputError(f"{text!r} is not a target; write "
                                + ", ".join(f"{k}:ID" for k in kinds))
    return kind, int(number)
