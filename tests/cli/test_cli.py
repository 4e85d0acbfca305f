"""The command line as a user meets it: help with examples, one-line errors."""

import subprocess
import sys

import pytest

from tests.conftest import Env


@pytest.mark.parametrize(
    ("args", "example"),
    [
        (["config", "--help"], "pixelvault config set data.dir"),
        (["admin", "--help"], "pixelvault admin move"),
        (["files", "--help"], "pixelvault files put"),
        (["serve", "--help"], "PIXELVAULT_SERVER_PORT=8080 pixelvault serve"),
    ],
)
def test_help_shows_examples(sqlite_env: Env, args: list[str], example: str) -> None:
    result = sqlite_env.cli(*args, check=True)
    assert example in result.stdout


def test_version(sqlite_env: Env) -> None:
    assert sqlite_env.cli("--version", check=True).stdout.startswith("pixelvault ")


def test_help_does_not_import_heavy_libraries() -> None:
    code = ("import sys; from pixelvault.cli.main import app; "
            "print(','.join(m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'alembic', 'httpx')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""


def test_commands_without_a_repository_say_to_init(sqlite_env: Env) -> None:
    result = sqlite_env.cli("files", "ls")
    assert result.returncode == 69
    assert "run `pixelvault admin init`" in result.stderr
    assert "Traceback" not in result.stderr
