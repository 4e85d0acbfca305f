"""RGB images to bytes: JPEG (libjpeg-turbo through simplejpeg, 4:2:0), PNG (Pillow)
and TIFF (tifffile)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from pixelvault.errors import InvalidInputError

FORMATS = {"jpeg": "image/jpeg", "jpg": "image/jpeg", "png": "image/png",
           "tif": "image/tiff", "tiff": "image/tiff"}


MAX_JPEG_SIDE = 65_500  # the format's own limit


def encode(rgb: np.ndarray[Any, Any], fmt: str = "jpeg", quality: float = 0.9) -> bytes:
    """``quality`` 0..1, as OMERO's ``q=``; JPEG only."""
    fmt = fmt.lower()
    if fmt in ("jpeg", "jpg") and max(rgb.shape[:2]) > MAX_JPEG_SIDE:
        raise InvalidInputError(f"a JPEG of {rgb.shape[1]}x{rgb.shape[0]} pixels; JPEG "
                                f"sides end at {MAX_JPEG_SIDE}: ask for less or format=png")
    data = np.ascontiguousarray(rgb, dtype=np.uint8)
    if fmt in ("jpeg", "jpg"):
        import simplejpeg

        return bytes(simplejpeg.encode_jpeg(data, quality=max(1, min(100, round(quality * 100))),
                                            colorspace="RGB", colorsubsampling="420",
                                            fastdct=True))
    if fmt == "png":
        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(data, "RGB").save(out, format="PNG", compress_level=1)
        return out.getvalue()
    if fmt in ("tif", "tiff"):
        import tifffile

        out = io.BytesIO()
        tifffile.imwrite(out, data, photometric="rgb")
        return out.getvalue()
    raise ValueError(f"format {fmt!r}")
