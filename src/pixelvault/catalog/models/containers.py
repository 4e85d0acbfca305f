"""How users organise images: Project -> Dataset -> Image, as in OMERO."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base
from pixelvault.catalog.models.owned import Owned


class Project(Owned, Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str] = mapped_column(Text, default="")


class Dataset(Owned, Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str] = mapped_column(Text, default="")


class Image(Owned, Base):
    """An image: one series of an imported fileset, with its Pixels."""

    __tablename__ = "image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str] = mapped_column(Text, default="")
    fileset_id: Mapped[int | None] = mapped_column(
        ForeignKey("fileset.id", ondelete="CASCADE"), nullable=True, index=True)
    series: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    acquisition_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)


class ProjectDatasetLink(Owned, Base):
    __tablename__ = "project_dataset_link"
    __table_args__ = (UniqueConstraint("parent_id", "child_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"),
                                           index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                          index=True)


class DatasetImageLink(Owned, Base):
    __tablename__ = "dataset_image_link"
    __table_args__ = (UniqueConstraint("parent_id", "child_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                           index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"),
                                          index=True)
