"""Alembic, driven from code: the migrations ship inside the package.

Alembic itself is imported only when a migration runs: reading the current
revision is one SELECT, which keeps every CLI command quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from pixelvault.errors import CatalogError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions; tests check that they agree.
HEAD = "0014"


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    return HEAD


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _refuse_newer(current: str | None) -> None:
    """A catalog upgraded by a newer pixelvault is neither used nor "upgraded" back."""
    if current is not None and current.isdigit() and int(current) > int(HEAD):
        raise CatalogError(
            f"the catalog schema is at revision {current}, newer than this pixelvault "
            f"knows ({HEAD}): a newer pixelvault upgraded it; install that version here "
            "too (every server and worker must run the same one)")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (before, after)."""
    before = current_revision(engine)
    _refuse_newer(before)
    if before != HEAD:
        from alembic import command

        command.upgrade(_config(engine), "head")
    return before, HEAD


def require_current(engine: Engine) -> None:
    current = current_revision(engine)
    _refuse_newer(current)
    if current != HEAD:
        state = "empty" if current is None else f"at revision {current}"
        raise CatalogError(
            f"the catalog schema is {state}, this pixelvault needs {HEAD}; "
            "run `pixelvault admin db upgrade`"
        )
