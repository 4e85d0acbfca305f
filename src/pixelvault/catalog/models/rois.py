"""Regions of interest, as OMERO models them: a ROI on one image holds shapes.

A shape's geometry and style are kept as JSON beside the columns that queries
filter on (kind, plane, bounding box), so that the eight OME shape types share
one table and a viewer's "shapes on this plane, in this viewport" is one indexed
query. The ROI carries owner and group; its shapes follow it (chgrp and chown
move the ROI, and the shapes with it).
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base
from pixelvault.catalog.models.owned import Owned


class Roi(Owned, Base):
    __tablename__ = "roi"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"),
                                          index=True)
    name: Mapped[str] = mapped_column(String(1024), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class Shape(Base):
    """One shape of a ROI. ``the_z``/``the_t``/``the_c`` None: on every such plane."""

    __tablename__ = "shape"
    __table_args__ = (Index("ix_shape_image_plane", "image_id", "the_z", "the_t"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roi_id: Mapped[int] = mapped_column(ForeignKey("roi.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    the_z: Mapped[int | None] = mapped_column(Integer, nullable=True)
    the_t: Mapped[int | None] = mapped_column(Integer, nullable=True)
    the_c: Mapped[int | None] = mapped_column(Integer, nullable=True)
    geometry: Mapped[str] = mapped_column(Text)  # JSON: the kind's coordinates
    style: Mapped[str] = mapped_column(Text, default="{}")  # JSON: colours, font, markers
    text: Mapped[str] = mapped_column(Text, default="")
    transform: Mapped[str | None] = mapped_column(String(512), nullable=True)  # JSON a00..a12
    mask: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # 1 bit per pixel
    min_x: Mapped[float] = mapped_column(Float)
    min_y: Mapped[float] = mapped_column(Float)
    max_x: Mapped[float] = mapped_column(Float)
    max_y: Mapped[float] = mapped_column(Float)
