"""A real server process: start, health, the share vanishing under it, stop."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_env(initialised: Env) -> Iterator[Env]:
    initialised.set(server_port=str(free_port()), repository_check_interval="0.2")
    yield initialised
    initialised.cli("admin", "stop")


def health(env: Env) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}/health", timeout=5)


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_start_status_health_stop(server_env: Env) -> None:
    started = server_env.cli("admin", "start", check=True)
    assert "pixelvault started (pid" in started.stdout
    response = health(server_env)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["repository"]["data_dir"] == str(server_env.data_dir)
    assert body["repository"]["uuid"] == next((server_env.data_dir / ".omero/repository")
                                              .iterdir()).name
    assert body["free_space"]["free_bytes"] > 0 and body["free_space"]["writes_allowed"]
    assert body["lock"]["mode"] == "shared" and body["lock"]["current"]
    assert body["version"]
    pid = body["lock"]["holder_pid"]
    status = server_env.cli("admin", "status", "--output", "json")
    assert status.returncode == 0 and json.loads(status.stdout)["pid"] == pid
    assert "running, pid" in server_env.cli("admin", "status").stdout
    again = server_env.cli("admin", "start")
    assert again.returncode == 75 and "already running" in again.stderr
    # Offline operations refuse while it runs, naming it.
    init = server_env.cli("admin", "init")
    assert init.returncode == 75 and f"pid {pid}" in init.stderr
    stopped = server_env.cli("admin", "stop", check=True)
    assert f"stopped (pid {pid})" in stopped.stdout
    not_running = server_env.cli("admin", "status")
    assert not_running.returncode == 1 and "not running" in not_running.stdout
    assert not (server_env.home / "var/server.pid").exists()


def test_share_vanishes_and_comes_back_while_serving(server_env: Env, tmp_path: Path) -> None:
    server_env.cli("admin", "start", check=True)
    data_dir = server_env.data_dir
    parked = tmp_path / "share-contents"
    data_dir.rename(parked)  # the share goes away...
    data_dir.mkdir()  # ...leaving its empty mount point

    wait_for(lambda: health(server_env).status_code == 503)
    body = health(server_env).json()
    assert body["status"] == "unavailable"
    assert "no repository marker" in body["repository"]["problem"]
    assert body["free_space"]["writes_allowed"] is False
    # A local write is refused too, and the mount point stays empty.
    refused = server_env.cli("files", "put", __file__)
    assert refused.returncode == 69
    time.sleep(0.6)  # several monitor rounds
    assert os.listdir(data_dir) == []
    log = (server_env.home / "var/server.log").read_text()
    assert "repository unavailable, writes refused" in log

    data_dir.rmdir()
    parked.rename(data_dir)  # the share is mounted again
    wait_for(lambda: health(server_env).status_code == 200)
    wait_for(lambda: health(server_env).json()["lock"]["current"])
    assert "repository available again" in (server_env.home / "var/server.log").read_text()
    server_env.cli("files", "put", __file__, check=True)


def test_low_space_is_degraded_but_readable(server_env: Env) -> None:
    server_env.set(space_warn="100%", space_critical="100%")
    started = server_env.cli("admin", "start", check=True)
    assert started.returncode == 0
    response = health(server_env)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["free_space"]["writes_allowed"] is False


def test_server_refuses_to_start_on_a_bare_mount_point(server_env: Env, tmp_path: Path) -> None:
    data_dir = server_env.data_dir
    data_dir.rename(tmp_path / "elsewhere")
    data_dir.mkdir()
    result = server_env.cli("admin", "start")
    assert result.returncode == 69
    assert "the server did not start" in result.stderr and "identity" in result.stderr
    assert os.listdir(data_dir) == []
    assert server_env.cli("admin", "status").returncode == 1


def test_seed_procedure_stop_mv_config_set_start(server_env: Env, tmp_path: Path) -> None:
    source = tmp_path / "keep.txt"
    source.write_text("precious")
    server_env.cli("admin", "start", check=True)
    server_env.cli("files", "put", str(source), check=True)
    server_env.cli("admin", "stop", check=True)
    new = tmp_path / "mnt" / "really_big_disk" / "OMERO"
    new.parent.mkdir(parents=True)
    subprocess.run(["mv", str(server_env.data_dir), str(new)], check=True)
    server_env.cli("config", "set", "data.dir", str(new), check=True)
    server_env.cli("admin", "start", check=True)
    assert health(server_env).json()["repository"]["data_dir"] == str(new)
    assert server_env.cli("files", "get", "1", check=True).stdout == "precious"


def test_port_in_use_is_a_clear_error(server_env: Env) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(server_env.vars["PIXELVAULT_SERVER_PORT"])))
        blocker.listen()
        result = server_env.cli("serve", timeout=60)
    assert result.returncode != 0
    assert "cannot listen on 127.0.0.1" in result.stderr and "server.port" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_stops_a_foreground_server_cleanly(server_env: Env) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "pixelvault", "serve"], env=server_env.vars,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: _answers(server_env), timeout=30)
        assert server_env.cli("admin", "status").returncode == 0
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "Application shutdown complete" in out
    assert not (server_env.home / "var/server.pid").exists()


def _answers(env: Env) -> bool:
    try:
        return health(env).status_code == 200
    except httpx.HTTPError:
        return False


def test_first_run_creates_the_embedded_default(sqlite_env: Env) -> None:
    sqlite_env.set(server_port=str(free_port()))
    proc = subprocess.Popen([sys.executable, "-m", "pixelvault", "serve", "--first-run"],
                            env=sqlite_env.vars, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: _answers(sqlite_env), timeout=30)
        assert (sqlite_env.home / "OMERO" / "ManagedRepository").is_dir()
        assert (sqlite_env.home / "catalog.sqlite").is_file()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "created repository" in out
