"""Background work the server does for images: building pyramids.

A job row is the state a user sees (``pixelvault jobs``, HTTP 503 with progress)
and the reason a failure is kept, so an administrator can retry it; OMERO
only leaves a 0-byte marker file behind.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text
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
