"""Every decoder that turns a file's bytes into pixels is given an output bound.

The limits checked at import (``decoding.limits``) trust what a file declares:
a TIFF's tile size, an OME-Zarr array's chunk shape. The decoders beneath
(imagecodecs for TIFF, numcodecs for Zarr) do not: they yield whatever the
compressed stream holds, so a tile declared 16x16 can decode to gigabytes
before anything compares the result with the declaration. This module wraps
those decoders, process-wide because they are process-wide, so that a decode
never yields more than:

- what the caller's output buffer or declared shape holds, where it says so
  (tifffile gives zlib, LZW, zstd and the like an output size; zarr gives each
  chunk its shape); or else
- ``budget.cap(stored)``: ``import.max_chunk_bytes``, and no more than
  ``import.max_decompression_ratio`` times the stored bytes once above
  ``RATIO_FREE_BYTES`` (so ordinary tiles of blank background still decode).

Image codecs are bounded by reading their stream's header before decoding
(``headers``): the frame may not be larger than the tile or strip being read
(``tiles``, set by the TIFF reader), nor than the budget; a stream whose header
cannot be read, or that holds two frame headers, is refused. LERC, whose
decoder ignores any output size, is refused outright.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pixelvault.errors import CorruptFileError
from pixelvault.formats.decoding.budget import check, refuse
from pixelvault.formats.decoding.headers import IMAGE_HEADERS, Size, Stream, jpeg_size

_installed = False
_install_lock = threading.Lock()


_tile: ContextVar[tuple[int, int] | None] = ContextVar("tile", default=None)


@contextmanager
def tiles(rows: int, columns: int) -> Iterator[None]:
    """Decodes inside are of one tile or strip of ``rows`` x ``columns`` (as stored: a
    last strip may be coded at full height): an image codec's frame may not be larger.
    zarr and asyncio carry this into the threads that decode."""
    token = _tile.set((rows, columns))
    try:
        yield
    finally:
        _tile.reset(token)


def _as_bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else bytes(memoryview(data).cast("B"))


def _checked(name: str, raw: bytes, size: Size | None, shape: Any = None) -> None:
    """Refuse a frame larger than its tile (or, without one, than tifffile's ``shape``)
    or than the budget; a stream whose header cannot be read is refused too."""
    if size is None:
        raise CorruptFileError(f"a {name} stream has no readable header (or more than one "
                               "frame header); the file is damaged")
    tile = _tile.get()
    if tile is None and shape is not None and len(shape) >= 2:
        tile = (int(shape[0]), int(shape[1]))
    height = size.height
    if tile is not None:
        if size.width > tile[1] or size.height > tile[0]:
            raise refuse(name, len(raw), tile[0] * tile[1] * size.per_pixel,
                         size.width * max(size.height, 1) * size.per_pixel)
        height = height or tile[0]
    if not height:
        raise CorruptFileError(f"a {name} stream leaves its height to the end of the data "
                               "and no tile size bounds it; the file is damaged")
    check(name, size.width * height * size.per_pixel, len(raw))


def _bounded(name: str, decode: Callable[..., Any],
             measure: Callable[[Stream], Size | None]) -> Callable[..., Any]:
    @functools.wraps(decode)
    def bounded(data: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is None:
            raw = _as_bytes(data)
            size = measure(raw)
            if size is None and name == "JPEG" and kwargs.get("header"):
                size = measure(_as_bytes(kwargs["header"]))  # old-style JPEG: header apart
            _checked(name, raw, size, kwargs.get("shape"))
            if name == "JPEGXL" and not args and "index" not in kwargs:
                kwargs["index"] = 0  # one frame: an animation would decode every frame
        return decode(data, *args, **kwargs)

    return bounded


def _refused_lerc(data: Any, *args: Any, **kwargs: Any) -> Any:
    raise CorruptFileError("LERC-compressed images are not read: the LERC decoder cannot "
                           "be bounded; convert the file to zlib or zstd compression")


def _install_imagecodecs() -> None:
    """Replace the decoders in imagecodecs' namespace, where tifffile looks them up.

    imagecodecs loads a codec's extension module on first use of any of its names and
    then sets all of them, so each original is fetched (loading its module) before it
    is replaced: a later first use of, say, ``png_encode`` cannot restore it."""
    import imagecodecs

    # jpeg_decode falls back to the lossless decoders when libjpeg cannot read a frame
    for name in ("jpeg_decode", "jpeg8_decode", "ljpeg_decode", "jpegsof3_decode",
                 "jpegls_decode"):
        setattr(imagecodecs, name, _bounded("JPEG", getattr(imagecodecs, name), jpeg_size))
    for codec, measure in IMAGE_HEADERS.items():
        name = f"{codec}_decode"
        setattr(imagecodecs, name, _bounded(codec.upper(), getattr(imagecodecs, name),
                                            measure))
    _ = imagecodecs.lerc_decode  # loaded first, as above (an assert would go with -O)
    imagecodecs.lerc_decode = _refused_lerc


def _forget_tifffile_decoders() -> None:
    """tifffile keeps each decoder once looked up; drop any it fetched before the
    wrappers were in place so that the next lookup finds them."""
    import tifffile

    cached = getattr(tifffile.TIFF.DECOMPRESSORS, "_codecs", None)
    if isinstance(cached, dict):
        cached.clear()


def install() -> None:
    """Put the bounds in place, once per process, before any file is decoded."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        from pixelvault.formats.decoding import zarr_codecs

        _install_imagecodecs()
        _forget_tifffile_decoders()
        zarr_codecs.install()
        _installed = True
