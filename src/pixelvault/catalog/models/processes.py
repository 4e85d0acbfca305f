"""The server processes alive, on every host that shares the catalog.

Each process writes its row when it starts and its heartbeat every few seconds,
both with the catalog's own clock: a host whose clock is off by minutes is still
seen alive, or gone, by everyone alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base


class ServerProcess(Base):
    __tablename__ = "server_process"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # among a host's
    kind: Mapped[str] = mapped_column(String(16), default="server")  # server | worker
    version: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
