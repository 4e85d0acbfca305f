"""`admin cleanse`: what crashes leave is removed; everything else is left alone."""

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelvault.services.objects import files
from pixelvault.services.operations.cleanse import cleanse
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env


@pytest.fixture
def vault(initialised: Env) -> Iterator[Vault]:
    vault = open_vault(initialised.settings())
    yield vault
    vault.close()


def age(path: Path, seconds: float = 7200) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_orphans_are_removed_and_recorded_files_kept(vault: Vault) -> None:
    actor = vault.local_admin()
    kept = files.put_file(vault, actor, [b"recorded"], name="kept.txt")
    root = vault.layout.root
    orphan = root / "Files" / "Dir-001" / "1234"  # bytes whose row never came
    orphan.parent.mkdir()
    orphan.write_bytes(b"orphan")
    temp = root / "Files" / ".77.abcdef123456.tmp"  # a write killed half way
    temp.write_bytes(b"half")
    young = root / "Files" / "555"  # may be a write about to commit
    young.write_bytes(b"young")
    stranger = root / "Files" / "notes.txt"
    stranger.write_text("someone put this here")
    for path in (orphan, temp, stranger):
        age(path)
    age(orphan.parent)
    (root / "Files" / "Dir-002").mkdir()
    age(root / "Files" / "Dir-002")

    preview = cleanse(vault, dry_run=True)
    assert {p for p, _, _ in preview.removed} == {"Files/Dir-001/1234",
                                                  "Files/.77.abcdef123456.tmp"}
    assert orphan.exists() and temp.exists()

    report = cleanse(vault)
    assert report.bytes_freed == len(b"orphan") + len(b"half")
    assert not orphan.exists() and not temp.exists()
    assert young.exists() and stranger.exists()
    kept_reasons = dict(report.kept)
    assert "younger than the grace period" in kept_reasons["Files/555"]
    assert "check it by hand" in kept_reasons["Files/notes.txt"]
    assert sorted(report.directories) == ["Files/Dir-002"]
    assert b"".join(files.read_file(vault, actor, kept.id)) == b"recorded"


def test_cleanse_cli_beside_a_killed_write(initialised: Env) -> None:
    temp = initialised.data_dir / "Files" / ".9.0123456789ab.tmp"
    temp.write_bytes(b"x" * 1000)
    dry = initialised.cli("admin", "cleanse", "--dry-run", "--older-than", "0", check=True)
    assert "would remove 1 files" in dry.stdout and temp.exists()
    done = json.loads(initialised.cli("admin", "cleanse", "--older-than", "0", "--output",
                                      "json", check=True).stdout)
    assert done["removed"] == [{"path": "Files/.9.0123456789ab.tmp", "size": 1000,
                                "reason": "unfinished write"}]
    assert not temp.exists()


def test_cleanse_refuses_a_vanished_repository(initialised: Env, tmp_path: Path) -> None:
    initialised.data_dir.rename(tmp_path / "elsewhere")
    initialised.data_dir.mkdir()
    result = initialised.cli("admin", "cleanse")
    assert result.returncode == 69 and "no repository marker" in result.stderr
