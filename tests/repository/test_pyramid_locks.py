"""The pyramid lock between real processes: a whole build excludes everyone, the
writers of a split pyramid's parts share it, each part by one writer at a time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pixelvault.errors import LockHeldError
from pixelvault.repository import STORES, Layout, WriteGuard
from pixelvault.repository import identity as disk_identity
from pixelvault.repository.pixels import PixelsStore
from pixelvault.sizes import Threshold
from tests.conftest import spawn_python

UUID = "5a1f3c1e-0000-4000-8000-000000000002"
PIXELS = 7

HOLD = """
import sys
from pathlib import Path
from pixelvault.repository import Layout, WriteGuard
from pixelvault.repository.pixels import PixelsStore
from pixelvault.sizes import Threshold
store = PixelsStore(WriteGuard(Layout(Path(sys.argv[1])), sys.argv[2], Threshold.parse("0"),
                               Threshold.parse("0")))
part = None if sys.argv[3] == "whole" else int(sys.argv[3])
try:
    with store.building(7, part=part):
        print("held", flush=True)
        sys.stdin.read()
except Exception as exc:
    print(type(exc).__name__, flush=True)
"""


@pytest.fixture
def store(tmp_path: Path) -> PixelsStore:
    root = tmp_path / "OMERO"
    root.mkdir()
    for name in STORES:
        (root / name.value).mkdir()
    layout = Layout(root)
    disk_identity.write_marker(layout, UUID)
    return PixelsStore(WriteGuard(layout, UUID, Threshold.parse("0"), Threshold.parse("0")))


def hold(store: PixelsStore, what: str) -> tuple[subprocess.Popen[str], str]:
    """Another process taking the lock (``whole``, or a part's number): it holds it until
    released; what it said (``held``, or the error's name)."""
    proc = spawn_python(HOLD, str(store.layout.root), UUID, what)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def release(proc: subprocess.Popen[str]) -> None:
    proc.communicate(timeout=10)


def test_parts_share_the_lock_and_each_part_has_one_writer(store: PixelsStore) -> None:
    first, said = hold(store, "0")
    assert said == "held"
    try:
        assert store.is_building(PIXELS)
        second, said = hold(store, "1")  # another part, another process: together
        assert said == "held"
        release(second)
        again, said = hold(store, "0")  # the same part: refused, whatever the process
        assert said == "LockHeldError"
        release(again)
        whole, said = hold(store, "whole")  # a whole build: refused while a part is
        assert said == "LockHeldError"
        release(whole)
        with pytest.raises(LockHeldError), store.building(PIXELS):
            pass
        with pytest.raises(LockHeldError, match="part 0"), store.building(PIXELS, part=0):
            pass
    finally:
        release(first)
    assert not store.is_building(PIXELS)  # gone with its process


def test_threads_of_one_process_keep_each_other_s_parts(store: PixelsStore) -> None:
    """POSIX locks belong to the process and go when any of its descriptors of the file
    closes: one part let go here, or a probe, must not free another part still held."""
    with store.building(PIXELS, part=0):
        with store.building(PIXELS, part=1):
            with pytest.raises(LockHeldError, match="another thread"), \
                    store.building(PIXELS, part=1):
                pass
            assert store.is_building(PIXELS)  # asked from the holding process
        other, said = hold(store, "0")
        assert said == "LockHeldError"  # part 0 still held after part 1 was let go
        release(other)
        whole, said = hold(store, "whole")
        assert said == "LockHeldError"
        release(whole)
        free, said = hold(store, "1")
        assert said == "held"
        release(free)
    whole, said = hold(store, "whole")
    assert said == "held"
    try:
        with pytest.raises(LockHeldError), store.building(PIXELS, part=2):
            pass
    finally:
        release(whole)
