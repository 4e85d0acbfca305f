"""ROIs by the hundred thousand, and a 384-well plate, through a real `pixelvault serve`.

1. One 2048x2048 image gets --shapes polygons (8 vertices each, one ROI each) from a
   GeoJSON file POSTed to ``/api/v1/images/{id}/rois.geojson``; baseline: parsing the
   same file with the standard library's ``json``. Then OMERO.web's ROI table,
   ``/api/v0/m/rois/?image=ID`` (pages of 500 at random offsets), p50 against the same
   page from the catalog in this process without HTTP or JSON; the GeoJSON export's
   rate against ``json.dumps`` of the same features; and the server's peak RSS.
2. An OME-Zarr 0.5 plate of --rows x --columns wells, --fields fields each (64x64
   uint16): its import time (`pixelvault import --local`) against ``cp -r`` of the
   directory; then the plate grid (``/webgateway/plate/{id}/``) p50 against listing
   the same images through ``/api/v0/m/images/`` (pages of 500).

    .venv/bin/python -m benchmarks.rois_plates
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import tifffile

from benchmarks.api import ONE_PROCESS, free_port
from benchmarks.imports import init_home
from benchmarks.render import serve

PASSWORD = "bench-root-1"


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _features(count: int, size: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    out = []
    for number in range(count):
        cx, cy = rng.uniform(20, size - 20, 2)
        radius = rng.uniform(4, 15)
        ring = [[round(float(cx + radius * np.cos(a)), 2),
                 round(float(cy + radius * np.sin(a)), 2)] for a in angles]
        out.append({"type": "Feature", "geometry": {"type": "Polygon",
                                                    "coordinates": [[*ring, ring[0]]]},
                    "properties": {"objectType": "detection", "name": f"cell {number}"}})
    return out


def _p50(times: list[float]) -> float:
    return statistics.median(times) * 1000


def _import(env: dict[str, str], path: Path) -> tuple[float, list[int]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pixelvault", "import", str(path), "--local",
                           "-q", "-o", "json"], env=env, check=True, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - started
    return seconds, json.loads(done.stdout)["imported"][0]["images"]


def _plate(path: Path, rows: int, columns: int, fields: int) -> None:
    import zarr

    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    row_names = [chr(ord("A") + r) for r in range(rows)]
    rng = np.random.default_rng(1)
    wells: list[dict[str, Any]] = []
    for r, row in enumerate(row_names):
        for c in range(columns):
            well = root.create_group(f"{row}/{c + 1}")
            for f in range(fields):
                image = well.create_group(str(f))
                image.create_array("0", shape=(1, 1, 1, 64, 64), dtype=np.uint16,
                                   chunks=(1, 1, 1, 64, 64))[...] = \
                    rng.integers(0, 4000, (1, 1, 1, 64, 64), dtype=np.uint16)
                image.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": [
                    {"name": a, "type": t} for a, t in (("t", "time"), ("c", "channel"),
                                                        ("z", "space"), ("y", "space"),
                                                        ("x", "space"))],
                    "datasets": [{"path": "0", "coordinateTransformations": [
                        {"type": "scale", "scale": [1.0] * 5}]}]}]}
            well.attrs["ome"] = {"version": "0.5",
                                 "well": {"images": [{"path": str(f)} for f in range(fields)]}}
            wells.append({"path": f"{row}/{c + 1}", "rowIndex": r, "columnIndex": c})
    root.attrs["ome"] = {"version": "0.5", "plate": {
        "version": "0.5", "name": "bench plate", "rows": [{"name": n} for n in row_names],
        "columns": [{"name": str(c + 1)} for c in range(columns)], "wells": wells,
        "field_count": fields}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--columns", type=int, default=24)
    parser.add_argument("--fields", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pv-bench-rois-"))
    try:
        home = work / "home"
        home.mkdir()
        env = init_home(home)
        env["PIXELVAULT_ROOT_PASSWORD"] = PASSWORD
        env["PIXELVAULT_SEARCH_INDEXER"] = "off"
        image_path = work / "cells.ome.tif"
        tifffile.imwrite(image_path, np.zeros((2048, 2048), np.uint16), ome=True)
        _, [image_id] = _import(env, image_path)

        print(f"pixelvault ROIs and plates, {os.cpu_count()} cores")
        features = _features(args.shapes, 2048)
        source = work / "cells.geojson"
        source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        started = time.perf_counter()
        json.loads(source.read_bytes())
        parse = time.perf_counter() - started

        port = free_port()
        env["PIXELVAULT_SERVER_PORT"] = str(port)
        url = f"http://127.0.0.1:{port}"
        server = serve(list(ONE_PROCESS), env, f"{url}/health")
        try:
            token = httpx.post(f"{url}/api/v1/login", json={
                "username": "root", "password": PASSWORD}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            client = httpx.Client(base_url=url, headers=headers, timeout=600)
            rest_kib = _peak_kib(server.pid)
            started = time.perf_counter()
            added = client.post(f"/api/v1/images/{image_id}/rois.geojson",
                                content=source.read_bytes())
            seconds = time.perf_counter() - started
            assert added.status_code == 201, added.text
            print(f"\n1. {args.shapes} polygons ({source.stat().st_size >> 20} MiB of GeoJSON) "
                  "on one image")
            print(f"  GeoJSON import over HTTP        {args.shapes / seconds:10.0f} shapes/s "
                  f"({seconds:.2f} s)")
            print(f"  baseline: json.loads of it      {args.shapes / parse:10.0f} shapes/s "
                  f"({parse:.2f} s)")
            rng = np.random.default_rng(2)
            offsets = [int(o) for o in rng.integers(0, max(args.shapes - 500, 1), args.pages)]
            times = []
            for offset in offsets:
                started = time.perf_counter()
                page = client.get(f"/api/v0/m/rois/?image={image_id}&limit=500&offset={offset}")
                times.append(time.perf_counter() - started)
                assert page.status_code == 200 and len(page.json()["data"]) == 500
            from pixelvault.config import load_settings
            from pixelvault.services.objects import rois
            from pixelvault.services.vault import open_vault

            os.environ["PIXELVAULT_HOME"] = str(home)
            vault = open_vault(load_settings())
            local = []
            for offset in offsets:
                started = time.perf_counter()
                with vault.catalog.session() as session:
                    rois.page(session, vault.local_admin(), image_id=image_id,
                                         offset=offset, limit=500)
                local.append(time.perf_counter() - started)
            print(f"  m/rois/?image= page of 500, p50 {_p50(times):10.1f} ms")
            print(f"  baseline: the page from the catalog in-process {_p50(local):6.1f} ms")
            started = time.perf_counter()
            exported = client.get(f"/api/v1/images/{image_id}/rois.geojson")
            seconds = time.perf_counter() - started
            assert len(exported.json()["features"]) == args.shapes
            started = time.perf_counter()
            json.dumps({"type": "FeatureCollection", "features": features})
            dumps = time.perf_counter() - started
            print(f"  GeoJSON export over HTTP        {args.shapes / seconds:10.0f} shapes/s "
                  f"({seconds:.2f} s)")
            print(f"  baseline: json.dumps of them    {args.shapes / dumps:10.0f} shapes/s")
            print(f"  server peak RSS: {rest_kib >> 10} MiB before, "
                  f"{_peak_kib(server.pid) >> 10} MiB after")

            plate = work / "plate.ome.zarr"
            _plate(plate, args.rows, args.columns, args.fields)
            count = args.rows * args.columns * args.fields
            started = time.perf_counter()
            subprocess.run(["cp", "-r", str(plate), str(work / "copy.ome.zarr")], check=True)
            copy = time.perf_counter() - started
            seconds, images = _import(env, plate)
            assert len(images) == count
            print(f"\n2. a {args.rows * args.columns}-well plate, {args.fields} fields each "
                  f"({count} images of 64x64)")
            print(f"  import (--local)                {seconds:10.2f} s "
                  f"({count / seconds:.0f} images/s)")
            print(f"  baseline: cp -r of the plate    {copy:10.2f} s")
            [plate_row] = client.get("/api/v0/m/plates/").json()["data"]
            grid_times, list_times = [], []
            for _ in range(args.pages):
                started = time.perf_counter()
                grid = client.get(f"/webgateway/plate/{plate_row['@id']}/")
                grid_times.append(time.perf_counter() - started)
                assert grid.status_code == 200
                started = time.perf_counter()
                listed = 0
                for offset in range(0, count, 500):
                    listed += len(client.get(f"/api/v0/m/images/?limit=500&offset={offset}"
                                             ).json()["data"])
                list_times.append(time.perf_counter() - started)
            print(f"  plate grid JSON, p50            {_p50(grid_times):10.1f} ms")
            print(f"  baseline: m/images/ listing {listed} images, p50 "
                  f"{_p50(list_times):6.1f} ms")
            vault.close()
        finally:
            server.terminate()
            server.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
