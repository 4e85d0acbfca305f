"""Zarr's compressors with an output bound: a chunk decodes to its declared size or fails.

numcodecs' decoders inflate whatever a chunk holds (a 79-byte bz2 chunk gives
64 MiB, a 27 KB zstd chunk 900 MB), and zarr compares the result with the
chunk's shape only afterwards. Here each compressor either reads its output
size from its own header before allocating (Blosc, LZ4) or inflates with a
``max_length`` (zlib, gzip, bz2, LZMA, zstd), and stops one byte past the bound.

Three places are covered, through the extension points each library offers:

- numcodecs' registry (``register_codec``), which zarr uses for Zarr v2
  compressors and the ``numcodecs.*`` codecs of Zarr v3: there the bound is the
  caller's ``out`` buffer or ``budget.cap``;
- zarr's own v3 codecs ``zstd``, ``gzip`` and ``blosc`` (which name numcodecs'
  classes directly), replaced through ``zarr.config``'s ``codecs.*`` selection:
  there the bound is the chunk's own size, shape times item size;
- Zarr v2 arrays, whose compressor zarr calls without an output buffer: their
  codec (``BoundedV2Codec``, put where zarr looks it up) passes the chunk's size
  down to the compressor, so a v2 chunk too inflates to its own size at most;
  the ``numcodecs.*`` codecs of Zarr v3 do the same (``_ChunkSized``).

Codecs that decode bytes into Python objects (pickle and the like) are removed
from numcodecs' registry: an array that names one cannot be opened.
"""

from __future__ import annotations

import bz2
import lzma
import math
import zlib
from contextvars import ContextVar
from typing import Any

import numcodecs
from numcodecs.compat import ensure_bytes, ndarray_copy
from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec
from zarr.codecs import numcodecs as zarr_numcodecs
from zarr.codecs._v2 import V2Codec

from pixelvault.formats.decoding import budget


def _exceeds(what: str, data: bytes, bound: int) -> Exception:
    return budget.refuse(what, len(data), bound)


def _inflate_stream(what: str, decompressor: Any, data: bytes, bound: int) -> bytes:
    """Run a stdlib decompressor object, stopping one byte past ``bound``."""
    try:
        result: bytes = decompressor.decompress(data, bound + 1)
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError) as exc:
        raise ValueError(f"a {what} chunk cannot be decompressed ({exc})") from None
    if len(result) > bound:
        raise _exceeds(what, data, bound)
    return result


def _zstd(data: bytes, bound: int) -> bytes:
    import imagecodecs

    try:
        result = bytes(imagecodecs.zstd_decode(data, out=bound))
    except imagecodecs.ZstdError as exc:
        if "too small" in str(exc):
            raise _exceeds("zstd", data, bound) from None
        raise ValueError(f"a zstd chunk cannot be decompressed ({exc})") from None
    return result


def _declared(what: str, data: bytes, size: int, bound: int) -> None:
    """For codecs whose header says how large they decode (Blosc, LZ4)."""
    if size > bound:
        raise budget.refuse(what, len(data), bound, size)


def blosc_size(data: bytes) -> int:
    if len(data) < 16:
        raise ValueError("a Blosc chunk is shorter than its header")
    return int.from_bytes(data[4:8], "little")


def lz4_size(data: bytes) -> int:
    if len(data) < 4:
        raise ValueError("an LZ4 chunk is shorter than its header")
    return int.from_bytes(data[:4], "little")


# The size of the Zarr v2 chunk being decoded, set by BoundedV2Codec around its
# compressor (asyncio.to_thread carries it into the decoding thread).
_chunk_limit: ContextVar[int | None] = ContextVar("chunk_limit", default=None)


def _bound_of(data: bytes, out: Any) -> int:
    if out is not None:
        return int(memoryview(out).nbytes)
    limit = _chunk_limit.get()
    return budget.cap(len(data)) if limit is None else limit


class BoundedZlib(numcodecs.Zlib):  # type: ignore[misc]
    def decode(self, buf: Any, out: Any = None) -> Any:
        data = ensure_bytes(buf)
        result = _inflate_stream("zlib", zlib.decompressobj(), data, _bound_of(data, out))
        return ndarray_copy(result, out)


class BoundedGZip(numcodecs.GZip):  # type: ignore[misc]
    def decode(self, buf: Any, out: Any = None) -> Any:
        data = ensure_bytes(buf)
        result = _inflate_stream("gzip", zlib.decompressobj(16 + zlib.MAX_WBITS), data,
                                 _bound_of(data, out))
        return ndarray_copy(result, out)


class BoundedBZ2(numcodecs.BZ2):  # type: ignore[misc]
    def decode(self, buf: Any, out: Any = None) -> Any:
        data = ensure_bytes(buf)
        result = _inflate_stream("bz2", bz2.BZ2Decompressor(), data, _bound_of(data, out))
        return ndarray_copy(result, out)


class BoundedLZMA(numcodecs.LZMA):  # type: ignore[misc]
    def decode(self, buf: Any, out: Any = None) -> Any:
        data = ensure_bytes(buf)
        decompressor = lzma.LZMADecompressor(format=self.format, filters=self.filters)
        result = _inflate_stream("LZMA", decompressor, data, _bound_of(data, out))
        return ndarray_copy(result, out)


