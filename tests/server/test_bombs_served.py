"""A decompression bomb uploaded to a running server: refused (413) while /health keeps
answering; the finish waits on the heavy-work pool, not on a request thread."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from tests.server.conftest import Api, World
from tests.services.test_bombs import TIME_BOUND, zlib_strip_tiff


def test_health_answers_while_a_bomb_is_refused_through_the_server(
        api: Api, world: World, tmp_path: Path) -> None:
    path = zlib_strip_tiff(tmp_path / "strip.tif")
    data = path.read_bytes()
    alice = world.headers["alice"]
    made = api.client.post("/api/v1/imports", headers=alice, json={"files": [{
        "client_path": "/home/alice/strip.tif", "size": len(data),
        "checksum": hashlib.sha1(data).hexdigest()}]})  # noqa: S324 - OMERO's default
    url = f"/api/v1/imports/{made.json()['id']}"
    assert api.client.put(f"{url}/files/0?offset=0", headers=alice,
                          content=data).status_code == 200
    answers: list[int] = []

    def finish() -> None:
        answers.append(api.client.post(f"{url}/finish", headers=alice).status_code)

    worker = threading.Thread(target=finish)
    worker.start()
    health: list[tuple[int, float]] = []
    while worker.is_alive() and len(health) < 50:
        started = time.monotonic()
        health.append((api.client.get("/health").status_code, time.monotonic() - started))
    worker.join(TIME_BOUND)
    assert answers == [413]
    assert all(status == 200 for status, _ in health)
    assert api.client.get("/api/v1/images", headers=alice).json()["data"] == []
