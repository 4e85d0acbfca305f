"""Writing OME-Zarr 0.5 images: a pyramid built in one streaming pass.

The source is read a band of rows at a time; each band is cut into chunks for
the full-resolution array and halved (2x2 mean, every pixel type) into the
next level's band, and so on down to 256 pixels or less. Each level holds only
the rows its next chunk row needs, so memory stays a few bands whatever the
image's size; chunks are compressed on worker threads while the next band is
read. Per-channel minimum and maximum come from the same pass.

One huge image can also be built by several processes: :func:`split_shards`
cuts the full-resolution array into ranges of whole shards (shard files are
never shared, so no two writers touch one file), :func:`write_shards` writes
one range, and :func:`finish_pyramid`, once every range is written, streams
the smaller levels from the full-resolution array read back.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pixelvault.formats.zarr_shards import (
    Layout,
    ShardReader,
    ShardWriter,
    shard_path,
    shard_shape,
    write_metadata,
)

CHUNK = 512
SHARD_BYTES = 64 << 20  # uncompressed bytes per shard: a 16k x 16k uint16 plane is 8 files
SMALLEST = 256
AXES = ["t", "c", "z", "y", "x"]

BandReader = Callable[[int, int, int, int, int], np.ndarray]  # (z, c, t, y, height)
# (z, c, t, x, y, width, height)
RegionReader = Callable[[int, int, int, int, int, int, int], np.ndarray]
Progress = Callable[[float], None]
_LOCK = threading.Lock()  # shard files are appended to by one thread at a time


def level_sizes(size_x: int, size_y: int, smallest: int = SMALLEST) -> list[tuple[int, int]]:
    """(x, y) of every level, halving (rounding up) until both fit in ``smallest``."""
    sizes = [(size_x, size_y)]
    while max(sizes[-1]) > smallest:
        x, y = sizes[-1]
        sizes.append((math.ceil(x / 2), math.ceil(y / 2)))
    return sizes


def halve(band: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The 2x2 mean of a (rows, columns) band; an odd last row or column is repeated.

    Integers are averaged exactly and rounded (no overflow: summed in 64 bits),
    floats averaged as floats, bits by majority (two of four set is set)."""
    rows, cols = band.shape
    if rows % 2 or cols % 2:
        band = np.pad(band, ((0, rows % 2), (0, cols % 2)), mode="edge")
    a, b = band[0::2, 0::2], band[0::2, 1::2]
    c, d = band[1::2, 0::2], band[1::2, 1::2]
    if band.dtype == np.bool_:
        total = a.astype(np.uint8) + b + c + d
        return np.asarray(total >= 2)
    if band.dtype.kind == "f":
        quarter = band.dtype.type(0.25)
        return np.asarray(a * quarter + b * quarter + c * quarter + d * quarter,
                          dtype=band.dtype)
    wide = np.int64 if band.dtype.kind == "i" else np.uint64
    total = a.astype(wide) + b + c + d
    return np.asarray(np.floor_divide(total + 2, 4), dtype=band.dtype)


@dataclass
class Image:
    """What the pyramid describes: sizes, type, calibration and channels."""

    size_x: int
    size_y: int
    size_z: int
    size_c: int
    size_t: int
    dtype: np.dtype[Any]
    name: str = ""
    physical_size_x: float | None = None  # micrometres
    physical_size_y: float | None = None
    physical_size_z: float | None = None
    time_increment: float | None = None  # seconds
    channel_names: list[str] = field(default_factory=list)
    channel_colours: list[str] = field(default_factory=list)  # RRGGBB


