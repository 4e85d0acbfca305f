"""POSIX (fcntl) locks on the repository, with who-holds-it for error messages.

A running server holds ``.omero/repository/<uuid>/.lock`` shared; offline admin
operations (init on an existing repository, move) take it exclusively. POSIX
record locks are what OMERO uses and what Java's FileChannel.lock takes, so the
two interoperate. Their one trap: closing *any* descriptor of the file drops all
of the process's locks on it. So each process opens a lock file exactly once,
through the registry below, and nothing else ever opens it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pixelvault.errors import LockHeldError, RepositoryError

_FLOCK = "@hhqqi0q"  # struct flock on Linux: type, whence, start, len, pid (padded)


class LockMode(StrEnum):
    SHARED = "shared"
    EXCLUSIVE = "exclusive"


@dataclass(frozen=True)
class Holder:
    """Who holds a repository lock, as written in its holder file."""

    pid: int
    host: str
    mode: str
    purpose: str
    since: float

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host} ({self.purpose}, {self.mode})"


@dataclass
class _Held:
    fd: int
    mode: LockMode
    count: int


_registry: dict[Path, _Held] = {}
_registry_lock = threading.Lock()


def _fcntl_type(mode: LockMode) -> int:
    return fcntl.F_WRLCK if mode is LockMode.EXCLUSIVE else fcntl.F_RDLCK


def _conflicting_pid(fd: int, mode: LockMode) -> int | None:
    """Pid of a process whose lock conflicts with ``mode`` (F_GETLK), or None."""
    request = struct.pack(_FLOCK, _fcntl_type(mode), os.SEEK_SET, 0, 0, 0)
    answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
    ltype, _, _, _, pid = struct.unpack(_FLOCK, answer)
    return None if ltype == fcntl.F_UNLCK else pid


def _holders_dir(lock_file: Path) -> Path:
    return lock_file.parent / "holders"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_name() -> str:
    """This process's holder file name: host and pid, unique across an NFS export."""
    return f"{socket.gethostname()}.{os.getpid()}"


def read_holders(lock_file: Path) -> list[Holder]:
    """Holder files of live processes (stale local ones are skipped)."""
    holders: list[Holder] = []
    directory = _holders_dir(lock_file)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return holders
    here = socket.gethostname()
    for name in names:
        try:
            data = json.loads((directory / name).read_text(encoding="utf-8"))
            holder = Holder(**data)
        except (OSError, ValueError, TypeError):
            continue
        if holder.host == here and not _pid_alive(holder.pid):
            continue
        holders.append(holder)
    return holders


def describe_conflict(lock_file: Path, pid: int | None) -> str:
    holders = read_holders(lock_file)
    matching = [h for h in holders if pid and h.pid == pid and h.host == socket.gethostname()]
    chosen = matching or holders
    if chosen:
        return "; ".join(h.describe() for h in chosen)
    if pid:
        return f"pid {pid} on host {socket.gethostname()}"
    return "another process"


