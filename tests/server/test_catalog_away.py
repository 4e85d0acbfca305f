"""The PostgreSQL catalog (and with it the job queue) goes away and comes back, behind a
TCP relay the test cuts: requests fail at once with 503 and a message, never hang;
the server and the job worker it started (`jobs.workers`) reconnect by themselves,
and the worker runs the jobs queued after."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from pixelvault.catalog.models import PyramidJob
from pixelvault.services import imports
from pixelvault.services.vault import open_vault
from tests.conftest import Env, _base_env
from tests.server.test_lifecycle import free_port, wait_for

ROOT_PASSWORD = "root-secret-1"


class Relay:
    """A TCP relay to the database that can be cut (every connection closed, new ones
    closed at once) and restored: the database host gone, then back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self._open.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def relay(pg_database: str) -> Iterator[tuple[Relay, str]]:
    parts = urlsplit(pg_database)
    found = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
    auth = parts.netloc.rsplit("@", 1)[0]
    yield found, urlunsplit(parts._replace(netloc=f"{auth}@127.0.0.1:{found.port}"))
    found.close()


def test_requests_fail_fast_while_the_catalog_is_away_and_everyone_reconnects(
        relay: tuple[Relay, str], pg_database: str, tmp_path: Path) -> None:
    import tifffile

    cut, through = relay
    home = tmp_path / "home"
    home.mkdir()
    env = Env(home, {**_base_env(home), "PIXELVAULT_DB_URL": through}, "postgresql")
    env.cli("admin", "init", check=True)
    port = free_port()
    # the server's pyramids are left to the job worker `serve` starts beside it
    env.set(server_port=str(port), pixels_pyramid_workers="0", jobs_workers="1",
            pixels_pyramid_threshold=str(1000 * 1000), jobs_stalled_after="3")
    env.vars["PIXELVAULT_ROOT_PASSWORD"] = ROOT_PASSWORD
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "pixelvault", "serve"], env=env.vars,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def processes() -> dict[str, int]:
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(f"{url}/health", timeout=5)
                if answer.status_code == 200:
                    return {p["kind"]: p["pid"] for p in answer.json()["processes"]}
            return {}

        wait_for(lambda: sorted(processes()) == ["server", "worker"], timeout=60)
        # the worker yields the CPU to the requests
        assert os.getpriority(os.PRIO_PROCESS, processes()["worker"]) == 10
        token = httpx.post(f"{url}/api/v1/login", json={
            "username": "root", "password": ROOT_PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        cut.cut()
        began = time.monotonic()
        away = httpx.get(f"{url}/api/v1/projects", headers=headers, timeout=60)
        assert time.monotonic() - began < 15  # an answer, not a hang
        assert away.status_code == 503 and away.headers["retry-after"] == "5"
        assert "the catalog is unavailable" in away.json()["message"]
        assert httpx.get(f"{url}/health", timeout=60).status_code == 503
        time.sleep(3)  # the worker's polls and heartbeats fail meanwhile

        cut.restore()
        wait_for(lambda: httpx.get(f"{url}/api/v1/projects", headers=headers,
                                   timeout=30).status_code == 200, timeout=20)
        # a job queued now is run by the worker, reconnected by itself
        vault = open_vault(env.settings())
        try:
            path = tmp_path / "large.ome.tif"
            tifffile.imwrite(path, np.zeros((1200, 1100), np.uint16), ome=True)
            outcome = imports.run(vault, vault.local_admin(), imports.plan([path]),
                                  imports.ImportOptions())
            assert not outcome.failed

            def built() -> bool:
                with vault.catalog.session() as session:
                    return session.scalar(select(PyramidJob.state)) == "done"

            wait_for(built, timeout=60)
        finally:
            vault.close()
        assert server.poll() is None
    finally:
        server.send_signal(signal.SIGTERM)
        log = server.communicate(timeout=30)[1].decode(errors="replace")
    assert "the catalog is unavailable" in log, log  # the worker's word
    assert server.returncode == 0, log
