"""Watches the repository while the server runs.

Every few seconds (and on every /health) it checks the identity marker and the
free space. If the share vanishes, writes already fail at their own guard;
this loop logs the change, reports it, and when the share comes back re-takes
the lock on the new lock file, so the server resumes without a restart.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from pixelvault import __version__
from pixelvault.catalog.engine import check_connection
from pixelvault.errors import PixelvaultError
from pixelvault.repository import RepositoryLock
from pixelvault.services.operations import heartbeats
from pixelvault.services.vault import Vault

log = logging.getLogger("pixelvault.monitor")


@dataclass(frozen=True)
class Health:
    usable: bool
    body: dict[str, Any]


class RepositoryMonitor:
    """Also writes this process's heartbeat into the catalog (see heartbeats)."""

    def __init__(self, vault: Vault, lock: RepositoryLock, process: int | None = None) -> None:
        self.vault = vault
        self.lock = lock
        self.process = process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_problem: str | None = None
        self._evaluating = threading.Lock()
        self._heartbeat: int | None = None
        self._beaten = 0.0

    def start(self) -> None:
        self._beat()
        self._thread = threading.Thread(target=self._run, name="repository-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._heartbeat is not None:
            try:
                heartbeats.unregister(self.vault.catalog, self._heartbeat)
            except SQLAlchemyError as exc:  # gone from the list once stale, all the same
                log.warning("could not remove this process from the catalog: %s", exc)

    def _beat(self) -> None:
        """The heartbeat, every heartbeats.EVERY seconds; a catalog away skips it."""
        if time.monotonic() - self._beaten < heartbeats.EVERY and self._heartbeat is not None:
            return
        try:
            self._heartbeat = heartbeats.register(self.vault.catalog, self.process) \
                if self._heartbeat is None else \
                heartbeats.beat(self.vault.catalog, self._heartbeat, self.process)
            self._beaten = time.monotonic()
        except SQLAlchemyError as exc:
            log.debug("heartbeat skipped: %s", exc)

    def _run(self) -> None:
        while not self._stop.wait(min(self.vault.settings.check_interval, heartbeats.EVERY)):
            self._beat()
            try:
                self.evaluate()
            except Exception:  # the watchdog must outlive any single failed check
                log.exception("repository check failed")

    def _identity_problem(self) -> str | None:
        try:
            self.vault.guard.check_identity()
        except PixelvaultError as exc:
            return exc.message
        if not self.lock.is_current():
            try:
                self.lock.reacquire()
                log.warning("repository is back; lock taken again on %s", self.lock.lock_file)
            except PixelvaultError as exc:
                return exc.message
        return None

    def _catalog_problem(self) -> str | None:
        try:
            check_connection(self.vault.catalog.engine)
        except PixelvaultError as exc:
            return exc.message
        return None

    def evaluate(self) -> Health:
        # One evaluation at a time: the loop and /health must not both re-take the lock.
        with self._evaluating:
            return self._evaluate()

    def _evaluate(self) -> Health:
        problem = self._identity_problem()
        if problem != self._last_problem:
            if problem:
                log.error("repository unavailable, writes refused: %s", problem)
            else:
                log.warning("repository available again at %s", self.vault.layout.root)
            self._last_problem = problem
        catalog_problem = self._catalog_problem()
        space: dict[str, Any] | None = None
        try:
            report = self.vault.guard.space()
            space = {
                "free_bytes": report.free, "total_bytes": report.total,
                "warn_below_bytes": report.warn_below,
                "critical_below_bytes": report.critical_below,
                "low": report.low, "writes_allowed": report.writes_allowed and not problem,
            }
        except OSError as exc:
            problem = problem or f"cannot measure free space: {exc.strerror}"
        usable = problem is None and catalog_problem is None
        degraded = space is not None and (space["low"] or not space["writes_allowed"])
        status = "unavailable" if not usable else "degraded" if degraded else "ok"
        return Health(usable, {
            "status": status,
            "version": __version__,
            "repository": {
                "uuid": self.vault.uuid, "data_dir": str(self.vault.layout.root),
                "state": "unavailable" if problem else "ok", "problem": problem,
            },
            "catalog": {"state": "unavailable" if catalog_problem else "ok",
                        "problem": catalog_problem},
            "free_space": space,
            "lock": {"mode": self.lock.mode.value, "holder_pid": os.getpid(),
                     "holder_host": socket.gethostname(), "current": self.lock.is_current()},
            "search": self._search() if catalog_problem is None else None,
            "process": {"number": self.process, "pid": os.getpid(),
                        "host": socket.gethostname()},
            "processes": self._processes() if catalog_problem is None else None,
        })

    def _processes(self) -> list[dict[str, Any]] | None:
        """Every server process alive on every host of this catalog."""
        try:
            found = heartbeats.alive(self.vault.catalog)
        except SQLAlchemyError as exc:
            log.warning("could not list the server processes: %s", exc)
            return None
        return [{**alive.__dict__, "started_at": alive.started_at.isoformat()}
                for alive in found]

    def _search(self) -> dict[str, Any] | None:
        """The search index's state and lag (events it has still to read)."""
        from pixelvault.services.search.index import index_of

        try:
            found = index_of(self.vault).status()
        except Exception as exc:  # health must answer whatever the index's trouble
            return {"state": "unavailable", "problem": str(exc)[:200]}
        return {"state": found.state, "lag": found.lag, "documents": found.documents}


