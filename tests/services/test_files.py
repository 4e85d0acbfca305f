"""Original files: bytes first, catalog second, on both catalogs."""

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pixelvault.catalog.models import OriginalFile
from pixelvault.errors import NotFoundError, OutOfSpaceError
from pixelvault.repository.checksums import digest_bytes
from pixelvault.services.objects import files
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env, spawn_python


@pytest.fixture
def vault(initialised: Env) -> Iterator[Vault]:
    vault = open_vault(initialised.settings())
    yield vault
    vault.close()


def rows(vault: Vault) -> int:
    with vault.catalog.session() as session:
        return session.scalar(select(func.count()).select_from(OriginalFile)) or 0


def test_put_get_list_delete(vault: Vault) -> None:
    actor = vault.local_admin()
    data = os.urandom(2_500_000)
    row = files.put_file(vault, actor, [data[:1_000_000], data[1_000_000:]], name="cells.tif",
                         algorithm="md5-128")
    assert (row.name, row.size, row.mimetype, row.hasher) == (
        "cells.tif", len(data), "image/tiff", "MD5-128")
    assert row.hash == digest_bytes("MD5-128", data)
    assert row.path == f"Files/{row.id}"  # relative to the repository root
    assert b"".join(files.read_file(vault, actor, row.id)) == data
    assert b"".join(files.read_file(vault, actor, row.id, 100, 200)) == data[100:200]
    listed, total = files.list_files(vault, actor)
    assert total == 1 and listed[0].id == row.id
    assert files.verify_file(vault, actor, row.id)[1] == row.hash
    files.delete_file(vault, actor, row.id)
    assert not (vault.layout.root / row.path).exists()
    with pytest.raises(NotFoundError):
        files.get_file(vault, actor, row.id)


@pytest.mark.parametrize(
    ("given", "stored"),
    [("../../etc/passwd", "passwd"), ("/abs/path/x.txt", "x.txt"),
     ("a\0b\x1b[31m.txt", "a_b_[31m.txt"), ("..", "unnamed"),
     ("C:\\Users\\me\\data.csv", "data.csv"), ("", "unnamed")],
)
def test_hostile_names_are_stored_harmlessly(vault: Vault, given: str, stored: str) -> None:
    row = files.put_file(vault, vault.local_admin(), [b"x"], name=given)
    assert row.name == stored
    assert (vault.layout.root / row.path).parent == vault.layout.root / "Files"


def test_ids_are_never_reused(vault: Vault) -> None:
    actor = vault.local_admin()
    first = files.put_file(vault, actor, [b"1"], name="a")
    files.delete_file(vault, actor, first.id)
    second = files.put_file(vault, actor, [b"2"], name="b")
    assert second.id > first.id


def test_a_failed_catalog_insert_removes_the_bytes(vault: Vault) -> None:
    actor = vault.local_admin()
    ghost = actor.__class__(actor.user_id + 999, "ghost", False, actor.group_id, frozenset())
    with pytest.raises(Exception, match=r"(?i)foreign key|violates"):
        files.put_file(vault, ghost, [b"data"], name="orphan")
    assert rows(vault) == 0
    assert [p for p in (vault.layout.root / "Files").rglob("*") if p.is_file()] == []


def test_full_disk_leaves_no_row_and_no_bytes(env: Env, tmpfs: Callable[..., Path]) -> None:
    disk = tmpfs(size="4m")
    env.set(data_dir=str(disk / "OMERO"), space_critical="0", space_warn="0")
    env.cli("admin", "init", check=True)
    big = env.home / "big.bin"
    big.write_bytes(os.urandom(6 << 20))
    # A file of known size that cannot fit is refused before a byte is written.
    result = env.cli("files", "put", str(big))
    assert result.returncode == 73
    assert "do not fit" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    # A stream of unknown length runs into ENOSPC half way.
    vault = open_vault(env.settings())
    try:
        with pytest.raises(OutOfSpaceError, match="disk full"):
            files.put_file(vault, vault.local_admin(),
                           (os.urandom(1 << 20) for _ in range(6)), name="stream.bin")
        assert rows(vault) == 0
        assert [p for p in (disk / "OMERO").rglob("*") if p.is_file() and "Files" in p.parts] == []
        # Once space is back, writing works again.
        files.put_file(vault, vault.local_admin(), [b"fits"], name="small.txt")
        assert rows(vault) == 1
    finally:
        vault.close()


