"""`admin init`: explicit creation, never into someone else's directory."""

import os
from pathlib import Path

from sqlalchemy import select

from pixelvault.catalog import identity as catalog_identity
from pixelvault.catalog.models import Experimenter
from pixelvault.services.vault import open_vault
from tests.conftest import Env

STORES = {"Pixels", "Files", "Thumbnails", "FullText", "ManagedRepository", "BioFormatsCache"}


def test_init_creates_the_six_stores_and_the_marker(env: Env) -> None:
    result = env.cli("admin", "init", check=True)
    data_dir = env.data_dir
    assert "created repository" in result.stdout
    assert {p.name for p in data_dir.iterdir()} == STORES | {".omero"}
    (uuid_dir,) = (data_dir / ".omero/repository").iterdir()
    assert (uuid_dir / "repo_uuid").read_text().strip() == uuid_dir.name
    vault = open_vault(env.settings())
    try:
        assert vault.uuid == uuid_dir.name
        with vault.catalog.session() as session:
            assert catalog_identity.repository_uuid(session) == uuid_dir.name
            root = session.scalar(select(Experimenter).where(Experimenter.username == "root"))
            assert root is not None and root.is_admin and root.password_hash is None
    finally:
        vault.close()


def test_init_twice_repairs_missing_stores_only(initialised: Env) -> None:
    data_dir = initialised.data_dir
    (data_dir / "Files" / "keep.txt").write_text("x")
    (data_dir / "Thumbnails").rmdir()
    result = initialised.cli("admin", "init", check=True)
    assert "recreated Thumbnails" in result.stdout
    assert (data_dir / "Files" / "keep.txt").read_text() == "x"
    again = initialised.cli("admin", "init", check=True)
    assert "already initialised" in again.stdout


def test_init_refuses_a_non_empty_directory(env: Env) -> None:
    env.data_dir.mkdir(parents=True)
    (env.data_dir / "somebody's thesis.docx").write_text("precious")
    result = env.cli("admin", "init")
    assert result.returncode == 69
    assert "is not empty" in result.stderr and "--allow-nonempty" in result.stderr
    assert {p.name for p in env.data_dir.iterdir()} == {"somebody's thesis.docx"}
    env.cli("admin", "init", "--allow-nonempty", check=True)
    assert (env.data_dir / "Pixels").is_dir()


def test_init_accepts_a_fresh_filesystem_with_lost_and_found(env: Env) -> None:
    (env.data_dir / "lost+found").mkdir(parents=True)
    env.cli("admin", "init", check=True)


def test_init_refuses_another_catalogs_repository(env: Env, tmp_path: Path) -> None:
    env.cli("admin", "init", check=True)
    shared = env.data_dir
    other_home = tmp_path / "other"
    other_home.mkdir()
    other = Env(other_home, {**env.vars, "PIXELVAULT_HOME": str(other_home),
                             "PIXELVAULT_DATA_DIR": str(shared)}, env.backend)
    other.vars.pop("PIXELVAULT_DB_URL", None)  # a second, separate catalog
    result = other.cli("admin", "init")
    assert result.returncode == 69
    assert "holds repository" in result.stderr and "of another catalog" in result.stderr


def test_init_refuses_when_the_catalogs_repository_is_elsewhere(initialised: Env,
                                                                tmp_path: Path) -> None:
    """The catalog already has a repository: an empty data dir is a vanished share."""
    empty = tmp_path / "mountpoint"
    empty.mkdir()
    initialised.set(data_dir=str(empty))
    result = initialised.cli("admin", "init")
    assert result.returncode == 69
    assert "already belongs to repository" in result.stderr
    assert os.listdir(empty) == []


def test_embedded_catalog_is_private_to_its_owner(sqlite_env: Env) -> None:
    """It will hold password hashes."""
    import stat

    sqlite_env.cli("admin", "init", check=True)
    mode = stat.S_IMODE((sqlite_env.home / "catalog.sqlite").stat().st_mode)
    assert mode == 0o600
