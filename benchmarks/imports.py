"""Import throughput and memory, against baselines measured in the same run.

1. One large OME-TIFF (tiled, uint16) imported with SHA1-160, on this machine
   and uploaded through a running server, against `cp` followed by `sha1sum` of
   the same file (the target: at least 70% of its speed).
2. Many small PNG files, one image each: files per second (aim: 200/s).
3. Peak memory (max RSS) of the process that imported the large file.

    .venv/bin/python -m benchmarks.imports --size-mib 1024 --pngs 2000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from benchmarks.files_store import drop_caches

IMPORT_ONE = """
import resource, sys, time
from pathlib import Path
from pixelvault.config import load_settings
from pixelvault.services import imports
from pixelvault.services.vault import open_vault
vault = open_vault(load_settings())
start = time.perf_counter()
plan = imports.plan([Path(sys.argv[1])])
outcome = imports.run(vault, vault.local_admin(), plan,
                      imports.ImportOptions(minmax=sys.argv[2] != "no",
                                            thumbnails=sys.argv[2] != "nothumbs"))
seconds = time.perf_counter() - start
assert not outcome.failed, outcome.failed
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      sum(len(r.image_ids) for r in outcome.imported))
"""


UPLOAD_ONE = """
import sys, time
from pixelvault.client import connect
conn = connect(sys.argv[2], "root", "bench-root-1")
start = time.perf_counter()
result = conn.import_(sys.argv[1], minmax=False)
seconds = time.perf_counter() - start
assert not result["failed"], result["failed"]
print(seconds)
"""


def upload_through_server(home: Path, path: Path) -> float:
    """Import with a running server: the client hashes and uploads, the server re-hashes."""
    from benchmarks.api import ONE_PROCESS, free_port, wait_until_up

    env = init_home(home)
    port = free_port()
    env.update(PIXELVAULT_SERVER_PORT=str(port), PIXELVAULT_ROOT_PASSWORD="bench-root-1")
    server = subprocess.Popen(list(ONE_PROCESS), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/health")
        drop_caches()
        done = subprocess.run([sys.executable, "-c", UPLOAD_ONE, str(path), url], env=env,
                              check=True, capture_output=True, text=True)
        return float(done.stdout.split()[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)


def make_ome_tiff(path: Path, size_mib: int) -> None:
    planes = max(1, (size_mib << 20) // (2048 * 2048 * 2))
    rng = np.random.default_rng(0)
    plane = rng.integers(0, 4096, (2048, 2048), dtype=np.uint16)
    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        tif.write(np.broadcast_to(plane, (planes, 2048, 2048)), tile=(512, 512),
                  metadata={"axes": "ZYX"}, photometric="minisblack")


def init_home(home: Path) -> dict[str, str]:
    env = {**os.environ, "PIXELVAULT_HOME": str(home)}
    for key in ("PIXELVAULT_DB_URL", "PIXELVAULT_DATA_DIR"):
        env.pop(key, None)
    subprocess.run([sys.executable, "-m", "pixelvault", "admin", "init"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return env


def run_import(env: dict[str, str], path: Path, minmax: bool,
               thumbnails: bool = True) -> tuple[float, int, int]:
    drop_caches()
    mode = "nothumbs" if not thumbnails else "minmax" if minmax else "no"
    done = subprocess.run([sys.executable, "-c", IMPORT_ONE, str(path), mode], env=env,
                          check=True, capture_output=True, text=True)
    seconds, rss_kib, images = done.stdout.split()
    return float(seconds), int(rss_kib), int(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--pngs", type=int, default=10000)
    parser.add_argument("--dir", type=Path, default=None, help="where to work (a real disk)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pv-bench-import-", dir=args.dir))
    try:
        source = work / "source"
        source.mkdir()
        big = source / "stack.ome.tif"
        make_ome_tiff(big, args.size_mib)
        size = big.stat().st_size
        print(f"one OME-TIFF of {size / 1e6:.0f} MB, SHA1-160")
        drop_caches()
        start = time.perf_counter()
        shutil.copyfile(big, work / "copy.tif")
        os.sync()
        subprocess.run(["sha1sum", str(work / "copy.tif")], check=True,
                       stdout=subprocess.DEVNULL)
        baseline = time.perf_counter() - start
        (work / "copy.tif").unlink()
        print(f"  baseline: cp + sync + sha1sum            {baseline:7.2f} s "
              f"{size / baseline / 1e6:8.1f} MB/s")
        for minmax in (False, True):
            env = init_home(work / f"home-{minmax}")
            seconds, rss_kib, _ = run_import(env, big, minmax)
            label = "pixelvault import" + (" (+ min/max)" if minmax else " --skip minmax")
            print(f"  {label:<40} {seconds:7.2f} s {size / seconds / 1e6:8.1f} MB/s  "
                  f"= {baseline / seconds:.2f}x the baseline's speed, "
                  f"peak memory {rss_kib / 1024:.0f} MiB")
        seconds = upload_through_server(work / "home-upload", big)
        print(f"  {'upload through a server --skip minmax':<40} {seconds:7.2f} s "
              f"{size / seconds / 1e6:8.1f} MB/s  = {baseline / seconds:.2f}x the baseline's "
              "speed (target: 0.70x)")
        big.unlink()

        pngs = work / "pngs"
        pngs.mkdir()
        rng = np.random.default_rng(1)
        for index in range(args.pngs):
            Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).save(
                pngs / f"cell-{index:05d}.png")
        print(f"{args.pngs} PNG files of 64x64 pixels")
        drop_caches()
        start = time.perf_counter()
        for path in sorted(pngs.iterdir()):
            shutil.copyfile(path, work / "one.png")
        os.sync()
        copy_rate = args.pngs / (time.perf_counter() - start)
        print(f"  baseline: cp of each file + sync        {copy_rate:8.0f} files/s")
        env = init_home(work / "home-png")
        seconds, _, images = run_import(env, pngs, True)
        assert images == args.pngs
        print(f"  pixelvault import                        {args.pngs / seconds:8.0f} files/s "
              "(aim: 200/s)")
        env = init_home(work / "home-png-nothumbs")
        seconds, _, images = run_import(env, pngs, True, thumbnails=False)
        print(f"  pixelvault import --skip thumbnails      {args.pngs / seconds:8.0f} files/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
