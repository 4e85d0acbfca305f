"""Background work the server does for images: building pyramids.

A job row is the state a user sees (``pixelvault jobs``, HTTP 503 with progress)
and the reason a failure is kept, so an administrator can retry it; OMERO
only leaves a 0-byte marker file behind.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base, utcnow


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PyramidJob(Base):
    __tablename__ = "pyramid_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pixels_id: Mapped[int] = mapped_column(ForeignKey("pixels.id", ondelete="CASCADE"),
                                           unique=True)
    state: Mapped[str] = mapped_column(String(16), default=JobState.PENDING, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    reason: Mapped[str] = mapped_column(Text, default="")  # why it failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(255), default="")  # host:pid building it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PyramidPart(Base):
    """A range of the full-resolution level's shards, written by one worker; the
    pyramid is finished by whoever writes the last."""

    __tablename__ = "pyramid_part"

    job_id: Mapped[int] = mapped_column(ForeignKey("pyramid_job.id", ondelete="CASCADE"),
                                        primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_shard: Mapped[int] = mapped_column(Integer)
    last_shard: Mapped[int] = mapped_column(Integer)  # exclusive
    temp: Mapped[str] = mapped_column(String(255))  # the directory all parts write into
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
