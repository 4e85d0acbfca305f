"""The search index's event log: what changed, written by the database itself.

Triggers on the indexed tables add a row here in the same transaction as every
insert, update and delete (ORM or plain SQL alike), so nothing that commits can
be missed and nothing rolled back is seen. The indexer reads the log in order
and keeps its position beside the index; the log is pruned behind it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base


class SearchEvent(Base):
    __tablename__ = "search_event"
    # Ids only ever grow, even once the log is pruned to nothing: the indexer's position
    # is an id (SQLite reuses the largest rowid otherwise).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # project, dataset, image, fileset, annotation; user and group (renamed: their
    # objects' owner and group names change)
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
