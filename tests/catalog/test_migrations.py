"""The Alembic migrations build exactly the models' schema, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pixelvault.catalog import migrate
from pixelvault.catalog.engine import Catalog
from pixelvault.catalog.models import Base
from tests.conftest import Env


def test_pinned_head_is_the_newest_migration() -> None:
    assert ScriptDirectory(str(migrate.MIGRATIONS)).get_current_head() == migrate.HEAD


def test_migrations_match_the_models(env: Env) -> None:
    catalog = Catalog(env.settings().db_url)
    try:
        assert migrate.current_revision(catalog.engine) is None
        assert migrate.upgrade(catalog.engine) == (None, migrate.HEAD)
        with catalog.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert migrate.upgrade(catalog.engine) == (migrate.HEAD, migrate.HEAD)
    finally:
        catalog.dispose()


def test_db_commands(env: Env) -> None:
    status = env.cli("admin", "db", "status")
    assert status.returncode == 1 and "catalog schema: empty" in status.stdout
    upgraded = env.cli("admin", "db", "upgrade", check=True)
    assert f"upgraded from empty to {migrate.HEAD}" in upgraded.stdout
    assert env.cli("admin", "db", "status", check=True).returncode == 0


def test_configured_database_is_not_upgraded_behind_the_dbas_back(sqlite_env: Env,
                                                                   pg_database: str) -> None:
    """Only the embedded default upgrades itself; PostgreSQL waits for `admin db upgrade`."""
    env = sqlite_env
    env.set(db_url=pg_database)
    env.cli("admin", "init", check=True)
    catalog = Catalog(env.settings().db_url)
    try:
        with catalog.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    finally:
        catalog.dispose()
    result = env.cli("files", "ls")
    assert result.returncode == 69
    assert "run `pixelvault admin db upgrade`" in result.stderr
