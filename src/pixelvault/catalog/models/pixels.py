"""What an image's pixels are: dimensions, type, calibration and channels (OMERO's
Pixels and Channel). The bytes stay in the fileset's files (or the Pixels store)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base


class PixelsStorage(StrEnum):
    FILESET = "fileset"
    ZARR = "zarr"
    OMERO_RAW = "omero-raw"


class Pixels(Base):
    __tablename__ = "pixels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"),
                                          unique=True)
    size_x: Mapped[int] = mapped_column(Integer)
    size_y: Mapped[int] = mapped_column(Integer)
    size_z: Mapped[int] = mapped_column(Integer)
    size_c: Mapped[int] = mapped_column(Integer)
    size_t: Mapped[int] = mapped_column(Integer)
    pixel_type: Mapped[str] = mapped_column(String(16))
    significant_bits: Mapped[int] = mapped_column(Integer)
    physical_size_x: Mapped[float | None] = mapped_column(Float, nullable=True)  # µm
    physical_size_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    physical_size_z: Mapped[float | None] = mapped_column(Float, nullable=True)
    time_increment: Mapped[float | None] = mapped_column(Float, nullable=True)  # s
    # Resolution levels the original file has, as JSON [[size_x, size_y], ...].
    levels: Mapped[str] = mapped_column(Text, default="[]")
    # Where the pixels are: the fileset's original files, an OME-Zarr in the Pixels
    # store (images created through the API), or an OMERO raw Pixels file.
    storage: Mapped[str] = mapped_column(String(16), default=PixelsStorage.FILESET,
                                         server_default=PixelsStorage.FILESET.value)
    # Bumped by every change of the pixels (writes, a new pyramid): part of ETags.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Channel(Base):
    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("pixels_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pixels_id: Mapped[int] = mapped_column(ForeignKey("pixels.id", ondelete="CASCADE"),
                                           index=True)
    index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255), default="")
    emission_wavelength: Mapped[float | None] = mapped_column(Float, nullable=True)  # nm
    excitation_wavelength: Mapped[float | None] = mapped_column(Float, nullable=True)
    color: Mapped[int | None] = mapped_column(Integer, nullable=True)  # RGBA, signed 32-bit
    # Statistics over every plane, from the import (None when skipped).
    min: Mapped[float | None] = mapped_column(Float, nullable=True)
    max: Mapped[float | None] = mapped_column(Float, nullable=True)
