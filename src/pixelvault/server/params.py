"""Request parameter types shared by the routes.

Catalog ids are 32-bit integers on both databases: anything outside that range
is a malformed request (400), not a database error (500).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

from pixelvault.targets import MAX_ID as MAX_ID  # one limit, shared with the CLI

PathId = Annotated[int, Path(ge=0, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=0, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=0, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]

# Every JSON or form body fits in this; routes that stream files set their own.
MAX_BODY = 4 << 20
