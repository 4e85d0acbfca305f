"""Warm reads of random 512x512 tiles from a generated pyramid, against the floor.

A 16384x16384 uint16 plane is written as pixelvault writes pyramids (sharded
OME-Zarr 0.5, 512x512 chunks, zstd level 1) and as the equivalent pyramidal
OME-TIFF (512x512 tiles, zstd level 1). The same random tiles, read once to
warm the page cache, are then read:

- floor: ``os.pread`` of the chunk's bytes plus its decode (imagecodecs zstd);
- pixelvault: ``PixelBuffer.get_region`` through the pyramid's backend;
- tifffile: the tile's bytes read and decoded by ``TiffPage.decode``, and the
  zarr view most tifffile users read through (``zarr.open(tif.aszarr())``).

    .venv/bin/python -m benchmarks.tiles --size 16384 --tiles 500
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import tifffile

from pixelvault.formats.ngff_write import Image, write_pyramid
from pixelvault.formats.zarr_shards import ShardReader
from pixelvault.services.pixels.backends import ZarrBackend
from pixelvault.services.pixels.buffer import PixelBuffer


def timed(read: Callable[[int, int], Any], tiles: list[tuple[int, int]]) -> list[float]:
    for x, y in tiles:  # warm: page cache and open handles
        read(x, y)
    times = []
    for x, y in tiles:
        start = time.perf_counter()
        read(x, y)
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float], floor: float | None = None) -> float:
    p50 = statistics.median(times) * 1000
    p99 = sorted(times)[int(len(times) * 0.99) - 1] * 1000
    ratio = f"  = {p50 / floor:.2f}x the floor" if floor else ""
    print(f"  {label:<44} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms{ratio}")
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--tiles", type=int, default=500)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pv-bench-tiles-", dir=args.dir))
    size = args.size
    rng = np.random.default_rng(0)

    def band(z: int, c: int, t: int, y: int, height: int) -> np.ndarray[Any, Any]:
        rows = np.arange(y, y + height)[:, None]
        cols = np.arange(size)[None, :]
        base = 800 + 600 * np.sin(rows / 97.0) * np.cos(cols / 131.0)
        return np.asarray((base + rng.normal(0, 40, (height, size))).clip(0, 65535),
                          dtype=np.uint16)

    try:
        pyramid = work / "pyramid.ome.zarr"
        write_pyramid(pyramid, Image(size, size, 1, 1, 1, np.dtype(np.uint16)), band)
        level0 = ShardReader(pyramid / "0")
        full = np.empty((size, size), np.uint16)
        for y in range(0, size, 2048):
            full[y:y + 2048] = level0.read((slice(0, 1), slice(0, 1), slice(0, 1),
                                            slice(y, min(y + 2048, size)),
                                            slice(0, size)))[0, 0, 0]
        tiff = work / "pyramid.ome.tif"
        with tifffile.TiffWriter(tiff, bigtiff=True, ome=True) as writer:
            options: dict[str, Any] = {"tile": (512, 512), "compression": "zstd",
                                       "compressionargs": {"level": 1},
                                       "photometric": "minisblack"}
            writer.write(full, subifds=1, **options)
            writer.write(full[::2, ::2], subfiletype=1, **options)
        del full
        grid = size // 512
        tiles = [(int(rng.integers(grid)) * 512, int(rng.integers(grid)) * 512)
                 for _ in range(args.tiles)]
        print(f"{args.tiles} random 512x512 uint16 tiles of a {size}x{size} plane, warm")

        def floor_read(x: int, y: int) -> np.ndarray[Any, Any]:
            fd, index = level0._index((0, 0, 0, y // level0.layout.shard[3],
                                       x // level0.layout.shard[4]))
            assert index is not None
            local = (0, 0, 0, (y % level0.layout.shard[3]) // 512,
                     (x % level0.layout.shard[4]) // 512)
            offset, nbytes = (int(v) for v in index[local])
            data = os.pread(fd, nbytes, offset)
            return np.frombuffer(imagecodecs.zstd_decode(data), np.uint16).reshape(512, 512)

        floor = report("floor: os.pread + zstd decode", timed(floor_read, tiles))
        backend = ZarrBackend(pyramid)
        buffer = PixelBuffer(0, size, size, 1, 1, 1, "uint16", backend.levels, backend)
        report("pixelvault PixelBuffer.get_region", timed(
            lambda x, y: buffer.get_region(0, 0, 0, x, y, 512, 512), tiles), floor)
        np.testing.assert_array_equal(buffer.get_region(0, 0, 0, 512, 1024, 512, 512),
                                      floor_read(512, 1024))
        with tifffile.TiffFile(tiff) as tif:
            page = tif.pages[0]
            assert isinstance(page, tifffile.TiffPage)
            across = -(-size // 512)

            def tiff_read(x: int, y: int) -> np.ndarray[Any, Any]:
                index = (y // 512) * across + x // 512
                data = os.pread(tif.filehandle.fileno(), page.databytecounts[index],
                                page.dataoffsets[index])
                decoded, _, _ = page.decode(data, index)
                return np.asarray(decoded).reshape(512, 512)

            report("tifffile TiffPage.decode", timed(tiff_read, tiles), floor)
            import zarr

            view: Any = zarr.open(tif.aszarr(level=0), mode="r")
            report("tifffile zarr view (aszarr)", timed(
                lambda x, y: view[y:y + 512, x:x + 512], tiles), floor)
        backend.close()
        level0.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
