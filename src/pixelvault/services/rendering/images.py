"""Rendered images as OMERO.web serves them: tiles, regions and whole planes with the
``c=``/``m=``/``p=``/``q=``/``maps=``/``format=``/``flip=`` grammar, imgData and
histograms; each answer with an ETag derived from the image's version, the
settings and the request, so a viewer's repeat requests cost a 304.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pixelvault.catalog import Actor, Right
from pixelvault.errors import InvalidInputError
from pixelvault.render import split
from pixelvault.render.encode import FORMATS, encode
from pixelvault.render.engine import flip, project, render
from pixelvault.render.params import ParameterError, Rendering, integers, parse
from pixelvault.services import coherence
from pixelvault.services.pixels.access import PixelsInfo, buffer_for, pixels_info
from pixelvault.services.pixels.buffer import PixelBuffer
from pixelvault.services.rendering import settings as rendering
from pixelvault.services.rendering.tile_cache import TILES
from pixelvault.services.vault import Vault

MAX_TILE = 1024  # OMERO's largest tile side
TTL = 2.0


@dataclass(frozen=True)
class Rendered:
    data: bytes
    media_type: str
    etag: str
    not_modified: bool = False  # the client's copy (If-None-Match) is current: no body
    cached: bool = False  # served from the rendered-tile cache


class _InfoCache:
    """A few seconds' memory of an image's pixels facts per reader (tiles come in
    bursts); the permission check is part of the query whose answer is kept."""

    def __init__(self) -> None:
        # (when, coherence generation before the query, facts)
        self._entries: dict[tuple[Any, ...], tuple[float, int, PixelsInfo]] = {}
        self._lock = threading.Lock()

    def get(self, vault: Vault, actor: Actor, image_id: int) -> PixelsInfo:
        key = (id(vault.catalog), actor.user_id, actor.is_admin,
               tuple(sorted(actor.groups_with.get(Right.READ, frozenset()))), image_id)
        seen = coherence.generation()
        with self._lock:
            found = self._entries.get(key)
        if found is not None and time.monotonic() - found[0] <= TTL and found[1] == seen:
            return found[2]
        with vault.catalog.session() as session:
            info = pixels_info(session, actor, image_id)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), seen, info)
        return info

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


INFO = _InfoCache()


def clear_caches() -> None:
    """After the commit of a change to an image or its settings: every process forgets."""
    INFO.clear()
    rendering.CACHE.clear()
    coherence.changed()


def _prepared(vault: Vault, actor: Actor, image_id: int,
              query: dict[str, str]) -> tuple[PixelsInfo, PixelBuffer, Rendering, str]:
    info = INFO.get(vault, actor, image_id)
    effective = rendering.effective(vault, actor, image_id)
    try:
        asked = parse(query, effective.settings, info.size_z, info.size_t)
    except ParameterError as exc:
        raise InvalidInputError(str(exc)) from None
    buffer = buffer_for(vault, info)
    # The image's creation time too: on SQLite a deleted image's id (and version 0)
    # comes back with the next image, whose answers must never be the old one's.
    base = f"{image_id}:{info.created}:{info.version}:{len(buffer.backend.levels)}:" \
        f"{asked.settings.key}:{asked.quality}:{asked.fmt}:{asked.flip}"
    return info, buffer, asked, base


def _etag(base: str, *extra: object) -> str:
    text = base + ":" + ":".join(map(str, extra))
    return '"' + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:24] + '"'


_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="render-channels")


def _planes(buffer: PixelBuffer, asked: Rendering, z: int, t: int, level: int, x: int,
            y: int, w: int, h: int) -> dict[int, np.ndarray[Any, Any]]:
    settings = asked.settings
    planes: dict[int, np.ndarray[Any, Any]] = {}
    active = [c for c, channel in enumerate(settings.channels) if channel.active]
    if settings.projection == "normal" and len(active) > 1:
        # Channels are decoded side by side: decoders release the interpreter.
        buffer.check(level, z, 0, t, x, y, w, h, planes=len(active))
        reads = [_POOL.submit(buffer.get_region, z, c, t, x, y, w, h, level) for c in active]
        return {c: read.result() for c, read in zip(active, reads, strict=True)}
    for c, channel in enumerate(settings.channels):
        if not channel.active:
            continue
        if settings.projection != "normal":
            start, end = settings.z_range(buffer.size_z)
            buffer.check(level, start, c, t, x, y, w, h, planes=end - start + 1)
            planes[c] = project(np.stack([buffer.get_region(zz, c, t, x, y, w, h, level)
                                          for zz in range(start, end + 1)]),
                                settings.projection)
        else:
            planes[c] = buffer.get_region(z, c, t, x, y, w, h, level)
    if not planes:  # nothing shown: black, of the right size
        buffer.check(level, z, 0, t, x, y, w, h)
        planes[0] = np.zeros((h, w), np.uint8)
    return planes


def _finish(planes: dict[int, np.ndarray[Any, Any]], asked: Rendering) -> bytes:
    rgb = render(planes, asked.settings)
    if asked.flip:
        rgb = flip(rgb, asked.flip)
    return encode(rgb, asked.fmt, asked.quality)


def _cached(vault: Vault, asked: Rendering, etag: str,
            planes: Callable[[], dict[int, np.ndarray[Any, Any]]]) -> Rendered:
    """The answer for ``etag`` from the rendered-tile cache, or rendered and kept."""
    budget = vault.settings.tile_cache
    if budget:
        found = TILES.get(vault.uuid, etag)
        if found is not None:
            return Rendered(found, FORMATS[asked.fmt], etag, cached=True)
    data = _finish(planes(), asked)
    if budget:
        TILES.put(vault.uuid, etag, data, budget)
    return Rendered(data, FORMATS[asked.fmt], etag)


def _zt(info: PixelsInfo, asked: Rendering, z: int | None, t: int | None) -> tuple[int, int]:
    z = asked.settings.default_z if z is None else z
    t = asked.settings.default_t if t is None else t
    if not 0 <= z < info.size_z:
        raise InvalidInputError(f"z={z} is outside 0..{info.size_z - 1}")
    if not 0 <= t < info.size_t:
        raise InvalidInputError(f"t={t} is outside 0..{info.size_t - 1}")
    return z, t


def region(vault: Vault, actor: Actor, image_id: int, z: int | None, t: int | None,
           query: dict[str, str], max_pixels: int, known: str | None = None) -> Rendered:
    """``render_image_region``: ``tile=level,tx,ty[,w,h]`` (level 0 is full resolution,
    tile indices times the tile size, w and h at most 1024) or ``region=x,y,w,h`` (full
    resolution); tiles and regions reaching past the image's edge come cut there, as
    OMERO's."""
    info, buffer, asked, base = _prepared(vault, actor, image_id, query)
    z, t = _zt(info, asked, z, t)
    if "tile" in query:
        level, tx, ty, *size = integers(query["tile"], (3, 5), "tile", "LEVEL,TX,TY[,W,H]")
        if not 0 <= level < len(buffer.levels):
            raise InvalidInputError(f"tile= level {level} is outside 0..{len(buffer.levels) - 1}"
                                    " (0 is full resolution)")
        # OMERO.web's rule: a side given as 0 or less is the image's tile size, one over
        # 1024 is 1024.
        tile_w, tile_h = (min(given, MAX_TILE) if given > 0 else default for given, default
                          in zip(size or buffer.tile_size, buffer.tile_size, strict=True))
        size_x, size_y = buffer.levels[level]
        x, y = tx * tile_w, ty * tile_h
        columns, rows = math.ceil(size_x / tile_w), math.ceil(size_y / tile_h)
        if not (0 <= tx < columns and 0 <= ty < rows):
            raise InvalidInputError(f"tile {tx},{ty} is outside the {columns}x{rows} tiles of "
                                    f"level {level} (tiles of {tile_w}x{tile_h})")
        w, h = min(tile_w, size_x - x), min(tile_h, size_y - y)
    elif "region" in query:
        level = 0
        x, y, w, h = integers(query["region"], (4,), "region", "X,Y,W,H")
        if w <= 0 or h <= 0:
            raise InvalidInputError(f"region= {w}x{h}: width and height must be positive")
        if w * h > max_pixels:
            raise InvalidInputError(f"region= of {w * h} pixels; at most {max_pixels} "
                                    "(render.max_region); ask for tiles or a smaller region")
        if not (0 <= x < info.size_x and 0 <= y < info.size_y):
            raise InvalidInputError(f"region= {x},{y},{w},{h} starts outside the "
                                    f"{info.size_x}x{info.size_y} image")
        # Cut at the image's edge, as OMERO's renderer does (viewers ask for whole tiles
        # of large images that have no pyramid).
        w, h = min(w, info.size_x - x), min(h, info.size_y - y)
    else:
        raise InvalidInputError("render_image_region needs tile=LEVEL,TX,TY or "
                                "region=X,Y,W,H")
    etag = _etag(base, "r", z, t, level, x, y, w, h)
    if known is not None and etag in known:
        return Rendered(b"", FORMATS[asked.fmt], etag, not_modified=True)
    return _cached(vault, asked, etag, lambda: _planes(buffer, asked, z, t, level, x, y, w, h))


