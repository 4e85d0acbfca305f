"""Pyramid builds, against tifffile writing the same pyramid, measured in the same run.

For each pixel type (uint16, then float32, which OMERO cannot pyramid at all): a
16384x16384 plane as a tiled OME-TIFF is imported (--skip minmax), then its
pyramid is built by `pixelvault admin pyramids run` in a process of its own
(page cache dropped first, when root): seconds, MB/s of input and peak memory.
The baseline reads the same file with tifffile, halves it level by level with
the same 2x2 mean, and writes a pyramidal OME-TIFF (512x512 tiles, zstd level 1,
levels as SubIFDs), also in a process of its own.

    .venv/bin/python -m benchmarks.pyramids --size 16384
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from benchmarks.files_store import drop_caches
from benchmarks.imports import init_home

BUILD = """
import resource, sys, time
from pixelvault.config import load_settings
from pixelvault.services.pixels import pyramids
from pixelvault.services.vault import open_vault
vault = open_vault(load_settings())
start = time.perf_counter()
built = pyramids.run_pending(vault)
seconds = time.perf_counter() - start
failed = pyramids.list_jobs(vault, vault.local_admin(), ["failed"])
assert built == 1 and not failed, (built, failed)
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

BASELINE = """
import resource, sys, time
import numpy as np, tifffile
from pixelvault.formats.ngff_write import halve, level_sizes
start = time.perf_counter()
data = tifffile.imread(sys.argv[1])
levels = [data]
while max(levels[-1].shape) > 256:
    levels.append(halve(levels[-1]))
with tifffile.TiffWriter(sys.argv[2], bigtiff=True, ome=True) as tif:
    options = dict(tile=(512, 512), compression="zstd", compressionargs={"level": 1},
                   photometric="minisblack")
    tif.write(levels[0], subifds=len(levels) - 1, **options)
    for level in levels[1:]:
        tif.write(level, subfiletype=1, **options)
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def make_source(path: Path, size: int, dtype: str) -> None:
    """A plane that compresses like microscopy: smooth structure, noise, background."""
    rng = np.random.default_rng(0)
    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        def tiles() -> Iterator[np.ndarray[Any, Any]]:
            for y in range(0, size, 512):
                rows = np.arange(y, y + 512)[:, None]
                cols = np.arange(size)[None, :]
                base = 800 + 600 * np.sin(rows / 97.0) * np.cos(cols / 131.0)
                strip = base + rng.normal(0, 40, (512, size))
                strip = strip.astype(dtype) if dtype == "float32" else \
                    strip.clip(0, 65535).astype(dtype)
                for x in range(0, size, 512):
                    yield strip[:, x:x + 512]
        tif.write(tiles(), shape=(size, size), dtype=dtype, tile=(512, 512),
                  photometric="minisblack", metadata={"axes": "YX"})


def run(env: dict[str, str], code: str, *args: str) -> tuple[float, int]:
    drop_caches()
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, check=True,
                          capture_output=True, text=True)
    seconds, rss = done.stdout.split()[-2:]
    return float(seconds), int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--types", default="uint16,float32")
    parser.add_argument("--dir", type=Path, default=None, help="where to work (a real disk)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pv-bench-pyramid-", dir=args.dir))
    try:
        for dtype in args.types.split(","):
            source = work / f"plane-{dtype}.ome.tif"
            make_source(source, args.size, dtype)
            megabytes = args.size * args.size * np.dtype(dtype).itemsize / 1e6
            print(f"{args.size}x{args.size} {dtype}: {megabytes:.0f} MB of pixels")
            env = init_home(work / f"home-{dtype}")
            env["PIXELVAULT_PIXELS_PYRAMID_WORKERS"] = "0"
            subprocess.run([sys.executable, "-m", "pixelvault", "import", str(source),
                            "--skip", "minmax", "--quiet"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            base_s, base_rss = run(env, BASELINE, str(source), str(work / "baseline.ome.tif"))
            print(f"  baseline: tifffile read + halve + write {base_s:7.2f} s "
                  f"{megabytes / base_s:7.1f} MB/s  peak {base_rss / 1024:6.0f} MiB")
            ours_s, ours_rss = run(env, BUILD)
            print(f"  pixelvault pyramid (OME-Zarr, sharded)  {ours_s:7.2f} s "
                  f"{megabytes / ours_s:7.1f} MB/s  peak {ours_rss / 1024:6.0f} MiB  "
                  f"= {base_s / ours_s:.2f}x the baseline's speed "
                  "(target: 150 MB/s, peak under 1 GiB)")
            (work / "baseline.ome.tif").unlink(missing_ok=True)
            shutil.rmtree(work / f"home-{dtype}", ignore_errors=True)
            source.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
