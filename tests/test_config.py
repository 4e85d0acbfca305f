"""`pixelvault config` and the precedence env > file > default."""

import json
import stat
from pathlib import Path

import pytest

from pixelvault import config
from pixelvault.errors import ConfigError
from tests.conftest import Env


def test_defaults_keep_the_catalog_outside_the_data_dir(sqlite_env: Env) -> None:
    settings = sqlite_env.settings()
    assert settings.data_dir == sqlite_env.home / "OMERO"
    catalog_file = Path(settings.db_url.removeprefix("sqlite:///"))
    assert catalog_file == sqlite_env.home / "catalog.sqlite"
    assert settings.data_dir not in catalog_file.parents
    assert (settings.host, settings.port) == ("127.0.0.1", 4080)


def test_set_get_list_unset_through_the_cli(sqlite_env: Env, tmp_path: Path) -> None:
    target = tmp_path / "big disk" / "OMERO"
    sqlite_env.cli("config", "set", "data.dir", str(target), check=True)
    assert sqlite_env.cli("config", "get", "data.dir", check=True).stdout.strip() == str(target)
    listing = json.loads(sqlite_env.cli("config", "list", "--output", "json", check=True).stdout)
    assert listing["config_file"] == str(sqlite_env.home / "config.toml")
    assert listing["values"]["data.dir"] == {"value": str(target), "source": "file"}
    assert listing["values"]["server.port"] == {"value": "4080", "source": "default"}
    table = sqlite_env.cli("config", "list", check=True).stdout
    assert "config.toml" in table and "data.dir" in table
    # db.url may hold a password: the file is private.
    mode = stat.S_IMODE((sqlite_env.home / "config.toml").stat().st_mode)
    assert mode == 0o600
    sqlite_env.cli("config", "unset", "data.dir", check=True)
    assert sqlite_env.cli("config", "get", "data.dir").stdout.strip() == str(
        sqlite_env.home / "OMERO")


def test_environment_overrides_the_file(sqlite_env: Env) -> None:
    sqlite_env.cli("config", "set", "server.port", "5000", check=True)
    sqlite_env.set(server_port="6000")
    assert sqlite_env.cli("config", "get", "server.port").stdout.strip() == "6000"
    listing = sqlite_env.cli("config", "list").stdout
    assert "PIXELVAULT_SERVER_PORT" in listing
    result = sqlite_env.cli("config", "set", "server.port", "7000")
    assert "PIXELVAULT_SERVER_PORT is set and overrides the file" in result.stdout


def test_relative_data_dir_is_stored_absolute(sqlite_env: Env, tmp_path: Path) -> None:
    config.set_value("data.dir", "relative/dir", sqlite_env.vars)
    assert Path(load(sqlite_env, "data.dir")).is_absolute()


def load(env: Env, key: str) -> str:
    return config.load_settings(env.vars).get(key)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("nosuch.key", "1", "unknown config key 'nosuch.key'; valid keys: data.dir, db.url"),
        ("server.port", "eighty", "'eighty' is not a port number"),
        ("server.port", "70000", "outside 1..65535"),
        ("space.warn", "lots", "neither a size nor a percentage"),
        ("space.critical", "150%", "more than 100%"),
        ("db.url", "mysql://x", "not a catalog URL"),
        ("repository.check_interval", "0", "outside 0.1..3600"),
        ("data.dir", "", "an empty path"),
    ],
)
def test_bad_keys_and_values_are_refused_in_one_line(sqlite_env: Env, key: str, value: str,
                                                     message: str) -> None:
    result = sqlite_env.cli("config", "set", key, value)
    assert result.returncode == 78
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (sqlite_env.home / "config.toml").exists()


def test_bad_environment_values_name_the_variable(sqlite_env: Env) -> None:
    sqlite_env.set(server_port="nope")
    result = sqlite_env.cli("config", "list")
    assert result.returncode == 78
    assert "environment variable PIXELVAULT_SERVER_PORT" in result.stderr


def test_hand_edited_file_with_unknown_key_or_bad_toml(sqlite_env: Env) -> None:
    path = sqlite_env.home / "config.toml"
    path.write_text('[data]\ndirr = "/x"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'data\.dirr'.*valid keys"):
        config.load_settings(sqlite_env.vars)
    path.write_text("[data\n")
    result = sqlite_env.cli("config", "get", "data.dir")
    assert result.returncode == 78 and "not valid TOML" in result.stderr


def test_critical_above_warn_is_refused(sqlite_env: Env) -> None:
    sqlite_env.set(space_warn="5%", space_critical="20%")
    with pytest.raises(ConfigError, match=r"space\.critical .* is above space\.warn"):
        config.load_settings(sqlite_env.vars)
