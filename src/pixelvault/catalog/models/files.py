"""Original files: the bytes' catalog side (OMERO's OriginalFile)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base, utcnow


class OriginalFileId(Base):
    """Ids handed out before the bytes are written.

    Bytes go to disk before the OriginalFile row exists, so the id is taken
    here first: a crash then leaves an unused id and a file without a row
    (which cleanse finds), never a row without its file.
    """

    __tablename__ = "original_file_id"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    allocated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = {"sqlite_autoincrement": True}


class OriginalFile(Base):
    __tablename__ = "original_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Which store holds the bytes ("Files" or "ManagedRepository") and where,
    # relative to the repository root so that moving the data dir needs no update.
    store: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mimetype: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    hasher: Mapped[str] = mapped_column(String(32))
    hash: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("experimenter_group.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
