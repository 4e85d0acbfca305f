"""The background server process: pid file, start, stop.

`pixelvault serve` writes the pid file itself, so `admin stop` and `admin
status` work the same for a server started in the foreground or by `admin start`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pixelvault.config import Settings
from pixelvault.errors import LockHeldError, PixelvaultError, ServerNotRunningError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pid(settings: Settings) -> int | None:
    """Pid of the server recorded in the pid file, if that process still lives."""
    try:
        pid = int(settings.pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and _alive(pid) else None


@contextlib.contextmanager
def pid_file(settings: Settings) -> Iterator[Path]:
    """Claim the pid file for this process for the duration of the block."""
    path = settings.pid_file
    path.parent.mkdir(parents=True, exist_ok=True)
    other = running_pid(settings)
    if other is not None and other != os.getpid():
        raise LockHeldError(
            f"a server is already running (pid {other}, pid file {path}); "
            "stop it with `pixelvault admin stop`"
        )
    path.write_text(f"{os.getpid()}\n", encoding="ascii")
    try:
        yield path
    finally:
        with contextlib.suppress(OSError, ValueError):
            if int(path.read_text(encoding="ascii").strip()) == os.getpid():
                path.unlink()


def log_tail(settings: Settings, lines: int = 5) -> list[str]:
    try:
        text = settings.log_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def start_background(settings: Settings, ready: Callable[[], bool],
                     timeout: float = 60.0) -> int:
    """Spawn `pixelvault serve` detached; return its pid once ``ready()`` is true."""
    other = running_pid(settings)
    if other is not None:
        raise LockHeldError(
            f"a server is already running (pid {other}); stop it with `pixelvault admin stop`"
        )
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    log_offset = settings.log_file.stat().st_size if settings.log_file.exists() else 0
    with settings.log_file.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pixelvault", "serve"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=dict(settings.env) or None, close_fds=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            text = settings.log_file.read_bytes()[log_offset:].decode("utf-8", "replace")
            lines = [line for line in text.splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit status {code}"
            error = PixelvaultError(
                f"the server did not start: {reason.removeprefix('error: ')} "
                f"(log: {settings.log_file})"
            )
            error.exit_code = code or 1
            raise error
        if ready():
            return proc.pid
        time.sleep(0.1)
    proc.terminate()
    raise PixelvaultError(
        f"the server did not answer within {timeout:.0f} s and was stopped; "
        f"see {settings.log_file}"
    )


def stop(settings: Settings, timeout: float = 30.0) -> int:
    """SIGTERM the server (a graceful shutdown), wait for it; returns its pid."""
    pid = running_pid(settings)
    if pid is None:
        settings.pid_file.unlink(missing_ok=True)
        raise ServerNotRunningError("no server is running (no live pid in "
                                    f"{settings.pid_file}); nothing to stop")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    else:
        raise PixelvaultError(
            f"server pid {pid} did not stop within {timeout:.0f} s; "
            f"look at {settings.log_file}, or `kill -9 {pid}` as a last resort"
        )
    settings.pid_file.unlink(missing_ok=True)
    return pid
