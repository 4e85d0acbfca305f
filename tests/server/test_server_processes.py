"""Several server processes behind one port (`server.workers`): what one process learns of
a change, every other knows at once (a logout, a password, a permission level, new
rendering settings, a deleted image, failed logins); one killed with SIGKILL is replaced while the
others answer; exactly one indexes for search, and another takes over when it dies."""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Env
from tests.server.omero_clients import timelapse
from tests.server.test_lifecycle import free_port, wait_for

ROOT_PASSWORD = "root-secret-1"
PASSWORD = "correct horse battery"
PROCESSES = 2


class Cluster:
    """A server of PROCESSES processes; requests aimed at one of them by number (each on a
    new connection, until the kernel hands one to that process)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"

    def via(self, process: int, method: str, path: str, token: str | None = None,
            **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for _ in range(400):
            answer = httpx.request(method, self.url + path, headers=headers, timeout=30,
                                   **options)
            if answer.headers.get("x-pixelvault-process") == str(process):
                return answer
            if method != "GET":
                raise AssertionError(f"{method} {path} went to another process; aim only "
                                     "GETs with via()")
        raise AssertionError(f"no connection reached process {process}")

    def any(self, method: str, path: str, token: str | None = None,
            **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **options)

    def login(self, user: str, password: str = PASSWORD) -> str:
        answer = self.any("POST", "/api/v1/login", json={"username": user, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    def pids(self) -> dict[int, int]:
        """Process number -> pid (each process holds its own repository lock, and its
        health says whose it is)."""
        return {process: int(self.via(process, "GET", "/health").json()["lock"]["holder_pid"])
                for process in range(PROCESSES)}


@pytest.fixture
def cluster(initialised: Env) -> Iterator[Cluster]:
    initialised.set(server_port=str(free_port()), server_workers=str(PROCESSES),
                    repository_check_interval="0.2")
    initialised.vars["PIXELVAULT_ROOT_PASSWORD"] = ROOT_PASSWORD
    initialised.cli("admin", "start", check=True)
    try:
        yield Cluster(initialised)
    finally:
        initialised.cli("admin", "stop")


def _people(cluster: Cluster, tmp_path: Path) -> tuple[str, int, int]:
    """A read-annotate group with alice and bob, alice's image; root's token."""
    root = cluster.login("root", ROOT_PASSWORD)
    group = cluster.any("POST", "/api/v1/groups", root,
                        json={"name": "lab", "type": "read-annotate"}).json()["id"]
    for name in ("alice", "bob"):
        made = cluster.any("POST", "/api/v1/users", root, json={
            "username": name, "groups": [group], "password": PASSWORD})
        assert made.status_code == 201, made.text
    imported = json.loads(cluster.env.cli(
        "import", str(timelapse(tmp_path, "cells.ome.tif")), "--local", "--user", "alice",
        "-o", "json", check=True).stdout)
    return root, group, imported["imported"][0]["images"][0]


def test_what_one_process_changes_every_other_knows_at_once(cluster: Cluster,
                                                            tmp_path: Path) -> None:
    root, group, image = _people(cluster, tmp_path)
    bob = cluster.login("bob")
    alice = cluster.login("alice")

    # a logout through one process ends the session in the other, whose memory has it
    assert cluster.via(1, "GET", "/api/v1/whoami", bob).status_code == 200
    assert cluster.via(0, "GET", "/api/v1/whoami", bob).status_code == 200
    out = cluster.any("POST", "/api/v1/logout", bob)
    assert out.status_code in (200, 204), out.text
    for process in range(PROCESSES):
        assert cluster.via(process, "GET", "/api/v1/whoami", bob).status_code == 401

    # a group made private: bob's other session no longer reads alice's image anywhere
    bob = cluster.login("bob")
    facts = f"/webgateway/imgData/{image}/"
    for process in range(PROCESSES):
        assert cluster.via(process, "GET", facts, bob).status_code == 200
    assert cluster.any("PATCH", f"/api/v1/groups/{group}", root,
                       json={"type": "private"}).status_code == 200
    for process in range(PROCESSES):
        assert cluster.via(process, "GET", facts, bob).status_code == 404

    # new rendering settings saved through any process: every process renders them
    settings = f"/api/v1/images/{image}/rendering"
    before = {process: cluster.via(process, "GET", settings, alice).json()
              for process in range(PROCESSES)}
    assert before[0] == before[1]
    changed = before[0] | {"model": "greyscale" if before[0]["model"] != "greyscale"
                           else "color"}
    saved = cluster.any("PUT", settings, alice, json=changed)
    assert saved.status_code == 200, saved.text
    for process in range(PROCESSES):
        assert cluster.via(process, "GET", settings, alice).json()["model"] == changed["model"]

    # a password changed: the user's sessions end in every process
    me = cluster.any("GET", "/api/v1/whoami", alice).json()["user_id"]
    for process in range(PROCESSES):
        assert cluster.via(process, "GET", "/api/v1/whoami", alice).status_code == 200
    assert cluster.any("PUT", f"/api/v1/users/{me}/password", root,
                       json={"new_password": "another horse battery"}).status_code == 204
    for process in range(PROCESSES):
        assert cluster.via(process, "GET", "/api/v1/whoami", alice).status_code == 401

    # a deleted image is gone from every process's memory of it
    alice = cluster.login("alice", "another horse battery")
    for process in range(PROCESSES):
        assert cluster.via(process, "GET", facts, alice).status_code == 200
    fileset = cluster.any("GET", f"/api/v1/images/{image}/metadata", alice).json()["fileset"]
    assert cluster.any("POST", "/api/v1/delete", alice,
                       json={"target": f"Fileset:{fileset['id']}"}).status_code == 200
    for process in range(PROCESSES):
        assert cluster.via(process, "GET", facts, alice).status_code == 404

    # failed logins count in the catalog: whichever process answers, five are the limit
    wrong = {"username": "bob", "password": "not bob's"}
    for _ in range(5):
        assert cluster.any("POST", "/api/v1/login", json=wrong).status_code == 401
    right = {"username": "bob", "password": PASSWORD}
    answers = {cluster.any("POST", "/api/v1/login", json=right).status_code for _ in range(6)}
    assert answers == {429}


# the parent and its children behave alike on either catalog: the kill and the indexer's
# takeover run on the embedded one (the cache test above runs on both)
SQLITE_ONLY = pytest.mark.parametrize("env", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_a_killed_process_is_replaced_while_the_others_answer(cluster: Cluster) -> None:
    before = cluster.pids()
    parent = int(cluster.env.settings().pid_file.read_text().strip())
    assert parent not in before.values() and len(set(before.values())) == PROCESSES
    os.kill(before[1], signal.SIGKILL)
    # the other answers meanwhile, and the port never refuses a connection
    for _ in range(20):
        assert cluster.any("GET", "/health").status_code == 200

    def replaced() -> bool:
        try:
            return cluster.pids()[1] != before[1]
        except (AssertionError, httpx.HTTPError):
            return False

    wait_for(replaced, timeout=30)
    after = cluster.pids()
    assert after[0] == before[0]
    # health and `admin status` list the processes alive, by their heartbeats
    listed = cluster.any("GET", "/health").json()["processes"]
    assert set(after.values()) <= {p["pid"] for p in listed}
    assert {p["host"] for p in listed} == {socket.gethostname()}
    assert all(p["last_seen"] < 30 and p["version"] for p in listed)
    status = cluster.env.cli("admin", "status").stdout
    assert all(f"pid {pid}" in status for pid in after.values()), status
    assert cluster.env.cli("admin", "stop").returncode == 0
    for pid in (parent, *after.values()):
        assert not Path(f"/proc/{pid}").exists()


@SQLITE_ONLY
def test_exactly_one_process_indexes_and_another_takes_over(cluster: Cluster,
                                                            tmp_path: Path) -> None:
    root = cluster.login("root", ROOT_PASSWORD)
    made = cluster.any("POST", "/api/v1/projects", root, json={"name": "zebrafish-early"})
    assert made.status_code == 201

    def found(name: str, process: int) -> bool:
        answer = cluster.via(process, "GET", f"/api/v1/search?q={name}", root)
        return answer.status_code == 200 and answer.json()["total"] == 1

    for process in range(PROCESSES):  # whoever indexed it, every process finds it
        wait_for(lambda process=process: found("zebrafish", process), timeout=20)
    leader_lines = [line for line in cluster.env.settings().log_file.read_text().splitlines()
                    if "this process indexes for search" in line]
    assert len(leader_lines) == 1, leader_lines
    leader = int(leader_lines[0].rsplit("pid ", 1)[1].rstrip(")"))
    assert leader in cluster.pids().values()
    if cluster.env.backend == "postgresql":  # chosen through the catalog, for every host
        import psycopg

        with psycopg.connect(cluster.env.settings().db_url) as conn:
            holders = conn.execute("SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a "
                                   "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND "
                                   "l.granted").fetchall()
        assert len(holders) == 1, holders
    os.kill(leader, signal.SIGKILL)
    cluster.any("POST", "/api/v1/projects", root, json={"name": "medaka-late"})
    for process in range(PROCESSES):
        wait_for(lambda process=process: found("medaka", process), timeout=30)
    lines = [line for line in cluster.env.settings().log_file.read_text().splitlines()
             if "this process indexes for search" in line]
    assert len(lines) == 2 and str(leader) not in lines[1]
