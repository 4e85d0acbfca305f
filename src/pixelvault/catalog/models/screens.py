"""High-content screening, as OMERO models it: Screen -> Plate -> Well -> WellSample.

A WellSample is one field of a well, and is what links the plate to an Image;
a PlateAcquisition is one run over the plate, grouping the fields it took.
Every level is owned (chgrp and chown move the whole graph together).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base
from pixelvault.catalog.models.owned import Owned


class Screen(Owned, Base):
    __tablename__ = "screen"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str] = mapped_column(Text, default="")


class Plate(Owned, Base):
    __tablename__ = "plate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str] = mapped_column(Text, default="")
    fileset_id: Mapped[int | None] = mapped_column(
        ForeignKey("fileset.id", ondelete="CASCADE"), nullable=True, index=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    columns: Mapped[int] = mapped_column(Integer, default=0)
    row_naming: Mapped[str] = mapped_column(String(16), default="letter")
    column_naming: Mapped[str] = mapped_column(String(16), default="number")
    field_index: Mapped[int] = mapped_column(Integer, default=0)
    external_identifier: Mapped[str] = mapped_column(String(1024), default="")
    status: Mapped[str] = mapped_column(String(1024), default="")


class ScreenPlateLink(Owned, Base):
    __tablename__ = "screen_plate_link"
    __table_args__ = (UniqueConstraint("parent_id", "child_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("screen.id", ondelete="CASCADE"),
                                           index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("plate.id", ondelete="CASCADE"),
                                          index=True)


class PlateAcquisition(Owned, Base):
    __tablename__ = "plate_acquisition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate_id: Mapped[int] = mapped_column(ForeignKey("plate.id", ondelete="CASCADE"),
                                          index=True)
    name: Mapped[str] = mapped_column(String(1024), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    maximum_field_count: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Well(Owned, Base):
    """One well; ``row`` and ``column`` count from 0, as in OME-XML."""

    __tablename__ = "well"
    __table_args__ = (UniqueConstraint("plate_id", "row", "column"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate_id: Mapped[int] = mapped_column(ForeignKey("plate.id", ondelete="CASCADE"),
                                          index=True)
    row: Mapped[int] = mapped_column(Integer)
    column: Mapped[int] = mapped_column(Integer)
    color: Mapped[int | None] = mapped_column(Integer, nullable=True)  # RGBA, signed
    type: Mapped[str] = mapped_column(String(1024), default="")
    external_description: Mapped[str] = mapped_column(Text, default="")


class WellSample(Owned, Base):
    """One field of a well, and its image."""

    __tablename__ = "well_sample"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    well_id: Mapped[int] = mapped_column(ForeignKey("well.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"),
                                          unique=True)
    plate_acquisition_id: Mapped[int | None] = mapped_column(
        ForeignKey("plate_acquisition.id", ondelete="SET NULL"), nullable=True, index=True)
    field: Mapped[int] = mapped_column(Integer, default=0)
    position_x: Mapped[float | None] = mapped_column(Float, nullable=True)  # micrometres
    position_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    timepoint: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
