"""The pixels under a shape: per-channel statistics (iviewer's ``shape_stats``) and a
Mask shape drawn as a PNG (webgateway's ``render_shape_mask``).

A shape is rasterised inside its bounding box, cut to the image, with Pillow's
drawing (polygons, ellipses, rectangles; a line or a point covers the pixels it
passes through); the box is bounded so one request cannot read a whole slide.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from pixelvault.catalog import Actor
from pixelvault.errors import InvalidInputError, NotFoundError
from pixelvault.formats import rois as model
from pixelvault.services.objects import rois
from pixelvault.services.pixels.access import buffer_for
from pixelvault.services.rendering.images import INFO
from pixelvault.services.vault import Vault

MAX_PIXELS = 16 << 20  # a shape's box, per channel
MAX_READ = 64 << 20  # pixels read by one request, over every shape and channel


def _outline(shape: model.Shape) -> list[tuple[float, float]]:
    k, v = shape.kind, shape.coords
    if k in ("rectangle", "mask"):
        points = [(v[0], v[1]), (v[0] + v[2], v[1]), (v[0] + v[2], v[1] + v[3]),
                  (v[0], v[1] + v[3])]
    elif k == "ellipse":
        steps = max(16, min(720, int(4 * (v[2] + v[3]))))
        points = [(v[0] + v[2] * math.cos(2 * math.pi * i / steps),
                   v[1] + v[3] * math.sin(2 * math.pi * i / steps)) for i in range(steps)]
    elif k == "line":
        points = [(v[0], v[1]), (v[2], v[3])]
    else:
        points = shape.vertices
    if shape.transform is not None:
        a00, a10, a01, a11, a02, a12 = shape.transform
        points = [(a00 * x + a01 * y + a02, a10 * x + a11 * y + a12) for x, y in points]
    return points


def coverage(shape: model.Shape, size_x: int, size_y: int) -> tuple[int, int, Any] | None:
    """(left, top, boolean array) of the image pixels the shape covers; None if none."""
    from PIL import Image, ImageDraw

    min_x, min_y, max_x, max_y = shape.bounds()
    left, top = max(math.floor(min_x), 0), max(math.floor(min_y), 0)
    right = min(math.ceil(max_x) + 1, size_x)
    bottom = min(math.ceil(max_y) + 1, size_y)
    if right <= left or bottom <= top:
        return None
    if (right - left) * (bottom - top) > MAX_PIXELS:
        raise InvalidInputError(f"a shape covering {right - left}x{bottom - top} pixels; "
                                f"statistics are made for at most {MAX_PIXELS} pixels")
    if shape.kind == "mask" and shape.transform is None:
        full = model.mask_array(shape)
        x0, y0 = int(shape.coords[0]), int(shape.coords[1])
        inside = np.zeros((bottom - top, right - left), bool)
        ys = slice(max(top - y0, 0), max(min(bottom - y0, full.shape[0]), 0))
        xs = slice(max(left - x0, 0), max(min(right - x0, full.shape[1]), 0))
        part = full[ys, xs]
        inside[ys.start + y0 - top:ys.start + y0 - top + part.shape[0],
               xs.start + x0 - left:xs.start + x0 - left + part.shape[1]] = part
        return left, top, inside
    canvas = Image.new("1", (right - left, bottom - top), 0)
    draw = ImageDraw.Draw(canvas)
    points = [(x - left, y - top) for x, y in _outline(shape)]
    if shape.kind in ("point", "label"):
        draw.point(points, fill=1)
    elif shape.kind in ("line", "polyline"):
        draw.line(points, fill=1)
    else:
        draw.polygon(points, fill=1, outline=1)
    return left, top, np.asarray(canvas, dtype=bool)


def shape_statistics(vault: Vault, actor: Actor, shape_ids: list[int], z: int, t: int,
                     channels: list[int] | None) -> dict[str, Any]:
    """``{shape id: [{"index", "points", "min", "max", "sum", "mean", "std_dev"}]}`` for
    the shapes the caller may read on plane z, t (others are left out)."""
    out: dict[str, Any] = {}
    budget = MAX_READ
    if channels is not None:
        channels = list(dict.fromkeys(channels))
    with vault.catalog.session() as session:
        found = []
        for shape_id in dict.fromkeys(shape_ids):
            try:
                found.append(rois.shape(session, actor, shape_id))
            except NotFoundError:  # a shape not seen is left out, as in OMERO
                continue
    for roi, stored in found:
        info = INFO.get(vault, actor, roi.image_id)
        if not (0 <= z < info.size_z and 0 <= t < info.size_t):
            raise InvalidInputError(f"z={z}, t={t} is not a plane of image {roi.image_id}")
        wanted = channels if channels is not None else list(range(info.size_c))
        if any(not 0 <= c < info.size_c for c in wanted):
            raise InvalidInputError(f"cs= lists channels from 0 to {info.size_c - 1}")
        covered = coverage(stored.shape, info.size_x, info.size_y)
        if covered is not None:
            budget -= covered[2].size * len(wanted)
            if budget < 0:
                raise InvalidInputError(f"statistics over more than {MAX_READ} pixels at once; "
                                        "ask for fewer shapes or channels")
        buffer = buffer_for(vault, info)
        stats: list[dict[str, Any]] = []
        for c in wanted:
            if covered is None or not covered[2].any():
                stats.append({"index": c, "points": 0, "min": 0, "max": 0, "sum": 0,
                              "mean": 0, "std_dev": 0})
                continue
            left, top, inside = covered
            values = buffer.get_region(z, c, t, left, top, inside.shape[1], inside.shape[0],
                                       0)[inside].astype(np.float64)
            values = values[np.isfinite(values)]
            stats.append({"index": c, "points": int(values.size),
                          "min": float(values.min()) if values.size else 0,
                          "max": float(values.max()) if values.size else 0,
                          "sum": float(values.sum()),
                          "mean": float(values.mean()) if values.size else 0,
                          "std_dev": float(values.std()) if values.size else 0})
        out[str(stored.id)] = stats
    return out


def shape_mask_png(vault: Vault, actor: Actor, shape_id: int) -> bytes:
    """A Mask shape's pixels in its fill colour (yellow by default) on transparency."""
    from PIL import Image

    with vault.catalog.session() as session:
        _, stored = rois.shape(session, actor, shape_id)
    shape = stored.shape
    if shape.kind != "mask":
        raise InvalidInputError(f"shape {shape_id} is a {model.OME_NAMES[shape.kind]}, "
                                "not a Mask")
    colour = shape.fill_color & 0xFFFFFFFF if shape.fill_color is not None else 0xFFFF00FF
    rgba = np.array([(colour >> 24) & 0xFF, (colour >> 16) & 0xFF, (colour >> 8) & 0xFF,
                     colour & 0xFF], np.uint8)
    inside = model.mask_array(shape)
    pixels = np.zeros((*inside.shape, 4), np.uint8)
    pixels[inside] = rgba
    out = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(out, format="PNG")
    return out.getvalue()
