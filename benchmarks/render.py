"""Rendered tiles and thumbnails per second, against the framework floor and tiled.

An 8192x8192, 3-channel uint16 OME-TIFF is imported and its pyramid built; then
one `pixelvault serve` process (2 cores) is loaded with wrk on loopback:

- random 512x512 JPEG tiles (`render_image_region ... tile=0,tx,ty`, three
  channels blended): tiles/s with 4 connections, p50/p99 with 1 connection;
- the same wrk load on a plain Starlette route returning one pre-encoded tile
  (the framework floor);
- tiled serving the same full-resolution array (its raw `array/block` and its
  PNG of the same region), installed in a virtual environment of its own;
- a cached thumbnail (p50, 1 connection), 1000 thumbnails of different images
  made from scratch (images/s), and `get_thumbnails` for 100 ids in one call.

    .venv/bin/python -m benchmarks.render --size 8192 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import tifffile
from PIL import Image

from benchmarks.api import ONE_PROCESS, free_port, wait_until_up
from benchmarks.imports import init_home

FLOOR = """
from pathlib import Path
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
TILE = Path({tile!r}).read_bytes()
async def tile(request):
    return Response(TILE, media_type="image/jpeg")
app = Starlette(routes=[Route("/tile/{{rest:path}}", tile)])
"""

TILED = """
import dask.array, zarr
from tiled.adapters.array import ArrayAdapter
from tiled.adapters.mapping import MapAdapter
from tiled.config import Authentication
from tiled.server.app import build_app
level = zarr.open_array({level!r}, mode="r")
data = dask.array.from_zarr(level)[0, 0, 0].rechunk((512, 512))
app = build_app(MapAdapter({{"image": ArrayAdapter.from_array(data)}}),
                authentication=Authentication(single_user_api_key="secret"))
"""

LUA = """
math.randomseed({seed})
request = function()
  local x = math.random(0, {grid} - 1)
  local y = math.random(0, {grid} - 1)
  return wrk.format("GET", string.format({pattern!r}, {args}), {headers})
