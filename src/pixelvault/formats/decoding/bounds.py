"""Every decoder that turns a file's bytes into pixels is given an output bound.

The limits checked at import (``formats.limits``) trust what a file declares:
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
(``headers``); a stream whose header cannot be read is refused. LERC, whose
decoder ignores any output size, is refused outright.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from pixelvault.errors import CorruptFileError
from pixelvault.formats.decoding.budget import check, refuse
from pixelvault.formats.decoding.headers import IMAGE_HEADERS, jpeg_size

_installed = False
_install_lock = threading.Lock()


def _as_bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else bytes(memoryview(data).cast("B"))


def _bounded_jpeg(decode: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(decode)
    def bounded(data: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is None:
            raw = _as_bytes(data)
            size = jpeg_size(raw)
            if size is None and kwargs.get("header"):  # old-style JPEG: header apart
                size = jpeg_size(_as_bytes(kwargs["header"]))
            shape = kwargs.get("shape")
            if size is None:
                raise CorruptFileError("a JPEG stream has no readable frame header; the "
                                       "file is damaged")
            width, height, per_pixel = size
            if shape is not None and len(shape) >= 2:
                # tifffile names the strip or tile's shape: the frame may not exceed it
                if width > int(shape[1]) or height > int(shape[0]):
                    raise refuse("JPEG", len(raw), int(shape[0]) * int(shape[1]) * per_pixel,
                                 width * max(height, 1) * per_pixel)
                height = height or int(shape[0])
            elif not height:
                raise CorruptFileError("a JPEG stream leaves its height to the end of the "
                                       "data and no tile size bounds it; the file is damaged")
            check("JPEG", width * height * per_pixel, len(raw))
        return decode(data, *args, **kwargs)

    return bounded


def _bounded_image(name: str, decode: Callable[..., Any],
                   measure: Callable[[bytes], int | None]) -> Callable[..., Any]:
    @functools.wraps(decode)
    def bounded(data: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is None:
            raw = _as_bytes(data)
            decoded = measure(raw)
            if decoded is None:
                raise CorruptFileError(f"a {name.upper()} stream has no readable header; "
                                       "the file is damaged")
            check(name.upper(), decoded, len(raw))
            if name == "jpegxl" and not args and "index" not in kwargs:
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

    for name in ("jpeg_decode", "jpeg8_decode"):
        setattr(imagecodecs, name, _bounded_jpeg(getattr(imagecodecs, name)))
    for codec, measure in IMAGE_HEADERS.items():
        name = f"{codec}_decode"
        setattr(imagecodecs, name, _bounded_image(codec, getattr(imagecodecs, name), measure))
    assert imagecodecs.lerc_decode is not None  # loaded first, as above
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
