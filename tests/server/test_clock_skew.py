"""A host whose clock is 20 minutes ahead (libfaketime) shares a PostgreSQL catalog with
a host on time: sessions made on either are good on both, with lifetimes by the
catalog's clock, and the skewed host's heartbeat is seen as fresh."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import _base_env
from tests.server.test_lifecycle import free_port, wait_for

ROOT_PASSWORD = "root-secret-1"
SKEW = "+20m"  # past the 15 minutes of idle time the sessions are given


@pytest.fixture
def two_hosts(tmp_path: Path, pg_database: str) -> Iterator[dict[str, str]]:
    found = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
    if not found:
        pytest.skip("faketime is not installed: run the suite with `make test`")
    data_dir = tmp_path / "share" / "OMERO"
    urls, started = {}, []
    for name in ("on-time", "ahead"):
        home = tmp_path / name
        home.mkdir()
        port = free_port()
        env = {**_base_env(home), "PIXELVAULT_DB_URL": pg_database,
               "PIXELVAULT_DATA_DIR": str(data_dir), "PIXELVAULT_SERVER_PORT": str(port),
               "PIXELVAULT_SESSION_IDLE_TIMEOUT": "900",
               "PIXELVAULT_ROOT_PASSWORD": ROOT_PASSWORD}
        if name == "on-time":
            subprocess.run([sys.executable, "-m", "pixelvault", "admin", "init"], env=env,
                           check=True, capture_output=True)
        if name == "ahead":  # this process's clocks only
            env |= {"LD_PRELOAD": str(found[0]), "FAKETIME": SKEW}
        started.append(subprocess.Popen([sys.executable, "-m", "pixelvault", "serve"],
                                        env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE))
        urls[name] = f"http://127.0.0.1:{port}"
    try:
        for url in urls.values():
            wait_for(lambda url=url: _healthy(url), timeout=60)
        yield urls
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
            try:
                print(process.communicate(timeout=30)[1].decode(errors="replace"))
            except subprocess.TimeoutExpired:  # never leave a server behind
                process.kill()
                process.communicate()


def _healthy(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    return False


def _login(url: str) -> dict[str, str]:
    answer = httpx.post(f"{url}/api/v1/login", json={"username": "root",
                                                     "password": ROOT_PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_sessions_and_heartbeats_keep_the_catalog_s_time(two_hosts: dict[str, str],
                                                         pg_database: str) -> None:
    ahead = httpx.get(f"{two_hosts['ahead']}/health", timeout=10).json()
    (mine,) = [p for p in ahead["processes"] if p["pid"] == ahead["process"]["pid"]]
    assert mine["last_seen"] < 10  # not 20 minutes in the future, nor long gone
    for made, used in (("on-time", "ahead"), ("ahead", "on-time")):
        headers = _login(two_hosts[made])
        answer = httpx.get(f"{two_hosts[used]}/api/v1/projects", headers=headers, timeout=30)
        assert answer.status_code == 200, (made, used, answer.text)
    with psycopg.connect(pg_database) as conn:
        rows = conn.execute("SELECT extract(epoch FROM now() - created_at), "
                            "extract(epoch FROM expires_at - created_at) "
                            "FROM login_session").fetchall()
    assert len(rows) == 2
    for age, lifetime in rows:  # both written with the catalog's clock
        assert abs(float(age)) < 60 and float(lifetime) == 43200
