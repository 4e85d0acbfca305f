"""Rendering settings (OMERO's rendering definitions) and thumbnails.

Each user may keep their own settings for an image they may read; whoever has
none sees the owner's. A thumbnail row is keyed, as OMERO's, by the pixels,
its size and the owner of the settings it was rendered with; it records the
settings' and the pixels' versions it was made from, so a change of either
makes it stale (regenerated, its ``version`` moving on).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base, utcnow


class RenderingDef(Base):
    __tablename__ = "rendering_def"
    __table_args__ = (UniqueConstraint("pixels_id", "owner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pixels_id: Mapped[int] = mapped_column(ForeignKey("pixels.id", ondelete="CASCADE"),
                                           index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id", ondelete="CASCADE"),
                                          index=True)
    model: Mapped[str] = mapped_column(String(16), default="color")
    default_z: Mapped[int] = mapped_column(Integer, default=0)
    default_t: Mapped[int] = mapped_column(Integer, default=0)
    projection: Mapped[str] = mapped_column(String(16), default="normal")
    projection_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    projection_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)


class ChannelBinding(Base):
    __tablename__ = "channel_binding"

    rdef_id: Mapped[int] = mapped_column(ForeignKey("rendering_def.id", ondelete="CASCADE"),
                                         primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    window_start: Mapped[float] = mapped_column(Float, default=0.0)
    window_end: Mapped[float] = mapped_column(Float, default=255.0)
    color: Mapped[str] = mapped_column(String(6), default="FFFFFF")  # RRGGBB
    lut: Mapped[str] = mapped_column(String(64), default="")
    inverted: Mapped[bool] = mapped_column(Boolean, default=False)


class Thumbnail(Base):
    __tablename__ = "thumbnail"
    __table_args__ = (UniqueConstraint("pixels_id", "owner_id", "size_x", "size_y"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pixels_id: Mapped[int] = mapped_column(ForeignKey("pixels.id", ondelete="CASCADE"),
                                           index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id", ondelete="CASCADE"))
    size_x: Mapped[int] = mapped_column(Integer)
    size_y: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)
    rdef_version: Mapped[int] = mapped_column(Integer, default=0)
    pixels_version: Mapped[int] = mapped_column(Integer, default=0)
    rdef_key: Mapped[str] = mapped_column(String(64), default="")  # hash of the settings used
    size: Mapped[int] = mapped_column(Integer, default=0)  # bytes
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
