"""The deployment guide (docs/deployment.md), followed on loopback: its environment file
configures two "hosts" sharing one PostgreSQL catalog and one repository; its systemd
units pass `systemd-analyze verify`, and their ExecStart lines start the servers and a
worker on each host; its HAProxy configuration spreads requests over the hosts without
sticky sessions, and goes on answering under wrk's load while one host's server is
killed, then one worker mid-job (whose job another finishes, every job exactly once);
its logrotate configuration rotates a log."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pixelvault.config import load_settings
from tests.conftest import _base_env
from tests.server.test_lifecycle import free_port, wait_for

GUIDE = Path(__file__).parents[2] / "docs" / "deployment.md"
VENV_BIN = Path(sys.executable).parent
ROOT_PASSWORD = "root-secret-1"
CLIENTS = 4  # requests in flight at once during the load


def guide_files() -> dict[str, str]:
    """Each code block of the guide whose first line names a file: that file's text."""
    found = {}
    for block in re.findall(r"```[a-z]*\n(.*?)```", GUIDE.read_text(), flags=re.S):
        first, _, rest = block.partition("\n")
        if first.startswith("# /"):
            found[first[2:].strip()] = rest
    return found


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.skip(f"{name} is not installed: run the suite with `make test`")
    return found


class Hosts:
    """Processes started from the guide's unit files, each in its own process group."""

    def __init__(self) -> None:
        self.groups: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str],
              log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.groups[name] = process
        return process

    def kill(self, name: str) -> None:
        os.killpg(self.groups[name].pid, signal.SIGKILL)
        self.groups[name].wait(10)

    def stop_all(self) -> None:
        for process in self.groups.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.groups.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def queue_pyramids(env: dict[str, str], tmp_path: Path) -> list[int]:
    """Import three images big enough for a pyramid each (a second or more to build),
    whose jobs the workers take up at once. Their pixels' ids."""
    import numpy as np
    import tifffile

    from pixelvault.services import imports
    from pixelvault.services.vault import open_vault

    folder = tmp_path / "slides"
    folder.mkdir()
    for index in range(3):
        data = np.random.default_rng(index).integers(0, 4000, (6000, 6000), dtype=np.uint16)
        tifffile.imwrite(folder / f"slide-{index}.ome.tif", data, ome=True)
    vault = open_vault(load_settings(env))
    try:
        outcome = imports.run(vault, vault.local_admin(), imports.plan([folder]),
                              imports.ImportOptions())
        assert not outcome.failed, outcome.failed
    finally:
        vault.close()
    found = sorted(pyramid_versions(env))
    assert len(found) == 3
    return found


