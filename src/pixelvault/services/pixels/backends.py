"""What holds an image's pixels, one class each: the imported originals (through their
reader, with their own resolution levels), an OME-Zarr in the Pixels store (a
generated pyramid, or the pixels of an image created through the API), and
OMERO's legacy raw Pixels files."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from pixelvault.errors import CorruptFileError
from pixelvault.formats import Reader
from pixelvault.formats.ngff_write import AXES, CHUNK
from pixelvault.formats.omero_raw import OmeroRawPixels
from pixelvault.formats.zarr_shards import ShardReader


class OriginalBackend:
    """One series of an imported fileset, read through its format's reader.

    Readers keep file handles and parse state that is not safe to share between
    threads, so reads of one open file take turns."""

    def __init__(self, reader: Reader, series: int,
                 lock: threading.Lock | None = None) -> None:
        self.reader = reader
        self.series = series
        described = reader.metadata().series[series]
        self.levels = [(int(x), int(y)) for x, y in described.levels]
        self.tile_size = (CHUNK, CHUNK)
        self.lock = lock or threading.Lock()

    def check(self, sizes: tuple[int, int, int, int, int]) -> None:
        """The file must still hold what the catalog recorded at import."""
        found = self.reader.metadata().series
        if self.series >= len(found):
            raise CorruptFileError(f"{self.reader.used_files()[0].name} no longer holds "
                                   f"series {self.series}; it changed or was damaged after "
                                   "import (see `pixelvault fs sets --check`)")
        described = found[self.series]
        have = (described.size_x, described.size_y, described.size_z, described.size_c,
                described.size_t)
        if have != sizes:
            raise CorruptFileError(
                f"{self.reader.used_files()[0].name} now holds {'x'.join(map(str, have))} "
                f"pixels, not the {'x'.join(map(str, sizes))} imported; it changed or was "
                "damaged (see `pixelvault fs sets --check`)")

    def read(self, level: int, z: int, c: int, t: int, x: int, y: int, width: int,
             height: int) -> np.ndarray[Any, Any]:
        with self.lock:
            try:
                return self.reader.read(self.series, level, z, c, t, x, y, width, height)
            except IndexError as exc:
                raise CorruptFileError(f"{self.reader.used_files()[0].name}: {exc}; the file "
                                       "no longer matches what was imported (see `pixelvault "
                                       "fs sets --check`)") from None

    def close(self) -> None:
        with self.lock:
            self.reader.close()


def _group_levels(path: Path) -> list[str]:
    """The arrays of an OME-Zarr 0.5 group, full resolution first."""
    try:
        meta = json.loads((path / "zarr.json").read_text("utf-8"))
        datasets = meta["attributes"]["ome"]["multiscales"][0]["datasets"]
        return [str(d["path"]) for d in datasets]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise CorruptFileError(f"{path}: not an OME-Zarr image pixelvault wrote ({exc}); "
                               "rebuild it (`pixelvault admin pyramids retry`)") from None


class ZarrBackend:
    """An OME-Zarr 0.5 group of ours: every level read on the direct chunk path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.readers = [ShardReader(path / name) for name in _group_levels(path)]
        self.levels = [(r.layout.shape[4], r.layout.shape[3]) for r in self.readers]
        chunk = self.readers[0].layout.chunk
        self.tile_size = (chunk[4], chunk[3])

    def read(self, level: int, z: int, c: int, t: int, x: int, y: int, width: int,
             height: int) -> np.ndarray[Any, Any]:
        region = self.readers[level].read((slice(t, t + 1), slice(c, c + 1), slice(z, z + 1),
                                           slice(y, y + height), slice(x, x + width)))
        plane: np.ndarray[Any, Any] = region[0, 0, 0]
        return plane

    def close(self) -> None:
        for reader in self.readers:
            reader.close()


class CreatedBackend(ZarrBackend):
    """The pixels of an image created through the API: one level, written in place.

    Writes go through zarr-python (which rewrites the shards they touch), one
    writer at a time per image (a lock on the array's metadata file)."""

    def write(self, z: int, c: int, t: int, x: int, y: int,
              data: np.ndarray[Any, Any]) -> None:
        import zarr

        height, width = data.shape
        with _exclusive(self.path / "0" / "zarr.json"):
            array = zarr.open_array(str(self.path / "0"), mode="r+")
            array[t, c, z, y:y + height, x:x + width] = data
        for reader in self.readers:  # shard indexes changed: read them afresh
            reader.close()


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def create_store(path: Path, shape: tuple[int, int, int, int, int], dtype: np.dtype[Any],
                 name: str) -> None:
    """An empty OME-Zarr 0.5 image for API-created pixels: level 0 only, sharded so a
    large image is a handful of files, zero until written."""
    import zarr
    from zarr.codecs import BytesCodec, ZstdCodec

    from pixelvault.formats.ngff_write import Image, group_metadata
    from pixelvault.formats.zarr_shards import shard_shape

    size_t, size_c, size_z, size_y, size_x = shape
    chunk = (1, 1, 1, min(CHUNK, size_y), min(CHUNK, size_x))
    shard = shard_shape(shape, chunk, 32 << 20, dtype.itemsize)
    zarr.create_array(store=str(path / "0"), shape=shape, chunks=chunk, shards=shard,
                      dtype=dtype, fill_value=False if dtype == np.bool_ else 0,
                      compressors=[ZstdCodec(level=1, checksum=True)],
                      serializer=BytesCodec(endian="little"),
                      dimension_names=AXES, zarr_format=3)
    image = Image(size_x, size_y, size_z, size_c, size_t, dtype, name=name)
    (path / "zarr.json").write_text(json.dumps(group_metadata(image, [(size_x, size_y)]),
                                               indent=2))


class OmeroRawBackend:
    """An OMERO raw Pixels file: one level, memory-mapped, read-only."""

    def __init__(self, path: Path, sizes: tuple[int, int, int, int, int],
                 dtype: np.dtype[Any]) -> None:
        size_x, size_y, size_z, size_c, size_t = sizes
        self.file = OmeroRawPixels(path, size_x, size_y, size_z, size_c, size_t, dtype)
        self.levels = [(size_x, size_y)]
        self.tile_size = (min(size_x, CHUNK), min(size_y, CHUNK))

    def read(self, level: int, z: int, c: int, t: int, x: int, y: int, width: int,
             height: int) -> np.ndarray[Any, Any]:
        return self.file.read(z, c, t, x, y, width, height)

    def close(self) -> None:
        self.file.close()
