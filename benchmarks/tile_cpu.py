"""CPU time per rendered tile, where it goes, and the rendered-tile cache against the floor.

An 8192x8192, 3-channel uint16 OME-TIFF is imported and its pyramid built (sharded
OME-Zarr, zstd). Then:

1. the work itself, in this process and without HTTP: for the same random 512x512
   tiles, the read and zstd decode, the lookup tables and the JPEG encode, timed
   apart (CPU time of this thread);
2. one `pixelvault serve` process with the tile cache off, loaded with wrk on random
   fresh tiles (one channel grey, then three channels blended): the server's CPU
   seconds (user + system, from /proc) over the tiles it answered, so everything
   a tile costs is counted: HTTP parsing, routing, the session check, the catalog's
   answer, the work;
3. the same server with its rendered-tile cache on, 16 connections asking for one
   tile with the same settings (a class looking at one slide), against a Starlette
   route returning the same pre-encoded bytes on the same HTTP parser (the floor).

    .venv/bin/python -m benchmarks.tile_cpu --size 8192 --seconds 8
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.api import ONE_PROCESS, free_port, wait_until_up
from benchmarks.imports import init_home
from benchmarks.render import FLOOR, import_with_pyramid, line, make_source, process_cpu, wrk

ONE = "1|0:2500$FFFFFF,-2,-3&m=c"  # channel 1 alone, white: a grey 16-bit tile
THREE = "1|0:2500$FF0000,2|0:3000$00FF00,3|0:4000$0000FF"


def stages(home: Path, image_id: int, channels: str, tiles: list[tuple[int, int]]) -> None:
    """The work of a tile, stage by stage, in this process (no HTTP, no catalog)."""
    os.environ["PIXELVAULT_HOME"] = str(home)
    from pixelvault.config import load_settings
    from pixelvault.render.encode import encode
    from pixelvault.render.engine import render
    from pixelvault.render.params import parse
    from pixelvault.services.pixels.access import buffer_for, pixels_info
    from pixelvault.services.rendering import settings as rendering
    from pixelvault.services.vault import open_vault

    vault = open_vault(load_settings())
    try:
        actor = vault.local_admin()
        with vault.catalog.session() as session:
            info = pixels_info(session, actor, image_id)
        effective = rendering.effective(vault, actor, image_id)
        query = dict(part.split("=", 1) for part in f"c={channels}".split("&"))
        asked = parse(query, effective.settings, info.size_z, info.size_t)
        buffer = buffer_for(vault, info)
        active = [c for c, ch in enumerate(asked.settings.channels) if ch.active]
        spent = {"read + zstd decode": 0.0, "lookup tables": 0.0, "JPEG encode": 0.0}
        for round_ in range(2):  # the first round warms the page cache
            for x, y in tiles:
                clock = time.thread_time()
                planes = {c: buffer.get_region(0, c, 0, x * 512, y * 512, 512, 512, 0)
                          for c in active}
                read = time.thread_time()
                rgb = render(planes, asked.settings)
                looked = time.thread_time()
                encode(rgb, "jpeg", 0.85)
                done = time.thread_time()
                if round_:
                    spent["read + zstd decode"] += read - clock
                    spent["lookup tables"] += looked - read
                    spent["JPEG encode"] += done - looked
        total = sum(spent.values())
        for label, seconds in spent.items():
            print(f"    {label:<24} {1000 * seconds / len(tiles):6.2f} ms")
        print(f"    {'the work':<24} {1000 * total / len(tiles):6.2f} ms")
    finally:
        vault.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="pv-bench-tile-cpu-", dir=args.dir))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        source = work / "cells.ome.tif"
        make_source(source, args.size)
        env = init_home(work / "home")
        env.update(PIXELVAULT_ROOT_PASSWORD="bench-root-1", PIXELVAULT_SEARCH_INDEXER="off",
                   PIXELVAULT_PIXELS_PYRAMID_WORKERS="0")
        image_id = import_with_pyramid(source, env)
        grid = args.size // 512
        tiles = [(x, y) for x in range(grid) for y in range(grid)]
        random.Random(0).shuffle(tiles)
        from pixelvault.config import load_settings

        parser_name = load_settings(env).http_parser

        print(f"512x512 JPEG tiles (q=0.85) of an {args.size}x{args.size} 3-channel uint16 "
              "image, its pyramid sharded OME-Zarr with zstd")
        for label, channels in (("one channel", ONE), ("three channels", THREE)):
            print(f"  the work of a fresh tile, {label}, in-process (thread CPU time):")
            stages(work / "home", image_id, channels, tiles[:200])

        def start(cache: str) -> tuple[str, dict[str, str], int]:
            port = free_port()
            processes.append(subprocess.Popen(
                list(ONE_PROCESS), env={**env, "PIXELVAULT_SERVER_PORT": str(port),
                                        "PIXELVAULT_RENDER_TILE_CACHE": cache},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url + "/health")
            token = httpx.post(f"{url}/api/v1/login", json={
                "username": "root", "password": "bench-root-1"}).json()["token"]
            return url, {"Authorization": f"Bearer {token}"}, processes[-1].pid

        url, headers, process = start("0")
        print(f"  one server process ({parser_name}), tile cache off, random fresh tiles, "
              f"wrk {args.seconds} s; CPU is the server's, over the tiles it answered:")
        for label, channels in (("one channel", ONE), ("three channels", THREE)):
            pattern = (f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,%d,%d"
                       f"&c={channels}&q=0.85")
            for connections in (1, 4):
                before = process_cpu(process)
                found = wrk(url, pattern, grid, connections, args.seconds, headers, work)
                spent = process_cpu(process) - before
                line(f"{label}, {connections} connection(s)", found,
                     f"CPU {1000 * spent / (found['rate'] * args.seconds):.2f} ms/tile")
        processes.pop().terminate()

        url, headers, process = start(str(64 << 20))
        same = f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,3,3&c={ONE}&q=0.85"
        first = httpx.get(url + same, headers=headers)
        first.raise_for_status()
        print("  one tile asked for again and again, 16 connections, against the floor:")
        before = process_cpu(process)
        cached = wrk(url, same, grid, 16, args.seconds, headers, work, args="x")
        spent = process_cpu(process) - before
        line("pixelvault, rendered-tile cache", cached,
             f"CPU {1000 * spent / (cached['rate'] * args.seconds):.2f} ms/tile")
        tile_file = work / "tile.jpg"
        tile_file.write_bytes(first.content)
        (work / "floor_app.py").write_text(FLOOR.format(tile=str(tile_file)))
        floor_port = free_port()
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(work), "floor_app:app",
             "--port", str(floor_port), "--log-level", "warning", "--http", parser_name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_until_up(f"http://127.0.0.1:{floor_port}/tile/x")
        floor = wrk(f"http://127.0.0.1:{floor_port}", "/tile/%d/%d", grid, 16, args.seconds,
                    {}, work)
        line(f"floor: Starlette route, pre-encoded bytes ({parser_name})", floor)
        print(f"  => the cached tile at {floor['rate'] / cached['rate']:.1f}x the floor's cost "
              "(aim: within 2x)")
    finally:
        for running in processes:
            running.terminate()
            running.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
