"""Authenticated API requests per second, against a bare FastAPI route, same run.

Starts a real `pixelvault serve` (one uvicorn worker) on a fresh repository with
a user who sees 200 images, and a bare FastAPI app that returns the same JSON
bytes without any session check or query. A bounded async client on loopback
sends the same requests to both.

    .venv/bin/python benchmarks/api.py --requests 2000 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from pixelvault.catalog.models import Image, Permissions
from pixelvault.config import load_settings
from pixelvault.services.access import principals
from pixelvault.services.operations import setup
from pixelvault.services.vault import open_vault

# a benchmark of "one server process" says so: server.workers defaults to the CPUs
ONE_PROCESS = (sys.executable, "-m", "pixelvault", "serve", "--workers", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def load(url: str, headers: dict[str, str], total: int,
               concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        for _ in range(min(200, total)):  # warm up
            (await client.get(url)).raise_for_status()
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                start = time.perf_counter()
                (await client.get(url)).raise_for_status()
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return total / elapsed, latencies


def report(label: str, rate: float, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(f"  {label:<44} {rate:8.0f} req/s  p50 {statistics.median(ordered) * 1000:6.2f} ms"
          f"  p99 {p99 * 1000:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="pv-bench-api-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        env = {**os.environ, "PIXELVAULT_HOME": str(home),
               "PIXELVAULT_SERVER_PORT": str(free_port()),
               "PIXELVAULT_ROOT_PASSWORD": "bench-root-1"}
        env.pop("PIXELVAULT_DB_URL", None)
        env.pop("PIXELVAULT_DATA_DIR", None)
        settings = load_settings(env)
        setup.init_repository(settings)
        vault = open_vault(settings)
        root = vault.local_admin()
        group = principals.create_group(vault.catalog, root, "lab", Permissions.READ_ANNOTATE)
        alice = principals.create_user(vault.catalog, root, "alice", "A", "L", [group],
                                       password="bench-alice-1")
        with vault.catalog.session() as session:
            session.add_all(Image(name=f"image {i}", owner_id=alice, group_id=group)
                            for i in range(200))
        vault.close()

        base = settings.base_url
        procs.append(subprocess.Popen(list(ONE_PROCESS), env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_until_up(base + "/health")
        token = httpx.post(base + "/api/v1/login", json={
            "username": "alice", "password": "bench-alice-1"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        first = httpx.get(base + "/api/v1/images?limit=1", headers=auth).json()["data"][0]["id"]
        one_url, page_url = f"/api/v1/images/{first}", "/api/v1/images?limit=200"
        payloads = home / "payloads"
        payloads.mkdir()
        (payloads / "one.json").write_bytes(httpx.get(base + one_url, headers=auth).content)
        (payloads / "page.json").write_bytes(httpx.get(base + page_url, headers=auth).content)
        assert len(httpx.get(base + page_url, headers=auth).json()["data"]) == 200

        bare_port = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--port",
             str(bare_port), "--log-level", "warning"],
            env={**env, "PAYLOAD_DIR": str(payloads)}, cwd=Path(__file__).parent.parent,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        bare = f"http://127.0.0.1:{bare_port}"
        wait_until_up(bare + one_url)

        print(f"{args.requests} requests, concurrency {args.concurrency}, one worker each")
        for label, path in (("GET /api/v1/images/{id}", one_url),
                            ("GET /api/v1/images?limit=200", page_url)):
            floor_rate, floor_lat = asyncio.run(load(bare + path, {}, args.requests,
                                                     args.concurrency))
            ours_rate, ours_lat = asyncio.run(load(base + path, auth, args.requests,
                                                   args.concurrency))
            print(label)
            report("baseline: bare FastAPI, same JSON bytes", floor_rate, floor_lat)
            report("pixelvault: session check + permission query", ours_rate, ours_lat)
            print(f"  cost of session + permissions: {floor_rate / ours_rate:.2f}x the bare route")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