class RepositoryLock:
    """A shared or exclusive hold on one repository's lock file."""

    def __init__(self, lock_file: Path, mode: LockMode, purpose: str) -> None:
        self.lock_file = lock_file
        self.mode = mode
        self.purpose = purpose
        self._held = False

    def acquire(self) -> RepositoryLock:
        key = self.lock_file
        with _registry_lock:
            held = _registry.get(key)
            if held is None:
                try:
                    fd = os.open(key, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                except OSError as exc:
                    raise RepositoryError(
                        f"cannot open repository lock {key}: {exc.strerror}; "
                        "run `pixelvault admin diagnostics`"
                    ) from None
                held = _Held(fd=fd, mode=self.mode, count=0)
                try:
                    self._set(fd, self.mode)
                except BaseException:
                    os.close(fd)
                    raise
                _registry[key] = held
            elif self.mode is LockMode.EXCLUSIVE and held.mode is LockMode.SHARED:
                self._set(held.fd, LockMode.EXCLUSIVE)
                held.mode = LockMode.EXCLUSIVE
            held.count += 1
            self._write_holder(held.mode)
        self._held = True
        return self

    def _set(self, fd: int, mode: LockMode) -> None:
        try:
            fcntl.lockf(
                fd, (fcntl.LOCK_EX if mode is LockMode.EXCLUSIVE else fcntl.LOCK_SH) | fcntl.LOCK_NB
            )
        except (BlockingIOError, PermissionError):
            who = describe_conflict(self.lock_file, _conflicting_pid(fd, mode))
            hint = (
                "stop the server first (`pixelvault admin stop`)"
                if mode is LockMode.EXCLUSIVE
                else "wait for it to finish"
            )
            raise LockHeldError(
                f"the repository is locked by {who}; {hint}"
            ) from None
        except OSError as exc:
            raise RepositoryError(
                f"locking failed on {self.lock_file} ({exc.strerror}): this filesystem does "
                "not provide working POSIX locks; use a directly connected disk"
            ) from None

    def _holder_file(self) -> Path:
        return _holders_dir(self.lock_file) / holder_name()

    def _write_holder(self, mode: LockMode) -> None:
        holder = Holder(os.getpid(), socket.gethostname(), mode.value, self.purpose, time.time())
        try:
            _holders_dir(self.lock_file).mkdir(exist_ok=True)
            self._holder_file().write_text(json.dumps(holder.__dict__), encoding="utf-8")
        except OSError:
            pass  # the holder file only improves messages; the lock itself is what counts

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        key = self.lock_file
        with _registry_lock:
            held = _registry.get(key)
            if held is None:
                return
            held.count -= 1
            if held.count > 0:
                return
            del _registry[key]
            with contextlib.suppress(OSError):
                self._holder_file().unlink(missing_ok=True)
            os.close(held.fd)

    def is_current(self) -> bool:
        """False when the lock file we hold is no longer the one at the path.

        That happens when a share was unmounted and mounted again: the old inode
        is gone, and the server must lock the new one.
        """
        held = _registry.get(self.lock_file)
        if held is None:
            return False
        try:
            ours = os.fstat(held.fd)
            there = os.stat(self.lock_file)
        except OSError:
            return False
        return (ours.st_dev, ours.st_ino) == (there.st_dev, there.st_ino)

    def reacquire(self) -> None:
        """Drop a stale hold and lock the file now at the path."""
        with _registry_lock:
            held = _registry.pop(self.lock_file, None)
            if held is not None:
                os.close(held.fd)
        self._held = False
        self.acquire()

    def __enter__(self) -> RepositoryLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def current_holder(lock_file: Path) -> str | None:
    """Who holds the lock (any mode), seen from a process that does not hold it."""
    held = _registry.get(lock_file)
    if held is not None:
        return f"pid {os.getpid()} on host {socket.gethostname()} (this process, {held.mode})"
    try:
        fd = os.open(lock_file, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        pid = _conflicting_pid(fd, LockMode.EXCLUSIVE)
    except OSError:
        pid = None
    finally:
        os.close(fd)
    return describe_conflict(lock_file, pid) if pid else None


_PROBE_CHILD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    print("blocked")
else:
    print("acquired")
"""


def probe_locking(directory: Path) -> str | None:
    """Check that POSIX locks work between two processes in ``directory``.

    Returns None when they do, otherwise what is wrong. Remote shares are where
    this fails; OMERO finds out later as "Bad file descriptor" errors.
    """
    probe = directory / f".lock-probe-{os.getpid()}-{threading.get_ident()}"
    try:
        fd = os.open(probe, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        return f"cannot create a lock probe file in {directory}: {exc.strerror}"
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            return f"taking a POSIX lock failed: {exc.strerror}"
        try:
            result = subprocess.run(
                [sys.executable, "-I", "-S", "-c", _PROBE_CHILD, str(probe)],
                capture_output=True, text=True, timeout=30, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the second probe process failed: {exc}"
        answer = result.stdout.strip()
        if answer == "acquired":
            return "a second process took a lock that was already held: locks are not enforced"
        if answer != "blocked":
            return f"the second probe process failed: {result.stderr.strip()[-200:]}"
        return None
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)
