"""Zarr v3 arrays in shards, written and read on a direct chunk path.

Our pixel stores are ordinary Zarr v3 (zarr-python, napari and ``ome-zarr-models``
read them), laid out so that one image is a handful of files: inner chunks of
512x512 compressed with zstd, gathered into shards (``sharding_indexed``, index
at the end, guarded by crc32c). zarr-python costs several milliseconds per chunk
here, most of it machinery; a tile read is one ``pread`` of a chunk's bytes plus
its decode, so this module does exactly that, for the layout it writes itself.

Writing streams: each shard file is appended to as its chunks arrive, in any
order, and its index is written once its last chunk has come, so a pyramid is
built without ever holding a shard in memory.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pixelvault.errors import CorruptFileError

EMPTY = 0xFFFF_FFFF_FFFF_FFFF  # offset and size of a chunk that was never written
_DATA_TYPES = {"bool": np.dtype(np.bool_), "int8": np.dtype(np.int8),
               "uint8": np.dtype(np.uint8), "int16": np.dtype("<i2"),
               "uint16": np.dtype("<u2"), "int32": np.dtype("<i4"),
               "uint32": np.dtype("<u4"), "float32": np.dtype("<f4"),
               "float64": np.dtype("<f8")}


def zarr_type(dtype: np.dtype[Any]) -> str:
    for name, known in _DATA_TYPES.items():
        if np.dtype(dtype).newbyteorder("<") == known or np.dtype(dtype) == known:
            return name
    raise ValueError(f"no Zarr v3 data type for {dtype}")


def _crc32c(data: bytes) -> int:
    import google_crc32c

    return int(google_crc32c.value(data))


def _encode(data: bytes, level: int) -> bytes:
    """zstd with its frame checksum, so a damaged chunk fails its decode instead of
    quietly yielding other pixels."""
    from numcodecs import Zstd

    return bytes(Zstd(level=level, checksum=True).encode(data))


def _decode(data: bytes) -> bytes:
    import imagecodecs

    decoded = imagecodecs.zstd_decode(data)
    return decoded if isinstance(decoded, bytes) else bytes(decoded)


@dataclass(frozen=True)
class Layout:
    """Shape, chunk and shard shapes, type and codec of one array."""

    shape: tuple[int, ...]
    chunk: tuple[int, ...]
    shard: tuple[int, ...]
    dtype: np.dtype[Any]
    level: int = 1  # zstd level

    @property
    def per_shard(self) -> tuple[int, ...]:
        return tuple(s // c for s, c in zip(self.shard, self.chunk, strict=True))

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        return tuple(math.ceil(n / c) for n, c in zip(self.shape, self.chunk, strict=True))

    @property
    def shard_grid(self) -> tuple[int, ...]:
        return tuple(math.ceil(n / s) for n, s in zip(self.shape, self.shard, strict=True))

    @property
    def fill(self) -> bool | int | float:
        return False if self.dtype == np.bool_ else 0.0 if self.dtype.kind == "f" else 0

    def metadata(self, dimension_names: list[str], sharded: bool = True) -> dict[str, Any]:
        """The array's zarr.json: in shards as stored, or (``sharded=False``) as plain
        chunks with the same codecs, as the chunks are served over HTTP."""
        inner: list[dict[str, Any]] = [
            {"name": "bytes", "configuration": {"endian": "little"}},
            {"name": "zstd", "configuration": {"level": self.level, "checksum": True}}]
        codecs = inner if not sharded else [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(self.chunk), "codecs": inner,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                             {"name": "crc32c"}],
            "index_location": "end"}}]
        grid = self.shard if sharded else self.chunk
        return {
            "zarr_format": 3, "node_type": "array", "shape": list(self.shape),
            "data_type": zarr_type(self.dtype),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(grid)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": self.fill, "codecs": codecs, "attributes": {},
            "dimension_names": dimension_names}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Layout:
        """The layout of an array this module wrote; ValueError for any other."""
        if meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
            raise ValueError("not a Zarr v3 array")
        codecs = meta.get("codecs") or []
        if len(codecs) != 1 or codecs[0].get("name") != "sharding_indexed":
            raise ValueError("not a sharded array")
        config = codecs[0]["configuration"]
        inner = config["codecs"]
        if [c["name"] for c in inner] != ["bytes", "zstd"] or \
                inner[0].get("configuration", {}).get("endian", "little") != "little" or \
                config.get("index_location", "end") != "end" or \
                [c["name"] for c in config["index_codecs"]] != ["bytes", "crc32c"]:
            raise ValueError("a codec chain this reader does not take")
        key = meta.get("chunk_key_encoding", {})
        if key.get("name") != "default" or \
                key.get("configuration", {}).get("separator", "/") != "/":
            raise ValueError("another chunk key encoding")
        return cls(shape=tuple(int(n) for n in meta["shape"]),
                   chunk=tuple(int(n) for n in config["chunk_shape"]),
                   shard=tuple(int(n) for n in meta["chunk_grid"]["configuration"]
                               ["chunk_shape"]),
                   dtype=_DATA_TYPES[meta["data_type"]],
                   level=int(inner[1].get("configuration", {}).get("level", 1)))


def shard_shape(shape: tuple[int, ...], chunk: tuple[int, ...],
                target_bytes: int, itemsize: int) -> tuple[int, ...]:
    """Shards of about ``target_bytes`` (uncompressed): whole chunks, growing the
    innermost axes first (a plane's tiles, then neighbouring planes)."""
    shard = list(chunk)
    for axis in reversed(range(len(shape))):
        full = math.ceil(shape[axis] / chunk[axis]) * chunk[axis]
        while shard[axis] < full:
            grown = shard[axis] + chunk[axis]
            if math.prod([*shard[:axis], grown, *shard[axis + 1:]]) * itemsize > target_bytes:
                return tuple(shard)
            shard[axis] = grown
    return tuple(shard)


def write_metadata(path: Path, layout: Layout, dimension_names: list[str]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "zarr.json").write_text(json.dumps(layout.metadata(dimension_names), indent=2))


def shard_path(root: Path, shard: tuple[int, ...]) -> Path:
    return root.joinpath("c", *(str(i) for i in shard))


class _OpenShard:
    def __init__(self, path: Path, chunks: int, per_shard: tuple[int, ...]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.handle = path.open("wb")
        self.index = np.full((*per_shard, 2), EMPTY, dtype="<u8")
        self.expected = chunks
        self.written = 0
        self.offset = 0

    def add(self, local: tuple[int, ...], encoded: bytes) -> None:
        self.handle.write(encoded)
        self.index[local] = (self.offset, len(encoded))
        self.offset += len(encoded)
        self.written += 1

    def finish(self) -> None:
        index = self.index.tobytes()
        self.handle.write(index + struct.pack("<I", _crc32c(index)))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()


def encode_chunk(layout: Layout, data: np.ndarray[Any, Any]) -> bytes:
    """A chunk's bytes as stored: padded to the full chunk shape, then compressed."""
    if data.shape != layout.chunk:
        padded = np.full(layout.chunk, layout.fill, dtype=layout.dtype)
        padded[tuple(slice(0, n) for n in data.shape)] = data
        data = padded
    return _encode(np.ascontiguousarray(data, dtype=layout.dtype.newbyteorder("<"))
                   .tobytes(), layout.level)


class ShardWriter:
    """Writes one array's chunks, shard files appended to as the chunks come."""

    def __init__(self, path: Path, layout: Layout, dimension_names: list[str], *,
                 metadata: bool = True) -> None:
        """``metadata=False``: the array's zarr.json is written by whoever finishes it
        (one of several writers of its shards)."""
        self.path = path
        self.layout = layout
        if metadata:
            write_metadata(path, layout, dimension_names)
        self._open: dict[tuple[int, ...], _OpenShard] = {}

    def _chunks_in(self, shard: tuple[int, ...]) -> int:
        """How many chunks of the grid a shard holds (fewer at the array's edges)."""
        count = 1
        for index, per, grid in zip(shard, self.layout.per_shard, self.layout.chunk_grid,
                                    strict=True):
            count *= min(per, grid - index * per)
        return count

    def encode(self, data: np.ndarray[Any, Any]) -> bytes:
        return encode_chunk(self.layout, data)

    def put(self, index: tuple[int, ...], encoded: bytes) -> None:
        """Store chunk ``index`` (of the chunk grid), already ``encode``d."""
        per = self.layout.per_shard
        shard = tuple(i // p for i, p in zip(index, per, strict=True))
        local = tuple(i % p for i, p in zip(index, per, strict=True))
        opened = self._open.get(shard)
        if opened is None:
            opened = self._open[shard] = _OpenShard(shard_path(self.path, shard),
                                                    self._chunks_in(shard), per)
        opened.add(local, encoded)
        if opened.written == opened.expected:
            opened.finish()
            del self._open[shard]

    def close(self) -> None:
        """Finish shards that were not filled (their missing chunks read as fill)."""
        for opened in self._open.values():
            opened.finish()
        self._open.clear()


class ShardReader:
    """Reads chunks and regions of an array written by ``ShardWriter``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            meta = json.loads((path / "zarr.json").read_text("utf-8"))
            self.layout = Layout.from_metadata(meta)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorruptFileError(f"{path}: not a pixel array pixelvault wrote "
                                   f"({exc})") from None
        self._indexes: dict[tuple[int, ...], tuple[int, np.ndarray[Any, Any] | None]] = {}

    def _index(self, shard: tuple[int, ...]) -> tuple[int, np.ndarray[Any, Any] | None]:
        """(file descriptor, index) of a shard; index None when the shard is absent."""
        found = self._indexes.get(shard)
        if found is not None:
            return found
        path = shard_path(self.path, shard)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self._indexes[shard] = (-1, None)
            return -1, None
        per = self.layout.per_shard
        size = math.prod(per) * 16
        try:
            end = os.fstat(fd).st_size
            tail = os.pread(fd, size + 4, end - size - 4) if end >= size + 4 else b""
        except OSError:
            os.close(fd)
            raise
        if len(tail) != size + 4 or struct.unpack("<I", tail[-4:])[0] != _crc32c(tail[:-4]):
            os.close(fd)
            raise CorruptFileError(f"{path}: the shard index is damaged (truncated or "
                                   "overwritten); rebuild the pyramid or restore the file")
        index = np.frombuffer(tail[:-4], dtype="<u8").reshape(*per, 2)
        self._indexes[shard] = (fd, index)
        return fd, index

    def raw_chunk(self, index: tuple[int, ...]) -> bytes | None:
        """A chunk's stored (compressed) bytes, as a Zarr client would decode them; None if
        it was never written."""
        found = self._locate(index)
        if found is None:
            return None
        fd, offset, nbytes, _ = found
        return os.pread(fd, nbytes, offset)

    def _locate(self, index: tuple[int, ...]) -> tuple[int, int, int, Path] | None:
        """(file descriptor, offset, size, shard path) of a chunk; None if never written."""
        per = self.layout.per_shard
        shard = tuple(i // p for i, p in zip(index, per, strict=True))
        local = tuple(i % p for i, p in zip(index, per, strict=True))
        fd, table = self._index(shard)
        if table is None:
            return None
        offset, nbytes = (int(v) for v in table[local])
        if offset == EMPTY and nbytes == EMPTY:
            return None
        return fd, offset, nbytes, shard_path(self.path, shard)

    def chunk(self, index: tuple[int, ...]) -> np.ndarray[Any, Any] | None:
        """One chunk, decoded (full chunk shape); None if it was never written."""
        found = self._locate(index)
        if found is None:
            return None
        fd, offset, nbytes, where = found
        data = os.pread(fd, nbytes, offset)
        try:
            if len(data) != nbytes:
                raise ValueError("short read")
            raw = _decode(data)
            return np.frombuffer(raw, dtype=self.layout.dtype).reshape(self.layout.chunk)
        except Exception as exc:  # imagecodecs raises its own error types
            raise CorruptFileError(f"{where}: chunk {index} cannot be decoded "
                                   f"({type(exc).__name__}); rebuild the pyramid or restore "
                                   "the file") from None

    def read(self, key: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        """A region: one slice per axis, each within the shape, step 1."""
        layout = self.layout
        bounds = [(s.start or 0, layout.shape[a] if s.stop is None else s.stop)
                  for a, s in enumerate(key)]
        ranges = [range(a // c, (b - 1) // c + 1) if b > a else range(0)
                  for (a, b), c in zip(bounds, layout.chunk, strict=True)]
        if all(len(r) == 1 for r in ranges):  # within one chunk (a tile): no assembly
            index = tuple(r[0] for r in ranges)
            chunk = self.chunk(index)
            if chunk is not None:
                return chunk[tuple(slice(a - i * c, b - i * c) for (a, b), i, c in
                                   zip(bounds, index, layout.chunk, strict=True))]
        out = np.empty(tuple(b - a for a, b in bounds), dtype=layout.dtype.newbyteorder("="))
        for index in itertools.product(*ranges):
            target = []
            source = []
            for axis, i in enumerate(index):
                lo, hi = bounds[axis]
                start = i * layout.chunk[axis]
                a, b = max(lo, start), min(hi, start + layout.chunk[axis])
                target.append(slice(a - lo, b - lo))
                source.append(slice(a - start, b - start))
            chunk = self.chunk(index)
            if chunk is None:
                out[tuple(target)] = layout.fill
            else:
                out[tuple(target)] = chunk[tuple(source)]
        return out

    def close(self) -> None:
        for fd, _ in self._indexes.values():
            if fd >= 0:
                os.close(fd)
        self._indexes.clear()

    def __enter__(self) -> ShardReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def chunk_indexes(layout: Layout) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(n) for n in layout.chunk_grid))
