"""Repository locks between real processes."""

import socket
from pathlib import Path

import pytest

from pixelvault.errors import LockHeldError
from pixelvault.repository.locking import (
    LockMode,
    RepositoryLock,
    current_holder,
    probe_locking,
)
from tests.conftest import spawn_python

HOLD = """
import sys
from pathlib import Path
from pixelvault.repository.locking import LockMode, RepositoryLock
lock = RepositoryLock(Path(sys.argv[1]), LockMode(sys.argv[2]), "test holder").acquire()
print("locked", flush=True)
sys.stdin.read()
"""


def hold(lock_file: Path, mode: LockMode):  # type: ignore[no-untyped-def]
    proc = spawn_python(HOLD, str(lock_file), mode.value)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "locked", proc.stderr.read() if proc.stderr else line
    return proc


def release(proc) -> None:  # type: ignore[no-untyped-def]
    proc.communicate(timeout=10)


def test_shared_holders_coexist(tmp_path: Path) -> None:
    lock_file = tmp_path / ".lock"
    other = hold(lock_file, LockMode.SHARED)
    try:
        with RepositoryLock(lock_file, LockMode.SHARED, "second server"):
            pass
    finally:
        release(other)


def test_exclusive_is_refused_while_a_server_holds_shared_and_names_it(tmp_path: Path) -> None:
    lock_file = tmp_path / ".lock"
    other = hold(lock_file, LockMode.SHARED)
    try:
        with pytest.raises(LockHeldError) as caught:
            RepositoryLock(lock_file, LockMode.EXCLUSIVE, "admin move").acquire()
        message = caught.value.message
        assert f"pid {other.pid}" in message
        assert socket.gethostname() in message
        assert "test holder" in message
        assert "pixelvault admin stop" in message
        assert current_holder(lock_file) is not None
    finally:
        release(other)
    # Once the holder is gone the exclusive lock is granted.
    with RepositoryLock(lock_file, LockMode.EXCLUSIVE, "admin move"):
        pass
    assert current_holder(lock_file) is None


def test_shared_is_refused_while_an_admin_operation_holds_exclusive(tmp_path: Path) -> None:
    lock_file = tmp_path / ".lock"
    other = hold(lock_file, LockMode.EXCLUSIVE)
    try:
        with pytest.raises(LockHeldError, match="wait for it to finish"):
            RepositoryLock(lock_file, LockMode.SHARED, "server").acquire()
    finally:
        release(other)


def test_a_killed_holder_frees_the_lock(tmp_path: Path) -> None:
    lock_file = tmp_path / ".lock"
    other = hold(lock_file, LockMode.SHARED)
    other.kill()
    other.wait()
    with RepositoryLock(lock_file, LockMode.EXCLUSIVE, "admin move"):
        pass


def test_nested_holds_in_one_process_keep_the_lock(tmp_path: Path) -> None:
    """Closing a second descriptor would drop POSIX locks; the registry prevents that."""
    lock_file = tmp_path / ".lock"
    outer = RepositoryLock(lock_file, LockMode.SHARED, "server").acquire()
    with RepositoryLock(lock_file, LockMode.SHARED, "files put"):
        pass
    probe = spawn_python(
        "import sys; from pathlib import Path\n"
        "from pixelvault.repository.locking import LockMode, RepositoryLock\n"
        "from pixelvault.errors import LockHeldError\n"
        "try:\n RepositoryLock(Path(sys.argv[1]), LockMode.EXCLUSIVE, 'x').acquire()\n"
        "except LockHeldError: print('refused')\nelse: print('granted')\n",
        str(lock_file),
    )
    out, _ = probe.communicate(timeout=30)
    outer.release()
    assert out.strip() == "refused"


def test_replaced_lock_file_is_detected_and_retaken(tmp_path: Path) -> None:
    """A share that is unmounted and mounted again shows a new lock file inode."""
    lock_file = tmp_path / ".lock"
    lock = RepositoryLock(lock_file, LockMode.SHARED, "server").acquire()
    try:
        assert lock.is_current()
        lock_file.unlink()
        lock_file.write_bytes(b"")
        assert not lock.is_current()
        lock.reacquire()
        assert lock.is_current()
    finally:
        lock.release()


def test_locking_probe_passes_on_a_local_filesystem(tmp_path: Path) -> None:
    assert probe_locking(tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_locking_probe_reports_an_unusable_directory(tmp_path: Path) -> None:
    problem = probe_locking(tmp_path / "missing")
    assert problem is not None and "cannot create a lock probe file" in problem
