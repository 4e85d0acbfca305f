"""The Files store on real filesystems: atomic writes, ranges, full disks, kills."""

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pixelvault.errors import (
    InvalidInputError,
    NotFoundError,
    OutOfSpaceError,
    RepositoryIdentityError,
)
from pixelvault.repository import STORES, FilesStore, Layout, WriteGuard
from pixelvault.repository import identity as disk_identity
from pixelvault.repository.checksums import digest_bytes
from pixelvault.sizes import Threshold
from tests.conftest import spawn_python

UUID = "5a1f3c1e-0000-4000-8000-000000000001"


def make_repository(root: Path, critical: str = "0") -> FilesStore:
    root.mkdir(exist_ok=True)
    for store in STORES:
        (root / store.value).mkdir()
    layout = Layout(root)
    disk_identity.write_marker(layout, UUID)
    return FilesStore(WriteGuard(layout, UUID, Threshold.parse("0"), Threshold.parse(critical)))


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_write_then_read_any_range(tmp_path: Path) -> None:
    store = make_repository(tmp_path / "repo")
    data = os.urandom(3 * (1 << 20) + 5)
    chunks = [data[i:i + 100_000] for i in range(0, len(data), 100_000)]
    stored = store.write(123456, chunks, ["SHA1-160", "BLAKE3-256", "Adler-32"])
    assert stored.relpath == Path("Files/Dir-123/123456")
    assert (tmp_path / "repo/Files/Dir-123/123456").read_bytes() == data
    assert stored.size == len(data)
    assert stored.hashes["SHA1-160"] == digest_bytes("SHA1-160", data)
    assert stored.hashes["Adler-32"] == digest_bytes("Adler-32", data)
    assert b"".join(store.read_range(123456)) == data
    assert b"".join(store.read_range(123456, 10, 20)) == data[10:20]
    assert b"".join(store.read_range(123456, len(data) - 3)) == data[-3:]
    assert b"".join(store.read_range(123456, 5, 5)) == b""
    assert b"".join(store.read_range(123456, 0, len(data) + 100)) == data
    assert temp_files(tmp_path) == []


def test_bad_ranges_and_missing_ids(tmp_path: Path) -> None:
    store = make_repository(tmp_path / "repo")
    store.write(1, [b"abc"], ["SHA1-160"])
    with pytest.raises(InvalidInputError, match="outside file 1 of 3 bytes"):
        store.read_range(1, 5)
    with pytest.raises(InvalidInputError):
        store.read_range(1, -1)
    with pytest.raises(NotFoundError, match="missing"):
        store.read_range(2)


def test_objects_are_never_overwritten(tmp_path: Path) -> None:
    store = make_repository(tmp_path / "repo")
    store.write(7, [b"first"], ["SHA1-160"])
    with pytest.raises(InvalidInputError, match="already exists"):
        store.write(7, [b"second"], ["SHA1-160"])
    assert store.path(7).read_bytes() == b"first"
    assert temp_files(tmp_path) == []


def test_failure_in_the_source_leaves_nothing(tmp_path: Path) -> None:
    store = make_repository(tmp_path / "repo")

    def broken() -> Iterator[bytes]:
        yield b"x" * 1000
        raise OSError("the client went away")

    with pytest.raises(OSError, match="client went away"):
        store.write(5, broken(), ["SHA1-160"])
    assert not store.path(5).exists()
    assert temp_files(tmp_path) == []


def test_a_vanished_repository_is_never_written(tmp_path: Path) -> None:
    """The bare mount point of an unmounted share: empty directory, no marker."""
    root = tmp_path / "repo"
    store = make_repository(root)
    store.write(1, [b"ok"], ["SHA1-160"])
    (tmp_path / "elsewhere").mkdir()
    root.rename(tmp_path / "elsewhere/repo")
    root.mkdir()  # the mount point, now empty
    with pytest.raises(RepositoryIdentityError, match="unmounted"):
        store.write(2, [b"lost?"], ["SHA1-160"])
    assert list(root.iterdir()) == []


def test_missing_store_root_is_not_recreated(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    store = make_repository(root)
    (root / "Files").rmdir()
    with pytest.raises(Exception, match=r"store .* is missing"):
        store.write(1000, [b"x"], ["SHA1-160"])
    assert not (root / "Files").exists()


def test_full_disk_mid_write_keeps_nothing(tmpfs: Callable[..., Path]) -> None:
    disk = tmpfs(size="4m")
    store = make_repository(disk / "repo")
    chunk = os.urandom(1 << 20)
    with pytest.raises(OutOfSpaceError, match="disk full"):
        store.write(1, (chunk for _ in range(8)), ["SHA1-160"])
    assert not store.path(1).exists()
    assert temp_files(disk) == []
    # The disk is usable again at once.
    store.write(2, [b"small"], ["SHA1-160"])
    assert store.path(2).read_bytes() == b"small"


def test_below_critical_space_writes_are_refused_before_starting(
        tmpfs: Callable[..., Path]) -> None:
    disk = tmpfs(size="8m")
    store = make_repository(disk / "repo", critical="6MiB")
    store.write(1, [b"kept"], ["SHA1-160"])
    (disk / "ballast").write_bytes(b"\0" * (3 << 20))
    with pytest.raises(OutOfSpaceError, match=r"space\.critical"):
        store.write(2, [b"x"], ["SHA1-160"])
    assert not store.path(2).exists()
    assert b"".join(store.read_range(1)) == b"kept"  # reads go on


WRITER = """
import sys, time
from pathlib import Path
from pixelvault.repository import FilesStore, Layout, WriteGuard
from pixelvault.sizes import Threshold
store = FilesStore(WriteGuard(Layout(Path(sys.argv[1])), sys.argv[2], Threshold.parse("0"),
                              Threshold.parse("0")))
def chunks():
    for i in range(4):
        yield b"y" * (1 << 20)
    print("half written", flush=True)
    time.sleep(600)
    yield b"never"
store.write(42, chunks(), ["SHA1-160"])
"""


def test_kill_9_mid_write_leaves_no_half_file_under_a_real_name(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    store = make_repository(root)
    proc = spawn_python(WRITER, str(root), UUID)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "half written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not store.path(42).exists()
    leftovers = temp_files(root)
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".42.")
