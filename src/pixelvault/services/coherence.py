"""What every server process must forget at once when one of them changes something.

Each process keeps a few seconds' memory of checked sessions, image facts and
rendering settings (tiles ask many times a second). A logout, a password or
permission change, new rendering settings or a deleted image made through one
process must be seen by every other at once, not after that memory runs out.

Every change is followed (after its commit) by :func:`changed`, which moves a
*generation* that every process reads before it trusts its memory:

* on one host, an 8-byte counter in a file of the repository, mapped into
  memory: reading it costs a memory load, moving it a lock and a write;
* across hosts sharing a PostgreSQL catalog, a ``NOTIFY`` on a channel each
  process ``LISTEN``\\s to from a thread of its own. While that connection is
  down, the generation moves on every read: nothing is trusted, nothing stale
  is served, and requests only lose the cache's speed.

A cache calls :func:`generation` and empties itself when the answer differs
from the one it last saw.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import mmap
import os
import struct
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from pixelvault.catalog.engine import libpq_url

if TYPE_CHECKING:
    from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)

CHANNEL = "pixelvault_caches"
FILE_NAME = "cache-generation"
_COUNTER = struct.Struct("<Q")


class Source(Protocol):
    def current(self) -> int: ...
    def bump(self) -> None: ...
    def close(self) -> None: ...


class FileGeneration:
    """The host's counter: a file every process of this repository maps."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < _COUNTER.size:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                if os.fstat(self._fd).st_size < _COUNTER.size:
                    os.pwrite(self._fd, _COUNTER.pack(0), 0)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._map = mmap.mmap(self._fd, _COUNTER.size)

    def current(self) -> int:
        value: int = _COUNTER.unpack_from(self._map, 0)[0]
        return value

    def bump(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            _COUNTER.pack_into(self._map, 0, (self.current() + 1) % (1 << 63))
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


class NotifiedGeneration:
    """Changes announced by other hosts through PostgreSQL's LISTEN/NOTIFY."""

    def __init__(self, url: str, engine: Engine, retry: float = 2.0) -> None:
        self.url = url
        self.engine = engine
        self.retry = retry
        self._count = 0
        self._listening = False
        self._stop = threading.Event()
        self._moving = itertools.count(1 << 62)  # while deaf: a new value on every read
        self._thread = threading.Thread(target=self._run, name="cache-notifications",
                                        daemon=True)
        self._thread.start()

    @property
    def listening(self) -> bool:
        return self._listening

    def current(self) -> int:
        if not self._listening:
            return next(self._moving)
        return self._count

    def bump(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
                conn.commit()
        except SQLAlchemyError as error:  # the other hosts' memories run out on their own
            log.warning("could not tell other hosts of a change (%s); they see it within "
                        "their caches' few seconds", error)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._count += 1  # whatever happened while deaf
                    self._listening = True
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=100):
                            self._count += 1
            except psycopg.Error as error:
                if self._listening and not self._stop.is_set():
                    log.warning("lost the catalog's change notifications (%s); caches are "
                                "off until they are back", error)
            self._listening = False
            self._stop.wait(self.retry)

    def close(self) -> None:
        """The listening thread ends within half a second, on its own: nobody waits."""
        self._stop.set()


def start(vault: Vault) -> list[Source]:
    """What a server process reads: the host's counter, and on PostgreSQL the other
    hosts' notifications. Returns them for :func:`uninstall` at the end."""
    sources: list[Source] = [FileGeneration(vault.settings.state_dir / FILE_NAME)]
    url = vault.catalog.engine.url
    if url.get_backend_name() == "postgresql":
        sources.append(NotifiedGeneration(libpq_url(vault.catalog.engine),
                                          vault.catalog.engine))
    for source in sources:
        install(source)
    return sources


_sources: list[Source] = []
_local = 0
_lock = threading.Lock()


def install(source: Source) -> None:
    """Make this process read (and move) ``source`` from now on."""
    with _lock:
        _sources.append(source)


def uninstall(source: Source) -> None:
    with _lock:
        if source in _sources:
            _sources.remove(source)
    source.close()


def generation() -> int:
    """Differs from any earlier answer once anything was changed, by any process."""
    return _local + sum(source.current() for source in list(_sources))


def changed() -> None:
    """Call after the commit of a change others may have cached."""
    global _local
    with _lock:
        _local += 1
        sources = list(_sources)
    for source in sources:
        source.bump()
