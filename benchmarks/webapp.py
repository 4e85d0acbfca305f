"""The web application in Debian's Chromium (Playwright), on a real `pixelvault serve`.

1. A --size x --size pyramidal image (uint8, a tiled OME-TIFF with its own levels,
   imported in place): from opening ``/?show=image-ID`` to the last tile of the first
   screen drawn (navigation timing plus that tile's responseEnd), and how many
   requests the screen took; baseline: the same tile URLs fetched with httpx, six at
   a time as a browser does (the server alone, without the page).
2. A dataset of --images images: from opening ``/?show=dataset-ID`` to every
   thumbnail of the first screen shown; baseline: one ``get_thumbnails`` of those
   images with httpx.
3. The application's own JavaScript and CSS, gzipped, with and without its
   libraries, next to OMERO.iviewer's published build (its wheel from PyPI,
   downloaded in the run).

    .venv/bin/python -m benchmarks.webapp [--size 16384] [--images 1000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import tifffile

from benchmarks.api import ONE_PROCESS, free_port
from benchmarks.imports import init_home
from benchmarks.render import serve

PASSWORD = "bench-root-1"
CHROMIUM = os.environ.get("PIXELVAULT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WEB = Path(__file__).parents[1] / "src" / "pixelvault" / "web"


def _pyramid(path: Path, size: int) -> None:
    """A tiled OME-TIFF with sub-resolutions down to one tile, written band by band."""
    levels = max(1, int(np.ceil(np.log2(size / 512))) + 1)
    y, x = np.mgrid[0:512, 0:size]
    band = ((x // 64 + y // 64) % 2 * 120 + (x * 255 // size) // 2).astype(np.uint8)
    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        def rows(height: int) -> Any:
            for _ in range(height // 512):
                for column in range(0, band.shape[1], 512):
                    yield band[:, column:column + 512]

        tif.write(rows(size), shape=(size, size), dtype=np.uint8, tile=(512, 512),
                  subifds=levels - 1, metadata={"axes": "YX"})
        for level in range(1, levels):
            side = size >> level
            small = band[::2 ** level, : side * 2 ** level: 2 ** level]
            tif.write(np.tile(small, (max(1, side // small.shape[0]), 1))[:side, :side],
                      tile=(512, 512) if side >= 512 else None, subfiletype=1)


def _import(env: dict[str, str], path: Path, *extra: str) -> list[int]:
    done = subprocess.run([sys.executable, "-m", "pixelvault", "import", str(path), "--local",
                           "-q", "-o", "json", *extra], env=env, check=True,
                          capture_output=True, text=True)
    return [i for f in json.loads(done.stdout)["imported"] for i in f["images"]]


def _gzipped(paths: list[Path]) -> int:
    return sum(len(gzip.compress(p.read_bytes(), 9)) for p in paths)


def _iviewer(work: Path) -> int | None:
    """OMERO.iviewer's published JavaScript and CSS, gzipped, from its PyPI wheel."""
    folder = work / "iviewer"
    done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                           "--only-binary", ":all:", "omero-iviewer", "-d", str(folder)],
                          capture_output=True, text=True)
    wheels = list(folder.glob("*.whl")) if done.returncode == 0 else []
    if not wheels:
        return None
    total = 0
    with zipfile.ZipFile(wheels[0]) as wheel:
        for name in wheel.namelist():
            if "/static/" in name and name.endswith((".js", ".css")) and \
                    not name.endswith(".map"):
                total += len(gzip.compress(wheel.read(name), 9))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="pv-bench-web-"))
    home = work / "home"
    home.mkdir()
    env = init_home(home)
    env["PIXELVAULT_ROOT_PASSWORD"] = PASSWORD
    print(f"pixelvault web application, {os.cpu_count()} cores, Chromium at {CHROMIUM}")
    started = time.perf_counter()
    big = work / "big.ome.tif"
    _pyramid(big, args.size)
    [image] = _import(env, big, "--transfer", "ln_s")
    print(f"  ({args.size}x{args.size} pyramid written and imported in "
          f"{time.perf_counter() - started:.0f} s)")
    folder = work / "many"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for number in range(args.images):
        tifffile.imwrite(folder / f"img{number:04d}.tif",
                         rng.integers(0, 255, (64, 64), dtype=np.uint8))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pixelvault", "import", str(folder), "--local", "-q",
                    "--dataset", "many", "-j", "2"], env=env, check=True,
                   capture_output=True)
    print(f"  ({args.images} images imported in {time.perf_counter() - started:.0f} s)")

    port = free_port()
    env["PIXELVAULT_SERVER_PORT"] = str(port)
    url = f"http://127.0.0.1:{port}"
    server = serve(list(ONE_PROCESS), env, f"{url}/health")
    try:
        token = httpx.post(f"{url}/api/v1/login", json={"username": "root",
                                                        "password": PASSWORD}).json()["token"]
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                              timeout=120)
        dataset = client.get("/api/v0/m/datasets/").json()["data"][0]["@id"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(base_url=url, viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            assert page.request.post("/api/v1/login", data={
                "username": "root", "password": PASSWORD}).ok
            page.goto("/")  # the page's own files in the cache, as for a returning user
            page.wait_for_load_state("networkidle")
            page.goto(f"/?show=image-{image}")
            page.wait_for_function("""() => {
                const c = document.querySelector('.map canvas');
                if (!c) return false;
                const d = c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data;
                return d[3] > 0;
            }""", timeout=120_000)
            page.wait_for_load_state("networkidle")
            timing: dict[str, Any] = page.evaluate("""() => {
                const all = performance.getEntriesByType('resource');
                const tiles = all.filter((e) => e.name.includes('render_image_region'));
                return {last: Math.max(...tiles.map((e) => e.responseEnd)), tiles:
                        tiles.map((e) => e.name), requests: all.length + 1};
            }""")
            tiles = timing["tiles"]

            def fetch(address: str) -> None:
                client.get(address).raise_for_status()

            started = time.perf_counter()
            with ThreadPoolExecutor(6) as pool:
                list(pool.map(fetch, [t.replace(url, "") for t in tiles]))
            direct = (time.perf_counter() - started) * 1000
            print(f"\n1. a {args.size}x{args.size} image, first screen at 1920x1080")
            print(f"  opened to the last tile drawn      {timing['last']:8.0f} ms "
                  f"({len(tiles)} tiles, {timing['requests']} requests in all)")
            print(f"  baseline: the same tiles by httpx  {direct:8.0f} ms (6 at a time)")

            page.goto(f"/?show=dataset-{dataset}")
            page.wait_for_function("""() => {
                const shown = [...document.querySelectorAll('img[data-image]')].filter((i) => {
                    const r = i.getBoundingClientRect();
                    return r.top < innerHeight && r.bottom > 0;
                });
                return shown.length > 0 && shown.every((i) => i.src.startsWith('data:'));
            }""", timeout=120_000)
            seen: dict[str, Any] = page.evaluate("""() => {
                const shown = [...document.querySelectorAll('img[data-image]')].filter((i) => {
                    const r = i.getBoundingClientRect();
                    return r.top < innerHeight && r.bottom > 0;
                });
                return {ms: performance.now(), ids: shown.map((i) => i.dataset.image)};
            }""")
            query = "&".join(f"id={i}" for i in seen["ids"])
            started = time.perf_counter()
            client.get(f"/webgateway/get_thumbnails/96/?{query}").raise_for_status()
            batch = (time.perf_counter() - started) * 1000
            print(f"\n2. a dataset of {args.images} images")
            print(f"  opened to the first screen of thumbnails {seen['ms']:8.0f} ms "
                  f"({len(seen['ids'])} thumbnails)")
            print(f"  baseline: one get_thumbnails by httpx    {batch:8.0f} ms")
            browser.close()
    finally:
        server.terminate()
        server.wait(30)

    own = _gzipped(sorted((WEB / "app").glob("*.js")) + sorted((WEB / "app").glob("*.css")))
    libraries = _gzipped([WEB / "node_modules/ol/dist/ol.js", WEB / "node_modules/ol/ol.css",
                          WEB / "node_modules/hash-wasm/dist/sha1.umd.min.js"])
    iviewer = _iviewer(work)
    print("\n3. JavaScript and CSS, gzipped")
    print(f"  pixelvault's own                 {own / 1024:8.1f} KiB")
    print(f"  pixelvault with its libraries    {(own + libraries) / 1024:8.1f} KiB")
    print("  OMERO.iviewer's published build  " + (f"{iviewer / 1024:8.1f} KiB" if iviewer
                                                  else "(its wheel could not be downloaded)"))


if __name__ == "__main__":
    main()
