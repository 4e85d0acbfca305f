"""Which one process, among all that share a repository, does a job that must run once
(the search indexer).

On PostgreSQL the leader holds an advisory lock in the catalog, on a connection
of its own: every host sharing the catalog agrees on it whatever its shared
filesystem does with file locks. The lock goes with its connection: at once
when the process dies (its host closes the socket), within about 15 seconds
when its host dies or is cut off (the session's TCP keepalives, set below,
let the database notice a peer gone silent). On the embedded SQLite catalog,
one host by nature, the leader holds an ``flock`` on a file of the repository.
"""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pixelvault.catalog.engine import libpq_url

if TYPE_CHECKING:
    import psycopg

    from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
# the database notices a silent peer after idle + interval x count seconds
KEEPALIVE = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


class Leadership(Protocol):
    def hold(self) -> bool:
        """Whether this process leads now (taking the lead if it is free)."""

    def release(self) -> None: ...


class FileLeadership:
    """An ``flock`` on a file: released by the kernel when its holder dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def hold(self) -> bool:
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:  # the repository away: the monitor says so
            log.debug("leadership %s: %s", self.path, exc)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class AdvisoryLeadership:
    """A session-level advisory lock in the PostgreSQL catalog, on its own connection."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.key = zlib.crc32(f"pixelvault {name}".encode())  # the same on every host
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._leading = False

    def hold(self) -> bool:
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._leading = False
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                for setting, value in KEEPALIVE.items():
                    self._conn.execute(f"SET {setting} = {int(value)}")
            if self._leading:
                self._conn.execute("SELECT 1")  # still connected, so still holding
            else:
                found = self._conn.execute("SELECT pg_try_advisory_lock(%s)",
                                           (self.key,)).fetchone()
                self._leading = bool(found and found[0])
        except psycopg.Error as exc:  # the catalog away: nobody leads from here
            if self._leading:
                log.warning("lost the lead (%s); another process may take it", exc)
            self.release()
            return False
        return self._leading

    def release(self) -> None:
        self._leading = False
        if self._conn is not None:
            try:
                self._conn.close()  # the lock goes with the session
            finally:
                self._conn = None


def leadership(vault: Vault, name: str, lock_file: Path) -> Leadership:
    """The catalog's advisory lock on PostgreSQL, else the repository's lock file."""
    engine = vault.catalog.engine
    if engine.dialect.name == "postgresql":
        return AdvisoryLeadership(libpq_url(engine), name)
    return FileLeadership(lock_file)
