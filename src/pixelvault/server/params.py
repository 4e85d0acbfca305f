"""Request parameter types shared by the routes.

Catalog ids are 32-bit integers on both databases: anything outside that range
is a malformed request (400), not a database error (500).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

from pixelvault.errors import InvalidInputError
from pixelvault.targets import MAX_ID as MAX_ID  # one limit, shared with the CLI
from pixelvault.targets import parse_id

PathId = Annotated[int, Path(ge=0, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=0, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=0, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]

def id_list(values: Iterable[object], key: str, limit: int) -> list[int]:
    """The ids of a repeated or comma-separated parameter (OMERO's clients send both
    ``toids=1&toids=2`` and ``toids=1,2``), each as parse_id reads it, at most ``limit``
    of them, duplicates dropped."""
    found: list[int] = []
    for value in values:
        for part in str(value).split(","):
            number = parse_id(part)
            if number is None:
                raise InvalidInputError(f"{key}={part[:20]!r} is not an id")
            found.append(number)
            if len(found) > limit:
                raise InvalidInputError(f"more than {limit} ids in {key}=; name fewer")
    return list(dict.fromkeys(found))


# Every JSON or form body fits in this; routes that stream files set their own.
MAX_BODY = 4 << 20