def plane(vault: Vault, actor: Actor, image_id: int, z: int | None, t: int | None,
          query: dict[str, str], max_pixels: int, known: str | None = None) -> Rendered:
    """``render_image``: the whole plane, from the first level that fits ``max_pixels``
    (a large image comes downscaled, never as a gigapixel JPEG)."""
    info, buffer, asked, base = _prepared(vault, actor, image_id, query)
    z, t = _zt(info, asked, z, t)
    ready = buffer.levels[:len(buffer.backend.levels)]
    level = next((i for i, (x, y) in enumerate(ready) if x * y <= max_pixels), None)
    step = 1
    if level is None:  # smaller levels still being built: sub-sample the smallest there is
        level = len(ready) - 1
        size_x, size_y = ready[level]
        step = math.ceil(math.sqrt(size_x * size_y / max_pixels))
    size_x, size_y = ready[level]
    etag = _etag(base, "p", z, t, level, step)
    if known is not None and etag in known:
        return Rendered(b"", FORMATS[asked.fmt], etag, not_modified=True)
    if step == 1:
        return _cached(vault, asked, etag,
                       lambda: _planes(buffer, asked, z, t, level, 0, 0, size_x, size_y))
    return _cached(vault, asked, etag, lambda: _sampled(buffer, asked, z, t, level, step))