def group_metadata(image: Image, levels: list[tuple[int, int]],
                   windows: list[tuple[float, float]] | None = None) -> dict[str, Any]:
    """The group's zarr.json: OME-Zarr 0.5 multiscales and OMERO channel settings."""
    base = [1.0, 1.0, image.physical_size_z or 1.0, image.physical_size_y or 1.0,
            image.physical_size_x or 1.0]
    axes: list[dict[str, Any]] = [
        {"name": "t", "type": "time", "unit": "second"}, {"name": "c", "type": "channel"},
        {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"}]
    if image.time_increment:
        base[0] = image.time_increment
    datasets = []
    for index, (x, y) in enumerate(levels):
        scale = list(base)
        scale[3] = base[3] * image.size_y / y
        scale[4] = base[4] * image.size_x / x
        datasets.append({"path": str(index), "coordinateTransformations": [
            {"type": "scale", "scale": scale}]})
    channels = []
    for c in range(image.size_c):
        low, high = windows[c] if windows and c < len(windows) else (0.0, 1.0)
        channels.append({
            "label": image.channel_names[c] if c < len(image.channel_names) else f"C{c}",
            "color": image.channel_colours[c] if c < len(image.channel_colours) else "FFFFFF",
            "active": True,
            "window": {"start": low, "end": high, "min": low, "max": high}})
    return {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
        "version": "0.5",
        "multiscales": [{"name": image.name, "axes": axes, "datasets": datasets}],
        "omero": {"channels": channels, "rdefs": {"model": "color"}}}}}


def level_layout(image: Image, size: tuple[int, int]) -> Layout:
    """The array layout of a level of ``size`` (x, y): 512x512 chunks in shards of
    about 64 MiB."""
    shape = (image.size_t, image.size_c, image.size_z, size[1], size[0])
    chunk = (1, 1, 1, min(CHUNK, size[1]), min(CHUNK, size[0]))
    return Layout(shape, chunk, shard_shape(shape, chunk, SHARD_BYTES, image.dtype.itemsize),
                  image.dtype)


class _Level:
    """One level's arrays being written: rows gather until a chunk row is complete.
    A level not ``written`` (already there) only halves its rows for the next."""

    def __init__(self, root: Path, index: int, image: Image, size: tuple[int, int],
                 written: bool = True) -> None:
        self.index = index
        self.size_x, self.size_y = size
        self.layout = level_layout(image, size)
        self.writer = ShardWriter(root / str(index), self.layout, AXES) if written else None
        self.pending: list[np.ndarray[Any, Any]] = []
        self.rows = 0  # rows of the current plane already written
        self.buffered = 0
        self.carry: np.ndarray[Any, Any] | None = None  # an odd row waiting for its pair

    def smaller(self, band: np.ndarray[Any, Any], final: bool) -> np.ndarray[Any, Any] | None:
        """The next level's rows from this band: rows are halved in pairs, an odd one
        kept for the next band (or repeated at the plane's end)."""
        if self.carry is not None:
            band = np.concatenate([self.carry, band])
            self.carry = None
        if band.shape[0] % 2 and not final:
            self.carry = band[-1:]
            band = band[:-1]
        return halve(band) if band.shape[0] else None

    def add(self, band: np.ndarray[Any, Any], plane: tuple[int, int, int], final: bool,
            pool: ThreadPoolExecutor, futures: list[Future[None]]) -> None:
        if self.writer is None:
            return
        self.pending.append(band)
        self.buffered += band.shape[0]
        chunk_rows = self.layout.chunk[3]
        while self.buffered >= chunk_rows or (final and self.buffered):
            joined = np.concatenate(self.pending) if len(self.pending) > 1 else self.pending[0]
            take = min(chunk_rows, joined.shape[0])
            rows, rest = joined[:take], joined[take:]
            self.pending = [rest] if rest.shape[0] else []
            self.buffered = rest.shape[0]
            self._emit(rows, plane, pool, futures)

    def _emit(self, rows: np.ndarray[Any, Any], plane: tuple[int, int, int],
              pool: ThreadPoolExecutor, futures: list[Future[None]]) -> None:
        t, c, z = plane
        chunk_y = self.rows // self.layout.chunk[3]
        self.rows += rows.shape[0]
        width = self.layout.chunk[4]
        for chunk_x in range(math.ceil(self.size_x / width)):
            tile = rows[:, chunk_x * width:(chunk_x + 1) * width]
            futures.append(pool.submit(self._store, (t, c, z, chunk_y, chunk_x), tile))

    def _store(self, index: tuple[int, ...], tile: np.ndarray[Any, Any]) -> None:
        assert self.writer is not None
        _store(self.writer, index, tile)

    def next_plane(self) -> None:
        self.rows = 0
        self.pending = []
        self.buffered = 0
        self.carry = None


