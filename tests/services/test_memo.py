"""Memo files: written at import, used when they match, ignored when not, rebuilt on demand,
and removed with what they describe."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from pixelvault.formats.members import Members
from pixelvault.formats.tiff import TiffReader
from pixelvault.services import imports
from pixelvault.services.objects import deletion
from pixelvault.services.readers import open_original
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env


@pytest.fixture
def vault(initialised: Env) -> Iterator[Vault]:
    opened = open_vault(initialised.settings())
    yield opened
    opened.close()


def stack(path: Path, pages: int = 300) -> np.ndarray[Any, Any]:
    data = np.arange(pages * 16 * 16, dtype=np.uint16).reshape(pages, 16, 16)
    with tifffile.TiffWriter(path) as tif:
        for page in data:
            tif.write(page, contiguous=False, metadata=None)
    return data


def imported(vault: Vault, tmp_path: Path) -> tuple[imports.ImportedFileset, Path,
                                                     np.ndarray[Any, Any]]:
    source = tmp_path / "in"
    source.mkdir()
    data = stack(source / "pages.tif")
    (result,) = imports.run(vault, vault.local_admin(), imports.plan([source]),
                            imports.ImportOptions()).imported
    copy = next(vault.managed.path(result.directory).rglob("pages.tif"))
    return result, copy, data


def test_import_writes_a_memo_that_the_next_open_uses(vault: Vault, tmp_path: Path) -> None:
    result, copy, data = imported(vault, tmp_path)
    memo = vault.memos.path(copy)
    assert memo.name == ".pages.tif.pvmemo" and memo.is_file()
    assert vault.layout.root / "BioFormatsCache" / "ManagedRepository" in memo.parents
    reader = open_original(vault.memos, copy, Members.beside(copy))
    try:
        assert isinstance(reader, TiffReader)
        assert reader._scanned is None  # no page scan: the memo had it all
        assert reader.metadata().series[0].size_t == 300
        np.testing.assert_array_equal(reader.read(0, 0, 0, 0, 299, 0, 0, 16, 16), data[299])
        assert reader._scanned is None
    finally:
        reader.close()
    deletion.delete_fileset(vault, vault.local_admin(), result.fileset_id)
    assert not memo.exists()
    assert list((vault.layout.root / "BioFormatsCache").iterdir()) == []


@pytest.mark.parametrize("spoil", ["stale", "foreign", "garbage", "truncated", "wrong state"])
def test_a_bad_memo_is_ignored_and_rebuilt(vault: Vault, tmp_path: Path, spoil: str) -> None:
    _, copy, data = imported(vault, tmp_path)
    memo = vault.memos.path(copy)
    content = json.loads(memo.read_bytes())
    if spoil == "stale":
        os.utime(copy, ns=(1, 1))
    elif spoil == "foreign":
        content["key"]["version"] = "0"
        memo.write_text(json.dumps(content))
    elif spoil == "garbage":
        memo.write_bytes(os.urandom(200))
    elif spoil == "truncated":
        memo.write_bytes(memo.read_bytes()[:100])
    else:
        content["state"]["metadata"]["series"] = "nonsense"
        memo.write_text(json.dumps(content))
    reader = open_original(vault.memos, copy, Members.beside(copy))
    try:
        np.testing.assert_array_equal(reader.read(0, 0, 0, 0, 5, 0, 0, 16, 16), data[5])
    finally:
        reader.close()
    assert vault.memos.load(copy, TiffReader.format_name, TiffReader.version) is not None


def test_rebuild_and_cleanse(initialised: Env, vault: Vault, tmp_path: Path) -> None:
    _, copy, _ = imported(vault, tmp_path)
    memo = vault.memos.path(copy)
    memo.unlink()
    done = json.loads(initialised.cli("admin", "memo", "rebuild", "--parallel", "2",
                                      "-o", "json", check=True).stdout)
    assert done == {"files": 1, "memos_written": 1} and memo.is_file()
    orphan = vault.memos.root / "ManagedRepository" / "gone" / ".x.tif.pvmemo"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("{}")
    report = json.loads(initialised.cli("admin", "cleanse", "-o", "json", check=True).stdout)
    assert [r["reason"] for r in report["removed"]] == ["memo of a file that is gone"]
    assert not orphan.exists() and memo.is_file()


def test_memo_jobs_need_the_postgresql_queue(sqlite_env: Env) -> None:
    sqlite_env.cli("admin", "init", check=True)
    refused = sqlite_env.cli("admin", "memo", "rebuild", "--queue")
    assert refused.returncode != 0
    assert "--queue needs the PostgreSQL catalog's job queue" in refused.stderr
    assert "without it" in refused.stderr
    shown = sqlite_env.cli("admin", "queue", check=True)
    assert "the embedded SQLite catalog has no job queue" in shown.stdout
