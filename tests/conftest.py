"""Fixtures shared by the whole suite: real catalogs, real filesystems, real processes.

Every test that touches the catalog runs twice, on SQLite (the embedded default)
and on PostgreSQL (a fresh database per test on the server that `make test`
starts and names in PIXELVAULT_TEST_PG_URL).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pixelvault.config import Settings, load_settings

PG_ADMIN_URL = os.environ.get("PIXELVAULT_TEST_PG_URL", "")
IS_ROOT = os.geteuid() == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") and not PG_ADMIN_URL:
        raise pytest.UsageError("CI needs PIXELVAULT_TEST_PG_URL: run the tests with `make test`")


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A brand-new PostgreSQL database, dropped afterwards."""
    if not PG_ADMIN_URL:
        pytest.skip("PostgreSQL not started: run the suite with `make test`")
    import psycopg

    name = f"pvtest_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    _drop_database(name)


def _drop_database(name: str) -> None:
    """Drop a test database. An autovacuum worker may still be in it for a moment, and
    our unprivileged role may not end that worker: wait a little, and if it stays, leave
    the throwaway database with a warning rather than fail the test that used it."""
    import time
    import warnings

    import psycopg

    for _ in range(20):
        try:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            time.sleep(0.5)
    warnings.warn(f"test database {name} could not be dropped; drop it by hand", stacklevel=2)


@dataclass
class Env:
    """An isolated pixelvault home (config, catalog, pid/log) for one test."""

    home: Path
    vars: dict[str, str]
    backend: str
    extra: dict[str, str] = field(default_factory=dict)

    def settings(self) -> Settings:
        return load_settings(self.vars)

    @property
    def data_dir(self) -> Path:
        return self.settings().data_dir

    def set(self, **values: str) -> None:
        """Set PIXELVAULT_<KEY> variables (keys with underscores for dots)."""
        for key, value in values.items():
            self.vars[f"PIXELVAULT_{key.upper()}"] = value

    def cli(self, *args: str, check: bool = False, timeout: float = 120,
            input_bytes: bytes | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real `pixelvault` command in this environment."""
        result = subprocess.run(
            [sys.executable, "-m", "pixelvault", *args], env=self.vars,
            capture_output=True, text=input_bytes is None, timeout=timeout, check=False,
            input=input_bytes,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"pixelvault {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


def _base_env(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith("PIXELVAULT_") and k not in {"XDG_DATA_HOME"}}
    keep["PIXELVAULT_HOME"] = str(home)
    keep["COLUMNS"] = "200"
    # OWASP's argon2id minimum: a third of the default's time per hash, and tests
    # hash hundreds of passwords. tests/services/test_passwords.py covers the default.
    keep["PIXELVAULT_AUTH_PASSWORD_PROFILE"] = "owasp"
    # one server process per test server (the default is one per CPU): the tests of
    # several processes ask for them (tests/server/test_server_processes.py)
    keep["PIXELVAULT_SERVER_WORKERS"] = "1"
    return keep


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Env:
    """A pixelvault home on the embedded SQLite default, and again on PostgreSQL."""
    home = tmp_path / "home"
    home.mkdir()
    variables = _base_env(home)
    if request.param == "postgresql":
        variables["PIXELVAULT_DB_URL"] = request.getfixturevalue("pg_database")
    return Env(home, variables, request.param)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> Env:
    """For tests about the CLI or config that do not depend on the database."""
    home = tmp_path / "home"
    home.mkdir()
    return Env(home, _base_env(home), "sqlite")


@pytest.fixture
def initialised(env: Env) -> Env:
    env.cli("admin", "init", check=True)
    return env


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount size-limited tmpfs filesystems (needs root); unmounted afterwards."""
    if not IS_ROOT or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(name: str = "disk", size: str = "8m", options: str = "") -> Path:
        point = tmp_path / name
        point.mkdir()
        opts = f"size={size}" + (f",{options}" if options else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)], check=True)
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def spawn_python(code: str, *args: str, env: dict[str, str] | None = None
                 ) -> subprocess.Popen[str]:
    """A second real process running ``code`` (for locks, kills and races)."""
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
