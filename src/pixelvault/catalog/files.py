"""OriginalFile rows: id allocation and permission-filtered queries."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from pixelvault.catalog.bulk import insert_default
from pixelvault.catalog.models import OriginalFile, OriginalFileId
from pixelvault.catalog.permissions import Actor, Right, allowed


def allocate_id(session: Session) -> int:
    """A fresh OriginalFile id, never reused (committed before bytes are written)."""
    return insert_default(session, OriginalFileId)


def visible_to(actor: Actor) -> ColumnElement[bool]:
    return allowed(actor, Right.READ, OriginalFile)


def get(session: Session, actor: Actor, file_id: int) -> OriginalFile | None:
    return session.scalar(
        select(OriginalFile).where(OriginalFile.id == file_id, visible_to(actor))
    )


def listing(session: Session, actor: Actor, *, offset: int = 0,
            limit: int = 200) -> tuple[list[OriginalFile], int]:
    where = visible_to(actor)
    total = session.scalar(select(func.count()).select_from(OriginalFile).where(where)) or 0
    rows = session.scalars(
        select(OriginalFile).where(where).order_by(OriginalFile.id).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def remove(session: Session, actor: Actor, file_id: int) -> OriginalFile | None:
    """Delete the row if the actor holds the DELETE right on it (reading is not enough)."""
    row = session.scalar(select(OriginalFile).where(
        OriginalFile.id == file_id, allowed(actor, Right.DELETE, OriginalFile)))
    if row is None:
        return None
    session.execute(delete(OriginalFile).where(OriginalFile.id == file_id))
    return row


def ids_in_store(session: Session, store: str) -> set[int]:
    """Every OriginalFile id whose bytes live in ``store``; for cleanse, not for users."""
    return set(session.scalars(select(OriginalFile.id).where(OriginalFile.store == store)).all())


def fileset_paths(session: Session, fileset_ids: list[int]) -> dict[int, list[str]]:
    """The catalog paths of each fileset's files, and its entry directory if it has one:
    what a reader of that fileset may open (no permission filter: callers have already
    checked the image they read)."""
    from pixelvault.catalog.models import Fileset, FilesetEntry

    found: dict[int, list[str]] = {fileset_id: [] for fileset_id in fileset_ids}
    rows = session.execute(
        select(FilesetEntry.fileset_id, OriginalFile.path)
        .join(OriginalFile, OriginalFile.id == FilesetEntry.original_file_id)
        .where(FilesetEntry.fileset_id.in_(fileset_ids))).all()
    for fileset_id, path in rows:
        found[fileset_id].append(path)
    for fileset_id, entry in session.execute(
            select(Fileset.id, Fileset.entry).where(Fileset.id.in_(fileset_ids))).all():
        if entry:
            found[fileset_id].append(entry)
    return found
