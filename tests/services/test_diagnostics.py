"""Every start-up check, exercised on real directories and filesystems."""

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pixelvault.repository.space import mount_of
from pixelvault.services.operations.diagnostics import Status, run_diagnostics
from tests.conftest import Env


def statuses(env: Env) -> dict[str, tuple[Status, str, str]]:
    return {c.name: (c.status, c.detail, c.fix) for c in run_diagnostics(env.settings())}


def test_a_healthy_repository_passes_every_check(initialised: Env) -> None:
    result = initialised.cli("admin", "diagnostics", check=True)
    lines = [line for line in result.stdout.splitlines() if line[:4] in ("OK  ", "WARN", "FAIL")]
    names = [line.split(":")[0].split(maxsplit=1)[1] for line in lines]
    assert names == ["catalog", "data dir", "readable", "owner", "identity", "writable",
                     "stores", "locking", "filesystem", "free space"]
    assert all(line.startswith("OK") for line in lines), result.stdout
    assert "running as" in result.stdout


def test_json_output_for_scripts(initialised: Env) -> None:
    result = initialised.cli("admin", "diagnostics", "--output", "json", check=True)
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["user"]
    assert {c["status"] for c in report["checks"]} == {"OK"}


def test_missing_data_dir(initialised: Env) -> None:
    data_dir = initialised.data_dir
    data_dir.rename(data_dir.with_name("elsewhere"))
    result = initialised.cli("admin", "diagnostics")
    assert result.returncode == 1
    assert "FAIL  data dir:" in result.stdout and "does not exist" in result.stdout
    assert "FAIL  identity:" in result.stdout
    assert not data_dir.exists()


def test_empty_directory_standing_in_for_an_unmounted_share(initialised: Env) -> None:
    data_dir = initialised.data_dir
    data_dir.rename(data_dir.with_name("the-real-share"))
    data_dir.mkdir()  # the bare mount point
    checks = statuses(initialised)
    assert checks["identity"][0] is Status.FAIL
    assert "unmounted" in checks["identity"][1]
    assert "mount the share" in checks["identity"][2]
    assert "writable" not in checks  # nothing is probed, so nothing is written
    assert os.listdir(data_dir) == []


def test_foreign_marker(initialised: Env) -> None:
    identity_root = initialised.data_dir / ".omero/repository"
    (uuid_dir,) = identity_root.iterdir()
    foreign = identity_root / "00000000-0000-4000-8000-00000000beef"
    uuid_dir.rename(foreign)
    (foreign / "repo_uuid").write_text(foreign.name + "\n")
    checks = statuses(initialised)
    assert checks["identity"][0] is Status.FAIL
    assert "belongs to another repository" in checks["identity"][1]


def test_missing_store(initialised: Env) -> None:
    (initialised.data_dir / "FullText").rmdir()
    checks = statuses(initialised)
    assert checks["stores"][0] is Status.FAIL and "FullText" in checks["stores"][1]
    assert "admin init" in checks["stores"][2]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a directory's owner needs root")
def test_directory_owned_by_another_user(initialised: Env) -> None:
    os.chown(initialised.data_dir, 65534, 65534)
    checks = statuses(initialised)
    status, detail, fix = checks["owner"]
    assert status is Status.FAIL
    assert "owned by nobody" in detail and "runs as root" in detail
    assert "chown -R root" in fix


def test_read_only_filesystem(initialised: Env, tmpfs: Callable[..., Path]) -> None:
    disk = tmpfs(size="16m")
    initialised.set(data_dir=str(disk / "OMERO"))
    # A second catalog on that disk (the first one knows another uuid).
    initialised.vars.pop("PIXELVAULT_DB_URL", None)
    initialised.set(db_url=f"sqlite:///{initialised.home / 'ro.sqlite'}")
    initialised.cli("admin", "init", check=True)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    checks = statuses(initialised)
    assert checks["writable"][0] is Status.FAIL
    assert "Read-only file system" in checks["writable"][1]
    result = initialised.cli("serve")
    assert result.returncode == 69
    assert "refusing to start: writable" in result.stderr


def test_free_space_thresholds(initialised: Env) -> None:
    initialised.set(space_warn="100%", space_critical="0")
    checks = statuses(initialised)
    assert checks["free space"][0] is Status.WARN and "below space.warn" in checks["free space"][1]
    initialised.set(space_warn="100%", space_critical="100%")
    checks = statuses(initialised)
    status, detail, _ = checks["free space"]
    assert status is Status.FAIL and "new writes are refused" in detail


def test_catalog_unreachable(sqlite_env: Env) -> None:
    sqlite_env.set(db_url="postgresql://nobody:wrong@127.0.0.1:1/none")
    result = sqlite_env.cli("admin", "diagnostics")
    assert result.returncode == 1
    assert "FAIL  catalog: cannot reach the catalog" in result.stdout
    assert "wrong" not in result.stdout  # the password is not echoed


def test_filesystem_type_comes_from_proc_mounts(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        "fileserver:/export /mnt/omero\\040data nfs4 rw 0 0\n"
        "//nas/share /mnt/cifs cifs rw 0 0\n"
    )
    nfs = mount_of(Path("/mnt/omero data/OMERO"), mounts)
    assert nfs is not None and nfs.fstype == "nfs4" and nfs.remote
    assert nfs.mountpoint == "/mnt/omero data"
    cifs = mount_of(Path("/mnt/cifs/x"), mounts)
    assert cifs is not None and cifs.remote
    local = mount_of(Path("/srv/OMERO"), mounts)
    assert local is not None and local.fstype == "ext4" and not local.remote


def test_real_filesystem_type_is_reported(initialised: Env, tmpfs: Callable[..., Path]) -> None:
    checks = statuses(initialised)
    assert checks["filesystem"][0] is Status.OK
    disk = tmpfs()
    found = mount_of(disk / "x")
    assert found is not None and found.fstype == "tmpfs"
