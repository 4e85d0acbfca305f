"""The catalog's clock: the one time every host sharing a PostgreSQL catalog agrees on.

A host whose clock is off by minutes must still end sessions when everyone else
does: session times are written and compared with PostgreSQL's ``now()``. The
embedded SQLite catalog lives on one host by nature, whose clock is the
catalog's. The last measured difference lets a process compare the deadlines it
keeps in memory (a few seconds' cache) without asking the database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, func, select
from sqlalchemy.orm import Session

from pixelvault.catalog.models.base import utcnow

_offset = timedelta(0)  # the catalog's clock minus this host's, as last measured


def now(session: Session) -> datetime:
    """The catalog's time, in the session's transaction (PostgreSQL: its start)."""
    global _offset
    if session.get_bind().dialect.name != "postgresql":
        return utcnow()
    found = session.execute(select(func.now(type_=DateTime(timezone=True)))).scalar_one()
    moment = found if found.tzinfo else found.replace(tzinfo=UTC)
    _offset = moment - utcnow()
    return moment


def estimate() -> datetime:
    """The catalog's time now, from this host's clock and the last measured difference."""
    return utcnow() + _offset