class BoundedZstd(numcodecs.Zstd):  # type: ignore[misc]
    def decode(self, buf: Any, out: Any = None) -> Any:
        data = ensure_bytes(buf)
        return ndarray_copy(_zstd(data, _bound_of(data, out)), out)


class BoundedBlosc(numcodecs.Blosc):  # type: ignore[misc]
    def decode(self, buf: Any, out: Any = None) -> Any:
        data = ensure_bytes(buf)
        _declared("Blosc", data, blosc_size(data), _bound_of(data, out))
        return super().decode(data, out)


class BoundedLZ4(numcodecs.LZ4):  # type: ignore[misc]
    def decode(self, buf: Any, out: Any = None) -> Any:
        data = ensure_bytes(buf)
        _declared("LZ4", data, lz4_size(data), _bound_of(data, out))
        return super().decode(data, out)


# A checksum codec applied before the compressor adds its few bytes to what it inflates.
_SLACK = 64


def _chunk_bytes(chunk_spec: Any) -> int:
    itemsize = int(chunk_spec.dtype.to_native_dtype().itemsize)
    return int(math.prod(chunk_spec.shape)) * itemsize + _SLACK


class BoundedZstdCodec(ZstdCodec):
    def _decode_sync(self, chunk_bytes: Any, chunk_spec: Any) -> Any:
        data = chunk_bytes.to_bytes()
        return chunk_spec.prototype.buffer.from_bytes(_zstd(data, _chunk_bytes(chunk_spec)))


class BoundedGzipCodec(GzipCodec):
    def _decode_sync(self, chunk_bytes: Any, chunk_spec: Any) -> Any:
        data = chunk_bytes.to_bytes()
        result = _inflate_stream("gzip", zlib.decompressobj(16 + zlib.MAX_WBITS), data,
                                 _chunk_bytes(chunk_spec))
        return chunk_spec.prototype.buffer.from_bytes(result)


class BoundedBloscCodec(BloscCodec):
    def _decode_sync(self, chunk_bytes: Any, chunk_spec: Any) -> Any:
        data = chunk_bytes.to_bytes()
        _declared("Blosc", data, blosc_size(data), _chunk_bytes(chunk_spec))
        return super()._decode_sync(chunk_bytes, chunk_spec)


class BoundedV2Codec(V2Codec):
    """Zarr v2's compressor and filters, told the chunk's size: zarr calls a v2
    compressor without an output buffer, so it would otherwise have only the cap."""

    async def _decode_single(self, chunk_bytes: Any, chunk_spec: Any) -> Any:
        token = _chunk_limit.set(_chunk_bytes(chunk_spec))
        try:
            return await super()._decode_single(chunk_bytes, chunk_spec)
        finally:
            _chunk_limit.reset(token)


class _ChunkSized:
    """Tells the numcodecs compressor a zarr v3 ``numcodecs.*`` codec wraps the size of
    the chunk it decodes (zarr calls it without an output buffer)."""

    async def _decode_single(self, chunk_data: Any, chunk_spec: Any) -> Any:
        token = _chunk_limit.set(_chunk_bytes(chunk_spec))
        try:
            return await super()._decode_single(chunk_data, chunk_spec)  # type: ignore[misc]
        finally:
            _chunk_limit.reset(token)


def _chunk_sized(codec: type) -> type:
    name = f"ChunkSized{codec.__name__}"
    made = type(name, (_ChunkSized, codec), {"__module__": __name__, "__qualname__": name})
    globals()[name] = made  # importable by the name zarr's configuration gives it
    return made


_NUMCODECS = (BoundedZlib, BoundedGZip, BoundedBZ2, BoundedLZMA, BoundedZstd, BoundedBlosc,
              BoundedLZ4)
_ZARR: dict[str, type] = {"zstd": BoundedZstdCodec, "gzip": BoundedGzipCodec,
                          "blosc": BoundedBloscCodec}
_ZARR.update({f"numcodecs.{codec.__name__.lower()}": _chunk_sized(codec) for codec in (
    zarr_numcodecs.Zlib, zarr_numcodecs.GZip, zarr_numcodecs.BZ2, zarr_numcodecs.LZMA,
    zarr_numcodecs.Zstd, zarr_numcodecs.Blosc, zarr_numcodecs.LZ4)})


# Codecs that turn bytes into Python objects: no image needs them, and unpickling a
# file's bytes would run its code.
_UNSAFE = ("pickle", "msgpack2", "json2", "vlen-utf8", "vlen-bytes", "vlen-array")


def install() -> None:
    import zarr
    import zarr.core.array
    from zarr.registry import register_codec

    for codec in _NUMCODECS:
        numcodecs.registry.register_codec(codec, codec.codec_id)
    for unsafe in _UNSAFE:
        numcodecs.registry.codec_registry.pop(unsafe, None)
    # zarr builds each v2 array's codec by this name (zarr.core.array, zarr 3.1)
    zarr.core.array.V2Codec = BoundedV2Codec  # type: ignore[attr-defined]
    chosen = dict(zarr.config.get("codecs", {}))
    for key, cls in _ZARR.items():
        register_codec(key, cls)
        chosen[key] = f"{cls.__module__}.{cls.__qualname__}"
    # the whole table at once: a key such as "numcodecs.zlib" holds a dot, which
    # zarr.config.set would read as one more level of nesting
    zarr.config.set({"codecs": chosen})
