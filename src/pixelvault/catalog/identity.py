"""The catalog's side of the repository identity: which uuid it belongs to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pixelvault.catalog.models import RepositoryRow


def repository_uuid(session: Session) -> str | None:
    return session.scalar(select(RepositoryRow.uuid).order_by(RepositoryRow.id).limit(1))


def record_repository(session: Session, uuid: str) -> None:
    session.add(RepositoryRow(uuid=uuid))
