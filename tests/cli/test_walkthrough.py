"""A new user's first hour, against a real server process: the README's path."""

import json
import re
import stat
from collections.abc import Iterator

import pytest

from pixelvault.client import connect
from pixelvault.errors import AuthenticationError, ForbiddenError
from tests.conftest import Env
from tests.server.test_lifecycle import free_port


@pytest.fixture
def running(initialised: Env) -> Iterator[Env]:
    initialised.set(server_port=str(free_port()))
    initialised.vars["PIXELVAULT_ROOT_PASSWORD"] = "root-secret-1"
    initialised.cli("admin", "start", check=True)
    yield initialised
    initialised.cli("admin", "stop")


def test_admin_sets_up_a_lab_and_members_work_in_it(running: Env) -> None:
    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    env.cli("login", "-u", "root", "-w", "root-secret-1", check=True)
    session_file = env.home / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert "root-secret-1" not in session_file.read_text()
    env.cli("group", "add", "lab", "--type", "read-annotate", check=True)
    for name in ("alice", "bob"):
        env.cli("user", "add", name, name.title(), "Lab", "--group-name", "lab",
                "-P", f"{name}-secret-1", check=True)
    groups = json.loads(env.cli("group", "list", "--output", "json", check=True).stdout)
    assert {"name": "lab", "permissions": "rwra--"}.items() <= next(
        g for g in groups if g["name"] == "lab").items()
    env.cli("logout", check=True)
    assert not session_file.exists()
    refused = env.cli("project", "list")
    assert refused.returncode == 77 and "run `pixelvault login`" in refused.stderr

    env.cli("login", "-s", url, "-u", "alice", "-w", "alice-secret-1", check=True)
    created = env.cli("project", "create", "Mitosis", "--description", "HeLa", check=True)
    assert re.search(r"created project \d+: Mitosis", created.stdout)
    env.cli("dataset", "create", "Day 1", check=True)
    users = {u["username"] for u in json.loads(
        env.cli("user", "list", "--output", "json", check=True).stdout)}
    assert users == {"alice", "bob"}  # not root, who shares no group with alice

    # Bob, in the same read-annotate group, sees it from Python in three lines.
    conn = connect(url, "bob", "bob-secret-1")
    page = conn.projects.list()
    assert [p["name"] for p in page["data"]] == ["Mitosis"]
    with pytest.raises(ForbiddenError):
        conn.projects.update(page["data"][0]["id"], name="mine now")
    mine = conn.projects.create("Bob's")
    conn.projects.delete(mine["id"])
    conn.logout()
    with pytest.raises(AuthenticationError):
        conn.whoami()
    conn.close()


def test_first_start_prints_a_generated_root_password_once(initialised: Env) -> None:
    initialised.set(server_port=str(free_port()))
    initialised.cli("admin", "start", check=True)
    initialised.cli("admin", "stop", check=True)
    log = (initialised.home / "var" / "server.log").read_text()
    (password,) = re.findall(r"the administrator is root, password: (\S+)", log)
    initialised.cli("admin", "start", check=True)
    try:
        log = (initialised.home / "var" / "server.log").read_text()
        assert len(re.findall(r"the administrator is root, password", log)) == 1
        initialised.cli("login", "-u", "root", "-w", password, check=True)
        wrong = initialised.cli("login", "-u", "root", "-w", "guess-guess")
        assert wrong.returncode == 77 and "wrong user name or password" in wrong.stderr
    finally:
        initialised.cli("admin", "stop")


def test_login_to_a_server_that_is_not_running(sqlite_env: Env) -> None:
    result = sqlite_env.cli("login", "-p", str(free_port()), "-u", "root", "-w", "x")
    assert result.returncode == 69 and "pixelvault admin start" in result.stderr


def test_sessions_commands(running: Env) -> None:
    running.cli("login", "-u", "root", "-w", "root-secret-1", check=True)
    running.cli("group", "add", "lab", check=True)
    listed = json.loads(running.cli("sessions", "list", "--output", "json", check=True).stdout)
    assert len(listed) == 1 and listed[0]["current"] is True
    running.cli("user", "add", "carol", "Carol", "Lab", "-g", "lab", "-P", "carol-secret-1",
                check=True)
    url = f"http://127.0.0.1:{running.vars['PIXELVAULT_SERVER_PORT']}"
    carol = connect(url, "carol", "carol-secret-1")
    carols = next(s for s in json.loads(running.cli("sessions", "list", "--output", "json",
                                                    check=True).stdout)
                  if s["username"] == "carol")
    running.cli("sessions", "logout", str(carols["id"]), check=True)
    with pytest.raises(AuthenticationError):
        carol.whoami()
    carol.close()
    switched = running.cli("sessions", "group", "lab")
    assert switched.returncode == 66  # root is not a member of lab
    assert running.cli("sessions", "group", "system", check=True).returncode == 0