def _catalog_rows(env: dict[str, str], query: str) -> list[Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(env["PIXELVAULT_DB_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query)).all())
    finally:
        engine.dispose()


def pyramid_versions(env: dict[str, str]) -> dict[int, int]:
    return {int(pixels_id): int(version) for pixels_id, version in _catalog_rows(
        env, "SELECT x.id, x.version FROM pixels x JOIN pyramid_job j ON j.pixels_id = x.id")}


def pyramid_states(env: dict[str, str]) -> set[str]:
    return {str(state) for (state,) in _catalog_rows(env, "SELECT state FROM pyramid_job")}


def running_job(env: dict[str, str]) -> str | None:
    """The claim (host:pid:token) of a pyramid job in the middle of its build."""
    found = _catalog_rows(env, "SELECT worker FROM pyramid_job WHERE state = 'running' "
                               "AND progress > 0 AND progress < 0.8 LIMIT 1")
    return str(found[0][0]) if found else None


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    found = Hosts()
    yield found
    found.stop_all()


def test_the_guide_runs_two_hosts_behind_haproxy_and_survives_one_dying(
        tmp_path: Path, pg_database: str, hosts: Hosts) -> None:
    files = guide_files()
    haproxy, logrotate, analyze = tool("haproxy"), tool("logrotate"), tool("systemd-analyze")
    data_dir = tmp_path / "share" / "OMERO"
    env_text = files["/etc/pixelvault/pixelvault.env"]
    guide_env = dict(line.split("=", 1) for line in env_text.splitlines()
                     if line and not line.startswith("#"))
    load_settings(guide_env)  # every key the guide sets is a real one, with a valid value
    ports = {"host1": free_port(), "host2": free_port(), "host3": free_port(),
             "other": free_port()}

    def host_env(name: str) -> dict[str, str]:
        home = tmp_path / name
        home.mkdir(exist_ok=True)
        return {**_base_env(home), **guide_env, "PIXELVAULT_HOME": str(home),
                "PIXELVAULT_DB_URL": pg_database, "PIXELVAULT_DATA_DIR": str(data_dir),
                "PIXELVAULT_SERVER_HOST": "127.0.0.1",
                "PIXELVAULT_SERVER_PORT": str(ports[name]),
                "PIXELVAULT_SERVER_WORKERS": "1",  # two cores for two hosts and a balancer
                "PIXELVAULT_ROOT_PASSWORD": ROOT_PASSWORD}

    env_file = tmp_path / "pixelvault.env"
    env_file.write_text(env_text)
    subprocess.run([str(VENV_BIN / "pixelvault"), "admin", "init"], env=host_env("host1"),
                   check=True, capture_output=True)

    # the units: valid for systemd, and their ExecStart lines start the hosts
    commands = {}
    for unit in ("pixelvault.service", "pixelvault-worker.service"):
        text = (files[f"/etc/systemd/system/{unit}"]
                .replace("/opt/pixelvault/.venv/bin/", f"{VENV_BIN}/")
                .replace("/etc/pixelvault/pixelvault.env", str(env_file))
                .replace("/mnt/omero/OMERO", str(data_dir)))
        (tmp_path / unit).write_text(text)
        verified = subprocess.run([analyze, "verify", str(tmp_path / unit)],
                                  capture_output=True, text=True)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        (line,) = [x for x in text.splitlines() if x.startswith("ExecStart=")]
        commands[unit] = shlex.split(line.removeprefix("ExecStart="))
    for name in ("host1", "host2"):
        hosts.start(name, commands["pixelvault.service"], host_env(name),
                    tmp_path / f"{name}.log")
        hosts.start(f"worker-{name}", commands["pixelvault-worker.service"],
                    {**host_env(name), "PIXELVAULT_JOBS_STALLED_AFTER": "3"},
                    tmp_path / f"worker-{name}.log")

    # the balancer, with the guide's configuration on loopback ports
    front = free_port()
    config = (files["/etc/haproxy/haproxy.cfg"]
              .replace("log /dev/log local0", "log stderr format raw local0")
              .replace("bind :80", f"bind 127.0.0.1:{front}")
              .replace("10.0.0.11:4080", f"127.0.0.1:{ports['host1']}")
              .replace("10.0.0.12:4080", f"127.0.0.1:{ports['host2']}"))
    (tmp_path / "haproxy.cfg").write_text(config)
    checked = subprocess.run([haproxy, "-c", "-f", str(tmp_path / "haproxy.cfg")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    hosts.start("haproxy", [haproxy, "-db", "-f", str(tmp_path / "haproxy.cfg")],
                dict(os.environ), tmp_path / "haproxy.log")
    url = f"http://127.0.0.1:{front}"

    def health() -> dict[str, Any] | None:
        try:
            answer = httpx.get(f"{url}/health", timeout=5)
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None

    def everyone_up() -> bool:
        found = health()
        kinds = sorted(str(p["kind"]) for p in found["processes"]) if found else []
        return kinds == ["server", "server", "worker", "worker"]

    wait_for(everyone_up, timeout=60)
    login = httpx.post(f"{url}/api/v1/login", json={"username": "root",
                                                    "password": ROOT_PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}

    # wrk's load from CLIENTS connections while host1's server dies, then a worker in the
    # middle of a job; a session made through either host is good on both (no sticky
    # sessions). Only requests in flight on the killed server may fail.
    load = subprocess.Popen(
        [tool("wrk"), "-t1", f"-c{CLIENTS}", "-d25s", "--timeout", "10s",
         "-H", f"Authorization: Bearer {login.json()['token']}", f"{url}/api/v1/projects"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    hosts.kill("host1")
    imported = queue_pyramids(host_env("host2"), tmp_path)  # taken up by the workers
    building: list[str] = []

    def caught() -> bool:
        claim = running_job(host_env("host2"))
        building.extend([claim] if claim else [])
        return bool(building)

    wait_for(caught, timeout=60)
    pid = int(building[0].split(":")[1])
    (killed,) = [name for name, p in hosts.groups.items() if p.pid == pid]
    hosts.kill(killed)
    output, _ = load.communicate(timeout=60)
    served = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    failed = sum(int(n) for n in re.findall(
        r"(?:Non-2xx or 3xx responses|connect|read|write|timeout):? (\d+)", output))
    assert served > 100 and failed <= CLIENTS, output
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        assert {http.get("/api/v1/projects").status_code for _ in range(10)} == {200}

    # every job finished exactly once: the killed worker's by the other one
    wait_for(lambda: not pyramid_states(host_env("host2")) - {"done"}, timeout=120)
    # new pixels start at version 0, and each build moves it by one
    finished = pyramid_versions(host_env("host2"))
    assert finished == dict.fromkeys(imported, 1), finished
    worker_log = (tmp_path / f"{'worker-host2' if killed == 'worker-host1' else 'worker-host1'}"
                  ".log").read_text()
    assert "was left by a worker gone silent; queued again" in worker_log, worker_log

    # a host whose mount is another repository (of its own catalog) is refused
    other = host_env("other")
    other.pop("PIXELVAULT_DB_URL")
    other["PIXELVAULT_DATA_DIR"] = str(tmp_path / "elsewhere" / "OMERO")
    subprocess.run([str(VENV_BIN / "pixelvault"), "admin", "init"], env=other, check=True,
                   capture_output=True)
    wrong = subprocess.run(commands["pixelvault.service"], capture_output=True, text=True,
                           timeout=60, env={**host_env("host3"),
                                            "PIXELVAULT_DATA_DIR": other["PIXELVAULT_DATA_DIR"]})
    assert wrong.returncode != 0 and "refusing to start" in wrong.stderr, wrong.stderr
    assert "another repository" in wrong.stderr

    # logrotate: the guide's configuration rotates the server's log file
    log = tmp_path / "host2" / "var" / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server_side = log.open("ab")  # as `admin start` opens it for the server: appending
    server_side.write(b"a line the server wrote\n")
    server_side.flush()
    rotate = tmp_path / "logrotate.conf"
    rotate.write_text(files["/etc/logrotate.d/pixelvault"].replace(
        "/srv/pixelvault/var/server.log", str(log)))
    rotate.chmod(0o644)
    rotated = subprocess.run([logrotate, "-f", "-s", str(tmp_path / "logrotate.state"),
                              str(rotate)], capture_output=True, text=True)
    assert rotated.returncode == 0, rotated.stderr
    assert (log.parent / "server.log.1").read_text() == "a line the server wrote\n"
    server_side.write(b"a line after the rotation\n")  # through the same descriptor
    server_side.close()
    assert log.read_bytes() == b"a line after the rotation\n"  # at the start, no hole