def _sampled(buffer: PixelBuffer, asked: Rendering, z: int, t: int, level: int,
             step: int) -> dict[int, np.ndarray[Any, Any]]:
    """Every ``step``-th pixel of the active channels' planes, read in bands of rows."""
    size_x, size_y = buffer.levels[level]
    rows = max(step, ((4 << 20) // size_x) // step * step)
    planes: dict[int, np.ndarray[Any, Any]] = {}
    for c, channel in enumerate(asked.settings.channels):
        if channel.active:
            planes[c] = np.concatenate([
                buffer.backend.read(level, z, c, t, 0, y, size_x, min(rows, size_y - y))
                [::step, ::step] for y in range(0, size_y, rows)])
    if not planes:
        planes[0] = np.zeros((math.ceil(size_y / step), math.ceil(size_x / step)), np.uint8)
    return planes


SCALED_SIDE = 2000  # OMERO.figure's render_scaled_region: the answer's longest side
GREY = 221  # what lies outside the image in such a region


def scaled_region(vault: Vault, actor: Actor, image_id: int, z: int | None, t: int | None,
                  query: dict[str, str], max_pixels: int, known: str | None = None
                  ) -> Rendered:
    """OMERO.figure's ``render_scaled_region``: ``region=x,y,w,h`` in full-resolution
    pixels, which may reach past the image (a panel zoomed out shows a margin), from
    the first level at which its longest side is at most 2000 pixels; what lies
    outside the image is light grey."""
    info, buffer, asked, base = _prepared(vault, actor, image_id, query)
    z, t = _zt(info, asked, z, t)
    if "region" not in query:
        raise InvalidInputError("render_scaled_region needs region=X,Y,W,H")
    x, y, w, h = integers(query["region"], (4,), "region", "X,Y,W,H")
    if w <= 0 or h <= 0 or w > 1 << 24 or h > 1 << 24:
        raise InvalidInputError(f"region= {w}x{h}: width and height from 1 to {1 << 24}")
    ready = buffer.levels[:len(buffer.backend.levels)]
    level = next((i for i, (size_x, _) in enumerate(ready)
                  if max(w, h) * size_x / info.size_x <= SCALED_SIDE), len(ready) - 1)
    scale = ready[level][0] / info.size_x
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    if out_w * out_h > max_pixels:
        raise InvalidInputError(f"region= of {out_w}x{out_h} pixels at its smallest level; "
                                f"at most {max_pixels} (render.max_region)")
    etag = _etag(base, "sc", z, t, level, x, y, w, h)
    if known is not None and etag in known:
        return Rendered(b"", FORMATS[asked.fmt], etag, not_modified=True)
    canvas = np.full((out_h, out_w, 3), GREY, np.uint8)
    size_x, size_y = ready[level]
    left, top = math.floor(x * scale), math.floor(y * scale)
    inside_x0, inside_y0 = max(left, 0), max(top, 0)
    inside_x1 = min(left + out_w, size_x)
    inside_y1 = min(top + out_h, size_y)
    if inside_x1 > inside_x0 and inside_y1 > inside_y0:
        planes = _planes(buffer, asked, z, t, level, inside_x0, inside_y0,
                         inside_x1 - inside_x0, inside_y1 - inside_y0)
        rgb = render(planes, asked.settings)
        canvas[inside_y0 - top:inside_y1 - top, inside_x0 - left:inside_x1 - left] = rgb
    if asked.flip:
        canvas = flip(canvas, asked.flip)
    return Rendered(encode(canvas, asked.fmt, asked.quality), FORMATS[asked.fmt], etag)


def split_channels(vault: Vault, actor: Actor, image_id: int, z: int | None, t: int | None,
                   query: dict[str, str], max_pixels: int,
                   known: str | None = None) -> Rendered:
    """``render_split_channel``: every channel alone (grey with ``m=g``; an inactive one
    leaves its place empty), then the active ones merged in colour, from the first
    level whose panels together fit ``max_pixels``."""
    info, buffer, asked, base = _prepared(vault, actor, image_id, query)
    z, t = _zt(info, asked, z, t)
    settings = asked.settings
    grey = settings.model == "greyscale"
    count = len(settings.channels) + (0 if grey else 1)
    ready = buffer.levels[:len(buffer.backend.levels)]
    level = next((i for i, (x, y) in enumerate(ready) if x * y * count <= max_pixels), None)
    if level is None:
        raise InvalidInputError(f"the image is too large to split into {count} panels of "
                                "its smallest level; ask for a region instead")
    size_x, size_y = ready[level]
    etag = _etag(base, "s", z, t, level)
    if known is not None and etag in known:
        return Rendered(b"", FORMATS[asked.fmt], etag, not_modified=True)
    planes = _planes(buffer, asked, z, t, level, 0, 0, size_x, size_y)
    panels: list[np.ndarray[Any, Any] | None] = []
    for index, channel in enumerate(settings.channels):
        alone = tuple(replace(c, active=i == index) for i, c in enumerate(settings.channels))
        panels.append(render({index: planes[index]}, replace(settings, channels=alone))
                      if channel.active and index in planes else None)
    panels.append(render(planes, replace(settings, model="color")))
    labels = [*rendering.channel_labels(vault, info.pixels_id, len(settings.channels)),
              "merged"]
    canvas = split.compose(panels, labels, split.grid(size_x, size_y, count))
    return Rendered(encode(canvas, asked.fmt, asked.quality), FORMATS[asked.fmt], etag)


REACH = 25  # OMERO.iviewer's intensities: this many pixels on each side of the one asked


def intensities(vault: Vault, actor: Actor, image_id: int, z: int, t: int, x: int, y: int,
                channels: list[int]) -> dict[str, Any]:
    """The raw values around one pixel (a 51x51 window, cut at the edge), per channel, as
    OMERO.iviewer's ``get_intensity`` gives them: ``{"count", "pixels": {"X-Y": {"C":
    value}}}``; the viewer shows the one under the pointer without asking again."""
    info = INFO.get(vault, actor, image_id)
    if not (0 <= x < info.size_x and 0 <= y < info.size_y and 0 <= z < info.size_z
            and 0 <= t < info.size_t):
        raise InvalidInputError(f"x={x}, y={y}, z={z}, t={t} is outside the image")
    if not channels or any(not 0 <= c < info.size_c for c in channels):
        raise InvalidInputError(f"c= lists channels from 0 to {info.size_c - 1}")
    buffer = buffer_for(vault, info)
    left, top = max(x - REACH, 0), max(y - REACH, 0)
    width = min(2 * REACH + 1, info.size_x - left)
    height = min(2 * REACH + 1, info.size_y - top)
    pixels: dict[str, dict[str, Any]] = {}
    for c in dict.fromkeys(channels):
        values = buffer.get_region(z, c, t, left, top, width, height, 0)
        for row in range(height):
            for column in range(width):
                value = values[row, column].item()
                if isinstance(value, float) and not math.isfinite(value):
                    value = None  # JSON has no NaN
                pixels.setdefault(f"{left + column}-{top + row}", {})[str(c)] = value
    return {"count": width * height * len(dict.fromkeys(channels)), "pixels": pixels}


def histogram(vault: Vault, actor: Actor, image_id: int, c: int, z: int, t: int,
              bins: int) -> dict[str, Any]:
    """Counts of one plane's values in ``bins`` bins between the channel's min and max,
    from the smallest level with at least 512x512 pixels (the whole plane, sampled)."""
    if not 1 <= bins <= 4096:
        raise InvalidInputError(f"bins={bins}: use 1..4096")
    info = INFO.get(vault, actor, image_id)
    if not 0 <= c < info.size_c:
        raise InvalidInputError(f"channel {c} is outside 0..{info.size_c - 1}")
    buffer = buffer_for(vault, info)
    ready = buffer.levels[:len(buffer.backend.levels)]
    fitting = [i for i, (x, y) in enumerate(ready) if x * y >= 512 * 512]
    level = fitting[-1] if fitting else 0
    size_x, size_y = ready[level]
    if size_x * size_y > 16 << 20:
        raise InvalidInputError(f"the plane is {size_x}x{size_y} and its smaller levels are "
                                "being built; ask again once its pyramid is ready")
    values = buffer.get_region(z, c, t, 0, 0, size_x, size_y, level)
    effective = rendering.effective(vault, actor, image_id)
    window = effective.settings.channels[c]
    with vault.catalog.session() as session:
        from sqlalchemy import select

        from pixelvault.catalog.models import Channel

        row = session.scalar(select(Channel).where(Channel.pixels_id == info.pixels_id,
                                                   Channel.index == c))
    low = row.min if row is not None and row.min is not None else window.start
    high = row.max if row is not None and row.max is not None else window.end
    data = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if high <= low:
        high = low + 1
    counts, _ = np.histogram(data.astype(np.float64), bins=bins, range=(low, high))
    return {"data": [int(n) for n in counts], "min": low, "max": high}