end
"""


def make_source(path: Path, size: int) -> None:
    rng = np.random.default_rng(0)

    def tiles() -> Iterator[np.ndarray[Any, Any]]:
        for c in range(3):
            for y in range(0, size, 512):
                rows = np.arange(y, y + 512)[:, None]
                cols = np.arange(size)[None, :]
                base = 500 + 400 * (c + 1) * (np.sin(rows / (60.0 + 20 * c)) *
                                              np.cos(cols / 90.0)) ** 2
                strip = (base + rng.normal(0, 30, (512, size))).clip(0, 65535)
                strip = strip.astype(np.uint16)
                for x in range(0, size, 512):
                    yield strip[:, x:x + 512]

    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        tif.write(tiles(), shape=(3, size, size), dtype=np.uint16, tile=(512, 512),
                  photometric="minisblack", metadata={"axes": "CYX"})


def import_with_pyramid(source: Path, env: dict[str, str]) -> int:
    """``source`` imported and its pyramid built, in the repository of ``env``; its id."""
    made = json.loads(subprocess.run(
        [sys.executable, "-m", "pixelvault", "import", str(source), "--quiet", "-o", "json"],
        env=env, check=True, capture_output=True, text=True).stdout)
    subprocess.run([sys.executable, "-m", "pixelvault", "admin", "pyramids", "run"],
                   env=env, check=True, capture_output=True)
    return int(made["imported"][0]["images"][0])


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has spent, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, pattern: str, grid: int, connections: int, seconds: int,
        headers: dict[str, str], work: Path, args: str = "x, y") -> dict[str, float]:
    header = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"
    script = work / "random.lua"
    script.write_text(LUA.format(seed=connections, grid=grid, pattern=pattern, args=args,
                                 headers=header))
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                           "-s", str(script), url], check=True, capture_output=True,
                          text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", done)
    if bad:
        raise SystemExit(f"wrk saw {bad[1]} failed requests:\n{done}")

    def latency(percent: str) -> float:
        found = re.search(rf"\s{percent}%\s+([\d.]+)(us|ms|s)\b", done)
        assert found, done
        scale = {"us": 1e-3, "ms": 1.0, "s": 1000.0}[found[2]]
        return float(found[1]) * scale

    return {"rate": rate, "p50": latency("50"), "p99": latency("99")}


def serve(command: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_until_up(url)
    return process


def line(label: str, found: dict[str, float], note: str = "") -> None:
    print(f"  {label:<52} {found['rate']:8.0f} req/s  p50 {found['p50']:6.2f} ms  "
          f"p99 {found['p99']:6.2f} ms  {note}")


def tiled_env(work: Path) -> Path | None:
    """A virtual environment with tiled, beside ours (tiled is not our dependency); one
    made before at $TILED_VENV is used as it is."""
    if os.environ.get("TILED_VENV"):
        return Path(os.environ["TILED_VENV"])
    venv = work / "tiled-venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin/pip"), "install", "-q", "tiled[server]", "zarr",
                        "dask", "imagecodecs"], check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        print(f"  (tiled could not be installed: {exc.stderr[-300:] if exc.stderr else exc})")
        return None
    return venv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--thumbnails", type=int, default=1000)
    parser.add_argument("--no-tiled", action="store_true")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="pv-bench-render-", dir=args.dir))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        source = work / "cells.ome.tif"
        make_source(source, args.size)
        env = init_home(work / "home")
        port = free_port()
        env.update(PIXELVAULT_SERVER_PORT=str(port), PIXELVAULT_ROOT_PASSWORD="bench-root-1",
                   PIXELVAULT_PIXELS_PYRAMID_WORKERS="0",
                   PIXELVAULT_RENDER_TILE_CACHE="0")  # fresh tiles: rendered every time
        image_id = import_with_pyramid(source, env)
        pngs = work / "pngs"
        pngs.mkdir()
        rng = np.random.default_rng(1)
        for index in range(args.thumbnails):
            Image.fromarray(rng.integers(0, 255, (128, 160, 3), dtype=np.uint8)).save(
                pngs / f"cell-{index:05d}.png")
        small = json.loads(subprocess.run(
            [sys.executable, "-m", "pixelvault", "import", str(pngs), "--skip", "thumbnails",
             "--quiet", "-o", "json"], env=env, check=True, capture_output=True,
            text=True).stdout)
        small_ids = [r["images"][0] for r in small["imported"]]

        url = f"http://127.0.0.1:{port}"
        processes.append(serve(list(ONE_PROCESS), env,
                               url + "/health"))
        token = httpx.post(f"{url}/api/v1/login", json={
            "username": "root", "password": "bench-root-1"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        grid = args.size // 512
        pattern = f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,%d,%d&c=1|0:2500" \
                  "$FF0000,2|0:3000$00FF00,3|0:4000$0000FF&q=0.85"
        first = httpx.get(url + pattern % (1, 1), headers=headers)
        first.raise_for_status()
        print(f"512x512 JPEG tiles of an {args.size}x{args.size} 3-channel uint16 image, "
              f"one server process, wrk on loopback, {args.seconds} s each "
              f"(a tile is {len(first.content) / 1024:.0f} KiB)")
        ours = wrk(url, pattern, grid, 4, args.seconds, headers, work)
        one = wrk(url, pattern, grid, 1, args.seconds, headers, work)
        line("pixelvault render_image_region, 4 connections", ours)
        line("pixelvault render_image_region, 1 connection", one, "(aim: p50 < 5 ms)")

        tile_file = work / "tile.jpg"
        tile_file.write_bytes(first.content)
        floor_port = free_port()
        (work / "floor_app.py").write_text(FLOOR.format(tile=str(tile_file)))
        processes.append(serve([sys.executable, "-m", "uvicorn", "--app-dir", str(work),
                                "floor_app:app", "--port", str(floor_port), "--log-level",
                                "warning"], dict(os.environ),
                               f"http://127.0.0.1:{floor_port}/tile/x"))
        floor = wrk(f"http://127.0.0.1:{floor_port}", "/tile/%d/%d", grid, 4, args.seconds,
                    {}, work)
        line("floor: Starlette route with one pre-encoded tile", floor)

        tiled_rate = None
        if not args.no_tiled:
            venv = tiled_env(work)
            level = next((work / "home" / "OMERO" / "Pixels").rglob("*_pyramid")) / "0"
            if venv is not None:
                tiled_port = free_port()
                (work / "tiled_app.py").write_text(TILED.format(level=str(level)))
                processes.append(serve([str(venv / "bin/python"), "-m", "uvicorn",
                                        "--app-dir", str(work), "tiled_app:app", "--port",
                                        str(tiled_port), "--log-level", "warning"],
                                       dict(os.environ), f"http://127.0.0.1:{tiled_port}/"))
                key = {"Authorization": "Apikey secret"}
                block = wrk(f"http://127.0.0.1:{tiled_port}",
                            "/api/v1/array/block/image?block=%d,%d", grid, 4, args.seconds,
                            key, work, args="y, x")
                png = wrk(f"http://127.0.0.1:{tiled_port}",
                          "/api/v1/array/full/image?slice=%d:%d,%d:%d&format=image/png",
                          grid, 4, args.seconds, key, work,
                          args="y*512, y*512+512, x*512, x*512+512")
                line("tiled array/block (raw, no rendering), 4 connections", block)
                line("tiled array/full as PNG, 4 connections", png)
                tiled_rate = block["rate"]
        print(f"  => pixelvault renders {ours['rate']:.0f} tiles/s (aim: 300), "
              f"{ours['rate'] / floor['rate']:.1%} of the framework floor"
              + (f", {ours['rate'] / tiled_rate:.1f}x tiled's raw blocks" if tiled_rate else ""))

        thumb = f"/webgateway/render_thumbnail/{small_ids[0]}/?x=%d%d"
        httpx.get(url + thumb % (0, 0), headers=headers).raise_for_status()
        cached = wrk(url, thumb, grid, 1, min(args.seconds, 5), headers, work)
        line("cached thumbnail, 1 connection", cached, "(aim: p50 < 3 ms)")
        start = time.perf_counter()
        with httpx.Client(headers=headers, timeout=60) as client:
            for image in small_ids[1:]:
                client.get(f"{url}/webgateway/render_thumbnail/{image}/").raise_for_status()
        seconds = time.perf_counter() - start
        print(f"  {len(small_ids) - 1} thumbnails of different images made from scratch: "
              f"{(len(small_ids) - 1) / seconds:.0f} images/s "
              f"({1000 * seconds / (len(small_ids) - 1):.1f} ms each; OMERO logs 110-210 ms)")
        query = "&".join(f"id={i}" for i in small_ids[:100])
        start = time.perf_counter()
        answer = httpx.get(f"{url}/webgateway/get_thumbnails/?{query}", headers=headers,
                           timeout=60).json()
        print(f"  get_thumbnails for {len(answer)} ids in one call: "
              f"{1000 * (time.perf_counter() - start):.0f} ms (all stored now)")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
