"""Which server processes are alive, on which hosts, at which version.

Every server process records itself at start, writes a heartbeat every
``EVERY`` seconds and removes itself when it stops gracefully. A process whose
heartbeat is older than ``STALE`` seconds is gone (killed, or its host died);
its row is cleaned away later. Every time is the catalog's own (``now()`` in
the database): hosts whose clocks disagree by minutes still agree on who is
alive.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, delete, func, insert, select, update

from pixelvault import __version__
from pixelvault.catalog import Catalog
from pixelvault.catalog.models import ServerProcess

EVERY = 5.0
STALE = 30.0
FORGET = 3600.0  # rows of processes gone this long are deleted


@dataclass(frozen=True)
class Alive:
    host: str
    pid: int
    number: int | None
    version: str
    started_at: datetime
    last_seen: float  # seconds since its heartbeat, by the catalog's clock
    kind: str  # "server" answers requests, "worker" runs background jobs


def _now() -> Any:
    """The catalog's clock (CURRENT_TIMESTAMP, UTC, on SQLite)."""
    return func.now(type_=DateTime(timezone=True))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def register(catalog: Catalog, number: int | None, kind: str = "server") -> int:
    """This process is alive; the id of its row, for its heartbeats."""
    with catalog.session() as session:
        # rows of processes long gone go here, at a start, not at every /health
        now = _utc(session.execute(select(_now())).scalar_one())
        session.execute(delete(ServerProcess).where(
            ServerProcess.seen_at < now - timedelta(seconds=FORGET)))
        row_id = session.execute(insert(ServerProcess).values(
            host=socket.gethostname()[:255], pid=os.getpid(), number=number, kind=kind,
            version=__version__, started_at=_now(), seen_at=_now())
            .returning(ServerProcess.id)).scalar_one()
    return int(row_id)


def beat(catalog: Catalog, row_id: int, number: int | None, kind: str = "server") -> int:
    """The heartbeat; a row cleaned away meanwhile (a long pause) is written anew."""
    with catalog.session() as session:
        found = session.execute(update(ServerProcess).where(ServerProcess.id == row_id)
                                .values(seen_at=_now())).rowcount  # type: ignore[attr-defined]
    return row_id if found else register(catalog, number, kind)


def unregister(catalog: Catalog, row_id: int) -> None:
    with catalog.session() as session:
        session.execute(delete(ServerProcess).where(ServerProcess.id == row_id))


def alive(catalog: Catalog) -> list[Alive]:
    """The processes whose heartbeat is recent, by host, oldest first (reads only)."""
    with catalog.session() as session:
        now = _utc(session.execute(select(_now())).scalar_one())
        rows = session.scalars(select(ServerProcess).where(
            ServerProcess.seen_at >= now - timedelta(seconds=STALE))
            .order_by(ServerProcess.host, ServerProcess.started_at)).all()
        return [Alive(r.host, r.pid, r.number, r.version, _utc(r.started_at),
                      round(max(0.0, (now - _utc(r.seen_at)).total_seconds()), 1), r.kind)
                for r in rows]
