"""Engines and sessions for SQLite (WAL, embedded default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pixelvault.errors import CatalogError


def normalise_url(url: str) -> str:
    """psycopg 3 is our PostgreSQL driver; let users write plain postgresql://."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


# a database host that vanishes without closing its sockets is noticed within
# seconds (keepalives, and tcp_user_timeout for data sent but never acknowledged):
# requests then fail with 503 instead of hanging for the kernel's minutes
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3,
              "keepalives_count": 3, "tcp_user_timeout": 20_000}


def libpq_url(engine: Engine) -> str:
    """The catalog's address as libpq (psycopg) takes it, for the connections that
    are not SQLAlchemy's (LISTEN threads, the leadership lock, the task queue's
    workers), with the same keepalives."""
    url = engine.url.set(drivername="postgresql")
    url = url.update_query_dict({k: str(v) for k, v in KEEPALIVES.items()
                                 if k not in url.query})
    return url.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _create_private(path: Path) -> None:
    """The catalog holds password hashes: create it readable by its owner only.

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            _create_private(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True,
                         connect_args={"connect_timeout": 10, **KEEPALIVES})


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CatalogError(
            f"cannot reach the catalog at {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}; check db.url (`pixelvault config get db.url`) and that the database runs"
        ) from None


class Catalog:
    """An engine plus a session factory; one per process and database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
