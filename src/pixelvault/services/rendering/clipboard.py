"""Rendering settings a user copied in a viewer, kept with their login session as
OMERO.web keeps them in its own (``copyImgRDef`` puts, ``getImgRDef`` reads): either
the image they were copied from, or the settings themselves as ``c=``-style text.
Kept in the catalog, so every server process sees the same clipboard."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import update

from pixelvault.catalog import Catalog
from pixelvault.catalog.models import LoginSession
from pixelvault.errors import InvalidInputError

MAX_TEXT = 64 << 10


def put(catalog: Catalog, session_id: int, content: dict[str, Any]) -> None:
    text = json.dumps(content)
    if len(text) > MAX_TEXT:
        raise InvalidInputError(f"copied settings of {len(text)} characters; at most "
                                f"{MAX_TEXT}")
    with catalog.session() as session:
        session.execute(update(LoginSession).where(LoginSession.id == session_id)
                        .values(clipboard=text))


def get(catalog: Catalog, session_id: int) -> dict[str, Any] | None:
    with catalog.session() as session:
        row = session.get(LoginSession, session_id)
        if row is None or not row.clipboard:
            return None
        found = json.loads(row.clipboard)
        return found if isinstance(found, dict) else None