PUT_AND_HANG = """
import sys, time
from pixelvault.config import load_settings
from pixelvault.services.objects import files
from pixelvault.services.vault import open_vault
vault = open_vault(load_settings())
def chunks():
    yield b"z" * (1 << 20)
    print("writing", flush=True)
    time.sleep(600)
    yield b"never"
files.put_file(vault, vault.local_admin(), chunks(), name="big.bin")
"""


def test_kill_9_mid_upload_leaves_no_row(initialised: Env) -> None:
    proc = spawn_python(PUT_AND_HANG, env=initialised.vars)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    vault = open_vault(initialised.settings())
    try:
        assert rows(vault) == 0
        leftovers = list((vault.layout.root / "Files").rglob("*"))
        assert len(leftovers) == 1 and leftovers[0].name.endswith(".tmp")
    finally:
        vault.close()
    # The repository keeps working, and the next id is a new one.
    out = initialised.cli("files", "put", "--output", "json", __file__, check=True)
    assert json.loads(out.stdout)[0]["id"] == 2
    # The half-written leftover is what cleanse removes.
    cleaned = json.loads(initialised.cli("admin", "cleanse", "--older-than", "0",
                                         "--output", "json", check=True).stdout)
    assert [r["reason"] for r in cleaned["removed"]] == ["unfinished write"]
    assert initialised.cli("files", "verify", "2").returncode == 0


def test_files_commands(initialised: Env, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(b"0123456789")
    stored = json.loads(initialised.cli("files", "put", str(source), "-a", "CRC-32",
                                        "--output", "json", check=True).stdout)[0]
    assert stored["hash"] == digest_bytes("CRC-32", b"0123456789")
    file_id = str(stored["id"])
    assert initialised.cli("files", "get", file_id, "--range", "2-4",
                           check=True).stdout == "234"
    out = tmp_path / "copy.txt"
    initialised.cli("files", "get", file_id, "-o", str(out), check=True)
    assert out.read_bytes() == b"0123456789"
    listing = json.loads(initialised.cli("files", "ls", "--output", "json", check=True).stdout)
    assert listing["meta"]["totalCount"] == 1
    assert "OK" in initialised.cli("files", "verify", file_id, check=True).stdout
    # Bit rot on disk is found.
    on_disk = initialised.data_dir / stored["path"]
    on_disk.write_bytes(b"0123456780")
    bad = initialised.cli("files", "verify", file_id)
    assert bad.returncode == 65 and "do not match" in bad.stderr
    bad_range = initialised.cli("files", "get", file_id, "--range", "9-2")
    assert bad_range.returncode == 64 and "START <= END" in bad_range.stderr
    initialised.cli("files", "rm", file_id, check=True)
    assert not on_disk.exists()
    missing = initialised.cli("files", "get", file_id)
    assert missing.returncode == 66 and "no file with id" in missing.stderr


def test_below_critical_space_the_cli_refuses_writes_but_reads(initialised: Env,
                                                               tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("kept")
    file_id = json.loads(initialised.cli("files", "put", str(source), "--output", "json",
                                         check=True).stdout)[0]["id"]
    initialised.set(space_warn="100%", space_critical="100%")
    refused = initialised.cli("files", "put", str(source))
    assert refused.returncode == 73
    assert "new writes are refused and reads go on" in refused.stderr
    assert initialised.cli("files", "get", str(file_id), check=True).stdout == "kept"
