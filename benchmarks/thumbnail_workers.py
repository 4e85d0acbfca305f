"""Thumbnails made by 1 and 2 job workers while the server serves tiles, on PostgreSQL.

An 8192x8192 3-channel uint16 image with its pyramid serves random fresh 512x512
JPEG tiles (tile cache off) from one server process that runs no jobs itself
(``pixels.pyramid_workers = 0``); ``--images`` 512x512 uint16 images are imported
with ``--skip thumbnails``, so their thumbnails are queued as jobs. Each round
empties the thumbnail table, queues every thumbnail again and measures over the
same seconds of wrk load:

- tiles per second with no worker (the baseline, same run);
- with 1, then 2 ``pixelvault worker --queues thumbnails`` processes at niceness 10:
  the tiles per second (and how much they dropped) and the thumbnails made per
  second, counted in the catalog;
- the same workers with no tile load, for their rate alone.

Aim: the workers slow the tiles by under 20%.

    .venv/bin/python -m benchmarks.thumbnail_workers --images 1500 --seconds 6 \\
        --db postgresql://user:pass@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import tifffile

from benchmarks.api import ONE_PROCESS, free_port, wait_until_up
from benchmarks.render import import_with_pyramid, make_source, wrk
from benchmarks.scratch_pg import scratch_database

NICENESS = 10


def requeue(env: dict[str, str]) -> int:
    """Every thumbnail forgotten and queued again; how many."""
    code = """
from sqlalchemy import delete, select
from pixelvault.catalog.models import Image, Pixels, Thumbnail
from pixelvault.config import load_settings
from pixelvault.services.jobs import queue
from pixelvault.services.vault import open_vault
vault = open_vault(load_settings())
with vault.catalog.session() as session:
    session.execute(delete(Thumbnail))
    wanted = [(p, o) for p, o in session.execute(select(Pixels.id, Image.owner_id).join(
        Image, Image.id == Pixels.image_id).where(Image.name.like("small-%")))]
    queue.defer_thumbnails(session, wanted)
print(len(wanted))
vault.close()
"""
    return int(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                              capture_output=True, text=True).stdout)


def made(env: dict[str, str]) -> int:
    import psycopg

    with psycopg.connect(env["PIXELVAULT_DB_URL"].replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT count(*) FROM thumbnail").fetchone()
    return int(row[0]) if row else 0


def start_workers(env: dict[str, str], count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-m", "pixelvault", "worker", "-c", "1",
                              "--queues", "thumbnails"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=lambda: os.nice(NICENESS))
            for _ in range(count)]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1500)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--db", default=os.environ.get("PIXELVAULT_TEST_PG_URL", ""))
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    with scratch_database(args.db, "pv_bench_thumbs") as db_url:
        run(args, db_url)


def run(args: argparse.Namespace, db_url: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="pv-bench-thumbs-", dir=args.dir))
    server: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        env = {**os.environ, "PIXELVAULT_HOME": str(work / "home"),
               "PIXELVAULT_DB_URL": db_url,
               "PIXELVAULT_SERVER_PORT": str(port), "PIXELVAULT_ROOT_PASSWORD": "bench-root-1",
               "PIXELVAULT_SEARCH_INDEXER": "off", "PIXELVAULT_PIXELS_PYRAMID_WORKERS": "0",
               "PIXELVAULT_RENDER_TILE_CACHE": "0"}
        env.pop("PIXELVAULT_DATA_DIR", None)
        subprocess.run([sys.executable, "-m", "pixelvault", "admin", "init"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        source = work / "cells.ome.tif"
        make_source(source, args.size)
        image_id = import_with_pyramid(source, env)
        small = work / "small"
        small.mkdir()
        rng = np.random.default_rng(2)
        for index in range(args.images):
            tifffile.imwrite(small / f"small-{index:05d}.tif",
                             rng.integers(100, 4000, (512, 512), dtype=np.uint16))
        subprocess.run([sys.executable, "-m", "pixelvault", "import", str(small), "--skip",
                        "thumbnails", "--quiet", "--parallel", "2"], env=env, check=True,
                       stdout=subprocess.DEVNULL)

        server = subprocess.Popen(list(ONE_PROCESS), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/health")
        token = httpx.post(f"{url}/api/v1/login", json={
            "username": "root", "password": "bench-root-1"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        pattern = (f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,%d,%d"
                   "&c=1|0:2500$FF0000,2|0:3000$00FF00,3|0:4000$0000FF&q=0.85")
        grid = args.size // 512
        print(f"{args.images} thumbnails of 512x512 uint16 images queued on PostgreSQL; "
              f"random fresh 512x512 tiles of a 3-channel {args.size}^2 image, wrk 4 "
              f"connections, {args.seconds} s; workers at niceness {NICENESS}")
        alone = wrk(url, pattern, grid, 4, args.seconds, headers, work)
        print(f"  {'tiles, no worker (baseline)':<28} {alone['rate']:5.0f} tiles/s  "
              f"p50 {alone['p50']:6.2f} ms  p99 {alone['p99']:6.2f} ms")
        for count in (1, 2):
            for with_tiles in (True, False):
                queued = requeue(env)
                workers = start_workers(env, count)
                try:
                    time.sleep(2)  # started, connected, taking jobs
                    before, clock = made(env), time.perf_counter()
                    if with_tiles:
                        found = wrk(url, pattern, grid, 4, args.seconds, headers, work)
                    else:
                        threading.Event().wait(args.seconds)
                    done, seconds = made(env) - before, time.perf_counter() - clock
                finally:
                    stop(workers)
                note = " (queue ran dry: raise --images)" if before + done >= queued else ""
                if with_tiles:
                    print(f"  {f'tiles, {count} worker(s)':<28} {found['rate']:5.0f} "
                          f"tiles/s  p50 {found['p50']:6.2f} ms  p99 {found['p99']:6.2f} ms"
                          f"  ({1 - found['rate'] / alone['rate']:.0%} slower),"
                          f" {done / seconds:5.0f} thumbnails/s{note}")
                else:
                    print(f"  {f'no tiles, {count} worker(s)':<28} "
                          f"{done / seconds:5.0f} thumbnails/s{note}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
