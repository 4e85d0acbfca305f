"""`admin move`: rename on one filesystem, verified copy across filesystems, never a loss."""

import json
import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from pixelvault.repository.locking import LockMode
from tests.conftest import Env, spawn_python
from tests.repository.test_locking import hold, release


def put(env: Env, path: Path) -> dict[str, object]:
    result = env.cli("files", "put", str(path), "--output", "json", check=True)
    return json.loads(result.stdout)[0]  # type: ignore[no-any-return]


def lock_file(env: Env) -> Path:
    (uuid_dir,) = (env.data_dir / ".omero/repository").iterdir()
    return uuid_dir / ".lock"


def test_same_filesystem_move_is_a_rename(initialised: Env, tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("alpha")
    stored = put(initialised, source)
    old = initialised.data_dir
    new = tmp_path / "really_big_disk" / "OMERO"
    result = initialised.cli("admin", "move", str(new), check=True)
    assert "renamed" in result.stdout
    assert not old.exists()
    assert list(new.glob(".omero/repository/*/holders/*")) == []  # no stale lock notes
    assert initialised.cli("config", "get", "data.dir", check=True).stdout.strip() == str(new)
    assert initialised.cli("files", "get", str(stored["id"]), check=True).stdout == "alpha"
    assert initialised.cli("admin", "diagnostics").returncode == 0


def test_cross_filesystem_move_copies_verifies_and_keeps_links(
        initialised: Env, tmpfs: Callable[..., Path], tmp_path: Path) -> None:
    source = tmp_path / "b.bin"
    source.write_bytes(os.urandom(300_000))
    stored = put(initialised, source)
    old = initialised.data_dir
    managed = old / "ManagedRepository" / "root_0" / "2026-11" / "23"
    managed.mkdir(parents=True)
    (managed / "original.tif").write_bytes(b"tiff bytes")
    (managed / "original.tif").chmod(0o444)  # imported files are read-only
    os.link(managed / "original.tif", managed / "hardlinked.tif")
    (managed / "inplace.tif").symlink_to("/somewhere/users/data.tif")
    disk = tmpfs(size="32m")
    result = initialised.cli("admin", "move", str(disk), check=True)
    assert "copied and verified" in result.stdout and "old copy is still at" in result.stdout
    moved = disk / "ManagedRepository" / "root_0" / "2026-11" / "23"
    assert (moved / "original.tif").read_bytes() == b"tiff bytes"
    assert stat.S_IMODE((moved / "original.tif").stat().st_mode) == 0o444
    assert (moved / "original.tif").stat().st_ino == (moved / "hardlinked.tif").stat().st_ino
    assert os.readlink(moved / "inplace.tif") == "/somewhere/users/data.tif"
    assert initialised.cli("config", "get", "data.dir", check=True).stdout.strip() == str(disk)
    assert initialised.cli("files", "verify", str(stored["id"])).returncode == 0
    assert initialised.cli("admin", "diagnostics").returncode == 0
    assert old.exists() and (old / "Files").is_dir()  # kept without --remove-source
    assert not (disk / ".pixelvault-move-partial").exists()


def test_remove_source_after_verified_copy(initialised: Env, tmpfs: Callable[..., Path]) -> None:
    old = initialised.data_dir
    disk = tmpfs(size="8m")
    initialised.cli("admin", "move", str(disk / "OMERO"), "--remove-source", check=True)
    assert not old.exists()
    assert (disk / "OMERO" / "Pixels").is_dir()


def test_move_refuses_while_a_server_holds_the_lock(initialised: Env, tmp_path: Path) -> None:
    holder = hold(lock_file(initialised), LockMode.SHARED)
    try:
        result = initialised.cli("admin", "move", str(tmp_path / "new"))
    finally:
        release(holder)
    assert result.returncode == 75
    assert f"pid {holder.pid}" in result.stderr and "pixelvault admin stop" in result.stderr
    assert not (tmp_path / "new").exists()
    assert initialised.data_dir.is_dir()


@pytest.mark.parametrize("where", ["inside", "non-empty", "same"])
def test_move_refuses_bad_destinations(initialised: Env, tmp_path: Path, where: str) -> None:
    target = {"inside": initialised.data_dir / "Files" / "x",
              "non-empty": tmp_path / "full",
              "same": initialised.data_dir}[where]
    if where == "non-empty":
        target.mkdir()
        (target / "data.txt").write_text("someone's")
    result = initialised.cli("admin", "move", str(target))
    assert result.returncode == 64
    assert len(result.stderr.strip().splitlines()) == 1
    assert initialised.cli("admin", "diagnostics").returncode == 0


def test_move_refuses_when_the_environment_sets_data_dir(initialised: Env,
                                                         tmp_path: Path) -> None:
    initialised.set(data_dir=str(initialised.data_dir))
    result = initialised.cli("admin", "move", str(tmp_path / "new"))
    assert result.returncode == 78 and "PIXELVAULT_DATA_DIR" in result.stderr


MOVE_AND_HANG = """
import sys, time
from pathlib import Path
from pixelvault.config import load_settings
from pixelvault.services.operations.move import move_repository
def progress(done, total, name):
    print("copying", name, flush=True)
    time.sleep(600)
move_repository(load_settings(), Path(sys.argv[1]), remove_source=True, progress=progress)
"""


def test_kill_9_mid_copy_keeps_the_old_repository_in_use(
        initialised: Env, tmpfs: Callable[..., Path], tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).write_bytes(os.urandom(100_000))
        put(initialised, tmp_path / name)
    old = initialised.data_dir
    disk = tmpfs(size="16m")
    proc = spawn_python(MOVE_AND_HANG, str(disk), env=initialised.vars)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("copying")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert initialised.cli("config", "get", "data.dir", check=True).stdout.strip() == str(old)
    assert initialised.cli("admin", "diagnostics").returncode == 0
    assert initialised.cli("files", "verify", "1", "2").returncode == 0
    assert not list(disk.glob(".omero/repository/*/repo_uuid"))  # no marker: never used
    # Running the move again clears the half copy and completes.
    initialised.cli("admin", "move", str(disk), check=True)
    assert initialised.cli("files", "verify", "1", "2").returncode == 0
    assert initialised.cli("config", "get", "data.dir", check=True).stdout.strip() == str(disk)


def test_kill_between_rename_and_config_switch_is_finished_next_time(
        initialised: Env, tmp_path: Path) -> None:
    """The state a kill leaves there: journal written, directory renamed, config not switched."""
    old = initialised.data_dir
    (uuid_dir,) = (old / ".omero/repository").iterdir()
    new = tmp_path / "renamed"
    journal = initialised.home / "var" / "move-journal.json"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps({"uuid": uuid_dir.name, "from": str(old), "to": str(new)}))
    old.rename(new)
    assert initialised.cli("admin", "diagnostics").returncode == 0
    assert initialised.cli("config", "get", "data.dir", check=True).stdout.strip() == str(new)
    assert not journal.exists()
