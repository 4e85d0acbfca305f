"""Imports: a fileset is the user's original files of one import, kept as they were
in ManagedRepository (OMERO.fs); its images point back to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base
from pixelvault.catalog.models.owned import Owned


class FilesetState:
    """An import writes its files first, then commits its rows as ``ready``; a fileset
    left ``importing`` by a crash is what ``admin cleanse`` removes."""

    IMPORTING = "importing"
    READY = "ready"


class Fileset(Owned, Base):
    __tablename__ = "fileset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Directory under ManagedRepository, from the path template (fs.repo.path).
    directory: Mapped[str] = mapped_column(Text, unique=True)
    state: Mapped[str] = mapped_column(String(16), default=FilesetState.IMPORTING, index=True)
    format: Mapped[str] = mapped_column(String(64), default="")
    transfer: Mapped[str] = mapped_column(String(16), default="upload")
    # Seconds per import phase ("upload", "metadata", "minmax", ...), as JSON.
    timings: Mapped[str] = mapped_column(Text, default="{}")
    # While an upload is under way: the files announced (client path, place, size,
    # checksum) and the import's options, as JSON; the bytes received are on disk.
    manifest: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # What the reader opens, relative to the repository root (its first file, or the
    # directory of an OME-Zarr image); empty: the first file.
    entry: Mapped[str] = mapped_column(Text, default="", server_default="")


class FilesetEntry(Base):
    """One original file of a fileset, with the path the client had for it."""

    __tablename__ = "fileset_entry"
    __table_args__ = (UniqueConstraint("fileset_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fileset_id: Mapped[int] = mapped_column(ForeignKey("fileset.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(Integer)
    original_file_id: Mapped[int] = mapped_column(ForeignKey("original_file.id"), index=True)
    client_path: Mapped[str] = mapped_column(Text)
