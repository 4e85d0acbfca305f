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
            # procrastinate's queue (PostgreSQL) is its own schema, not our models'
            ours = MigrationContext.configure(conn, opts={"include_name": lambda name, *_:
                                                          not str(name).startswith(
                                                              "procrastinate")})
            diff = compare_metadata(ours, Base.metadata)
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


def test_a_catalog_of_another_version_is_refused_with_the_fix(initialised: Env) -> None:
    """A worker (or server) newer than a PostgreSQL catalog's schema says to upgrade the
    catalog (the embedded one upgrades itself); one older than the catalog's says to
    install the newer pixelvault; the queue's schema goes with the migration, both
    ways."""
    from alembic import command
    from sqlalchemy import inspect, text

    catalog = Catalog(initialised.settings().db_url)
    try:
        command.downgrade(migrate._config(catalog.engine), "0012")
        if catalog.engine.dialect.name == "postgresql":
            assert not [t for t in inspect(catalog.engine).get_table_names()
                        if t.startswith("procrastinate")]
        if initialised.backend == "postgresql":
            older = initialised.cli("worker")
            assert older.returncode != 0 and "Traceback" not in older.stderr
            assert "run `pixelvault admin db upgrade`" in older.stderr, older.stderr
        initialised.cli("admin", "db", "upgrade", check=True)
        with catalog.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        newer = initialised.cli("worker")
        assert newer.returncode != 0 and "newer than this pixelvault" in newer.stderr
        assert "Traceback" not in newer.stderr
    finally:
        catalog.dispose()
