"""Annotations: comments, tags, key-value maps and file attachments, linked to objects.

As in OMERO, an annotation is its own object (with owner and group) and a link
ties it to what it annotates; a tag can be linked to many objects.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base
from pixelvault.catalog.models.owned import Owned

# The map annotation an import makes of a file's own key-value metadata (OMERO's name).
ORIGINAL_METADATA_NS = "openmicroscopy.org/omero/import/original_metadata"


class AnnotationKind(StrEnum):
    COMMENT = "comment"
    TAG = "tag"
    MAP = "map"
    FILE = "file"


class Annotation(Owned, Base):
    __tablename__ = "annotation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    text_value: Mapped[str] = mapped_column(Text, default="")  # comment text, tag name
    namespace: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("original_file.id"), nullable=True)


class MapEntry(Base):
    """One key-value pair of a map annotation; keys may repeat, order is kept."""

    __tablename__ = "map_entry"

    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotation.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(1024))
    value: Mapped[str] = mapped_column(Text, default="")


class AnnotationLink(Owned, Base):
    """Ties an annotation to a project, dataset or image (``parent_kind``)."""

    __tablename__ = "annotation_link"
    __table_args__ = (UniqueConstraint("parent_kind", "parent_id", "annotation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_kind: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int] = mapped_column(Integer, index=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotation.id", ondelete="CASCADE"), index=True)
