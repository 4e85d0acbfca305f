"""Rendered tiles per second with one server process and with two, in the same run.

A 3-channel uint16 pyramidal image is imported; the server is started with
``--workers 1``, then ``--workers 2`` on the same repository, and wrk asks each
for random fresh 512x512 JPEG tiles over 16 connections. The aim on two cores:
two processes at least 1.8x one.

    .venv/bin/python -m benchmarks.processes --size 8192 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.api import free_port
from benchmarks.imports import init_home
from benchmarks.render import import_with_pyramid, line, make_source, process_cpu, serve, wrk

CONNECTIONS = 16


def tree_cpu(pid: int) -> float:
    """CPU seconds spent by ``pid`` and its children alive, from /proc: how many
    cores the servers keep busy (one process already decodes channels in threads)."""
    return sum(process_cpu(task) for task in [pid, *_children(pid)])


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_children(int(child))]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="pv-bench-processes-", dir=args.dir))
    try:
        source = work / "cells.ome.tif"
        make_source(source, args.size)
        env = init_home(work / "home")
        port = free_port()
        env.update(PIXELVAULT_SERVER_PORT=str(port), PIXELVAULT_ROOT_PASSWORD="bench-root-1",
                   PIXELVAULT_PIXELS_PYRAMID_WORKERS="0", PIXELVAULT_SEARCH_INDEXER="off",
                   PIXELVAULT_RENDER_TILE_CACHE="0")  # every tile rendered, none kept
        image_id = import_with_pyramid(source, env)
        url = f"http://127.0.0.1:{port}"
        grid = args.size // 512
        # a new window for each run: no tile is served from any cache
        pattern = "/webgateway/render_image_region/%d/0/0/?tile=0,%%d,%%d&c=1|0:%d$FF0000," \
                  "2|0:3000$00FF00,3|0:4000$0000FF&q=0.85"
        print(f"512x512 JPEG tiles of an {args.size}x{args.size} 3-channel uint16 image, wrk "
              f"on loopback, {CONNECTIONS} connections, {args.seconds} s each")
        rates = {}
        for count, window in ((1, 2500), (2, 2600)):
            process = serve([sys.executable, "-m", "pixelvault", "serve", "--workers",
                             str(count)], env, url + "/health")
            try:
                token = httpx.post(f"{url}/api/v1/login", json={
                    "username": "root", "password": "bench-root-1"}).json()["token"]
                before, clock = tree_cpu(process.pid), time.perf_counter()
                found = wrk(url, pattern % (image_id, window), grid, CONNECTIONS, args.seconds,
                            {"Authorization": f"Bearer {token}"}, work)
                cores = (tree_cpu(process.pid) - before) / (time.perf_counter() - clock)
                rates[count] = found["rate"]
                line(f"pixelvault serve --workers {count}", found,
                     f"servers busy: {cores:.2f} of {os.cpu_count()} CPUs")
            finally:
                process.terminate()
                process.wait(timeout=30)
        print(f"  two processes / one: {rates[2] / rates[1]:.2f}x  (aim: at least 1.8x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