def _store(writer: ShardWriter, index: tuple[int, ...], tile: np.ndarray[Any, Any]) -> None:
    encoded = writer.encode(tile[None, None, None])
    with _LOCK:
        writer.put(index, encoded)


def write_pyramid(target: Path, image: Image, read_band: BandReader, *,
                  progress: Progress | None = None, workers: int = 2,
                  smallest: int = SMALLEST) -> list[tuple[float, float]]:
    """Write ``image`` as an OME-Zarr 0.5 group at ``target``, every level of it; the
    per-channel (min, max) of the full-resolution pixels, NaN ignored."""
    return _stream(target, image, read_band, progress, workers, smallest, full=True)


def split_shards(image: Image, part_bytes: int) -> list[tuple[int, int]]:
    """The full-resolution array's shards cut into ``[first, last)`` ranges of about
    ``part_bytes`` (uncompressed) each, in the order they are stored; one range when
    the image is no bigger than that (or holds one shard)."""
    layout = level_layout(image, (image.size_x, image.size_y))
    count = math.prod(layout.shard_grid)
    per_shard = math.prod(layout.shard) * image.dtype.itemsize
    parts = max(1, min(count, math.ceil(count * per_shard / max(1, part_bytes))))
    bounds = [round(i * count / parts) for i in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def write_shards(target: Path, image: Image, read_region: RegionReader, first: int,
                 last: int, *, progress: Progress | None = None, workers: int = 2) -> None:
    """Write shards ``[first, last)`` (in storage order) of the full-resolution array
    of ``target``, each shard file whole; other writers write the other ranges."""
    layout = level_layout(image, (image.size_x, image.size_y))
    writer = ShardWriter(target / "0", layout, AXES, metadata=False)
    boxes = [_shard_box(layout, flat) for flat in range(first, last)]
    planes_rows = sum(len(box[0]) * len(box[1]) * len(box[2]) * len(box[3]) for box in boxes)
    done = 0
    chunk_y, chunk_x = layout.chunk[3], layout.chunk[4]
    futures: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for ts, cs, zs, ys, xs in boxes:
            x0, width = xs.start, len(xs)
            for t, c, z in itertools.product(ts, cs, zs):
                for y in range(ys.start, ys.stop, chunk_y):
                    height = min(chunk_y, ys.stop - y)
                    band = np.asarray(read_region(z, c, t, x0, y, width, height),
                                      dtype=image.dtype)
                    if band.shape != (height, width):
                        raise ValueError(f"a region of {band.shape}, expected "
                                         f"{(height, width)}")
                    for x in range(x0, xs.stop, chunk_x):
                        futures.append(pool.submit(
                            _store, writer, (t, c, z, y // chunk_y, x // chunk_x),
                            band[:, x - x0:x - x0 + chunk_x]))
                    while len(futures) > 64:  # a few bands queued at most: memory bounded
                        futures.pop(0).result()
                    done += height
                    if progress is not None:
                        progress(done / planes_rows)
        for future in futures:
            future.result()
    writer.close()


def _shard_box(layout: Layout, flat: int) -> list[range]:
    """The (t, c, z, y, x) ranges a shard covers, by its place in storage order."""
    shard = np.unravel_index(flat, layout.shard_grid)
    return [range(int(i) * size, min((int(i) + 1) * size, total))
            for i, size, total in zip(shard, layout.shard, layout.shape, strict=True)]


def finish_pyramid(target: Path, image: Image, *, progress: Progress | None = None,
                   workers: int = 2, smallest: int = SMALLEST) -> list[tuple[float, float]]:
    """Once every range of :func:`split_shards` is written: the smaller levels, from
    the full-resolution array read back, and the metadata; the per-channel (min, max).
    A shard missing (a writer's range lost) raises ValueError rather than reading
    as empty pixels."""
    layout = level_layout(image, (image.size_x, image.size_y))
    missing = [flat for flat in range(math.prod(layout.shard_grid))
               if not shard_path(target / "0", tuple(int(i) for i in np.unravel_index(
                   flat, layout.shard_grid))).is_file()]
    if missing:
        raise ValueError(f"shards {missing[:5]} of the full-resolution level are missing")
    write_metadata(target / "0", layout, AXES)
    with ShardReader(target / "0") as reader:
        def read_band(z: int, c: int, t: int, y: int, height: int) -> np.ndarray[Any, Any]:
            region = reader.read((slice(t, t + 1), slice(c, c + 1), slice(z, z + 1),
                                  slice(y, y + height), slice(None)))
            return np.asarray(region[0, 0, 0])
        return _stream(target, image, read_band, progress, workers, smallest, full=False)


def _stream(target: Path, image: Image, read_band: BandReader, progress: Progress | None,
            workers: int, smallest: int, *, full: bool) -> list[tuple[float, float]]:
    """The streaming pass: the full-resolution level too when ``full``, else only the
    smaller ones (the full one read through ``read_band``)."""
    levels = level_sizes(image.size_x, image.size_y, smallest)
    target.mkdir(parents=True, exist_ok=True)
    writers = [_Level(target, i, image, size, written=full or i > 0)
               for i, size in enumerate(levels)]
    band_rows = CHUNK * 2 if image.size_x <= 8192 else CHUNK
    lows = [math.inf] * image.size_c
    highs = [-math.inf] * image.size_c
    planes = image.size_t * image.size_c * image.size_z
    done = 0
    futures: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for t in range(image.size_t):
            for c in range(image.size_c):
                for z in range(image.size_z):
                    for level in writers:
                        level.next_plane()
                    for y in range(0, image.size_y, band_rows):
                        height = min(band_rows, image.size_y - y)
                        band = np.asarray(read_band(z, c, t, y, height), dtype=image.dtype)
                        if band.shape != (height, image.size_x):
                            raise ValueError(f"a band of {band.shape}, expected "
                                             f"{(height, image.size_x)}")
                        if band.size:
                            low, high = _range(band)
                            lows[c], highs[c] = min(lows[c], low), max(highs[c], high)
                        final = y + height >= image.size_y
                        current: np.ndarray[Any, Any] | None = band
                        for index, level in enumerate(writers):
                            if current is None:
                                break
                            level.add(current, (t, c, z), final, pool, futures)
                            if index + 1 < len(writers):
                                current = level.smaller(current, final)
                        # Keep at most a few bands of chunks queued: memory stays bounded.
                        while len(futures) > 64:
                            futures.pop(0).result()
                        if progress is not None:
                            progress((done + (y + height) / image.size_y) / planes)
                    done += 1
        for future in futures:
            future.result()
    for level in writers:
        if level.writer is not None:
            level.writer.close()
    ranges = [(float(lo), float(hi)) if lo <= hi else (0.0, 0.0)
              for lo, hi in zip(lows, highs, strict=True)]
    (target / "zarr.json").write_text(json.dumps(group_metadata(image, levels, ranges),
                                                 indent=2))
    return ranges


def _range(band: np.ndarray[Any, Any]) -> tuple[float, float]:
    if band.dtype.kind == "f":
        finite = band[np.isfinite(band)]
        if not finite.size:
            return math.inf, -math.inf
        return float(finite.min()), float(finite.max())
    return float(band.min()), float(band.max())
