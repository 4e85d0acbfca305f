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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixelvault.catalog import Actor, Right
from pixelvault.errors import InvalidInputError
from pixelvault.render.encode import FORMATS, encode
from pixelvault.render.engine import flip, project, render
from pixelvault.render.params import ParameterError, Rendering, integers, parse
from pixelvault.services.pixels.access import PixelsInfo, buffer_for, pixels_info
from pixelvault.services.pixels.buffer import PixelBuffer
from pixelvault.services.rendering import settings as rendering
from pixelvault.services.vault import Vault

MAX_TILE = 1024  # OMERO's largest tile side
TTL = 2.0


@dataclass(frozen=True)
class Rendered:
    data: bytes
    media_type: str
    etag: str
    not_modified: bool = False  # the client's copy (If-None-Match) is current: no body


class _InfoCache:
    """A few seconds' memory of an image's pixels facts per reader (tiles come in
    bursts); the permission check is part of the query whose answer is kept."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], tuple[float, PixelsInfo]] = {}
        self._lock = threading.Lock()

    def get(self, vault: Vault, actor: Actor, image_id: int) -> PixelsInfo:
        key = (id(vault.catalog), actor.user_id, actor.is_admin,
               tuple(sorted(actor.groups_with.get(Right.READ, frozenset()))), image_id)
        with self._lock:
            found = self._entries.get(key)
        if found is not None and time.monotonic() - found[0] <= TTL:
            return found[1]
        with vault.catalog.session() as session:
            info = pixels_info(session, actor, image_id)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), info)
        return info

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


INFO = _InfoCache()


def clear_caches() -> None:
    INFO.clear()
    rendering.CACHE.clear()


def _prepared(vault: Vault, actor: Actor, image_id: int,
              query: dict[str, str]) -> tuple[PixelsInfo, PixelBuffer, Rendering, str]:
    info = INFO.get(vault, actor, image_id)
    effective = rendering.effective(vault, actor, image_id)
    try:
        asked = parse(query, effective.settings, info.size_z, info.size_t)
    except ParameterError as exc:
        raise InvalidInputError(str(exc)) from None
    buffer = buffer_for(vault, info)
    base = f"{image_id}:{info.version}:{len(buffer.backend.levels)}:{asked.settings.key}:" \
        f"{asked.quality}:{asked.fmt}:{asked.flip}"
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
    resolution); tiles at the image's edge come clipped, as OMERO's."""
    info, buffer, asked, base = _prepared(vault, actor, image_id, query)
    z, t = _zt(info, asked, z, t)
    if "tile" in query:
        level, tx, ty, *size = integers(query["tile"], (3, 5), "tile", "LEVEL,TX,TY[,W,H]")
        if not 0 <= level < len(buffer.levels):
            raise InvalidInputError(f"tile= level {level} is outside 0..{len(buffer.levels) - 1}"
                                    " (0 is full resolution)")
        tile_w, tile_h = size if size else buffer.tile_size
        if not (1 <= tile_w <= MAX_TILE and 1 <= tile_h <= MAX_TILE):
            raise InvalidInputError(f"tile= size {tile_w}x{tile_h}: each side 1..{MAX_TILE}")
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
        if x < 0 or y < 0 or x + w > info.size_x or y + h > info.size_y:
            raise InvalidInputError(f"region= {x},{y},{w},{h} leaves the {info.size_x}x"
                                    f"{info.size_y} image")
    else:
        raise InvalidInputError("render_image_region needs tile=LEVEL,TX,TY or "
                                "region=X,Y,W,H")
    etag = _etag(base, "r", z, t, level, x, y, w, h)
    if known is not None and etag in known:
        return Rendered(b"", FORMATS[asked.fmt], etag, not_modified=True)
    data = _finish(_planes(buffer, asked, z, t, level, x, y, w, h), asked)
    return Rendered(data, FORMATS[asked.fmt], etag)


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
        planes = _planes(buffer, asked, z, t, level, 0, 0, size_x, size_y)
    else:
        planes = _sampled(buffer, asked, z, t, level, step)
    return Rendered(_finish(planes, asked), FORMATS[asked.fmt], etag)


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


def image_data(vault: Vault, actor: Actor, image_id: int) -> dict[str, Any]:
    """OMERO.web's imgData: sizes, pixel range, channels with windows and colours, tiles,
    levels and their scaling (level 0 is full resolution), rendering defaults."""
    from pixelvault.services.objects import containers

    info = INFO.get(vault, actor, image_id)
    effective = rendering.effective(vault, actor, image_id)
    buffer = buffer_for(vault, info)
    image = containers.get(vault.catalog, actor, "image", image_id)
    with vault.catalog.session() as session:
        from sqlalchemy import select

        from pixelvault.catalog.models import Channel, Experimenter, Pixels

        pixels = session.scalar(select(Pixels).where(Pixels.id == info.pixels_id))
        channels = session.scalars(select(Channel).where(
            Channel.pixels_id == info.pixels_id).order_by(Channel.index)).all()
        owner = session.get(Experimenter, image.owner_id)
    assert pixels is not None
    low, high = rendering._type_range(info.pixel_type)
    settings = effective.settings
    levels = buffer.levels
    ready = len(buffer.backend.levels)
    return {
        "id": image_id,
        "meta": {"imageName": image.name, "imageDescription": image.description,
                 "imageAuthor": owner.username if owner else "", "imageId": image_id,
                 "pixelsType": info.pixel_type,
                 "imageTimestamp": image.created_at.timestamp() if image.created_at else None},
        "perms": {"canAnnotate": actor.may(Right.ANNOTATE, image.owner_id, image.group_id),
                  "canEdit": actor.may(Right.EDIT, image.owner_id, image.group_id),
                  "canDelete": actor.may(Right.DELETE, image.owner_id, image.group_id),
                  "canLink": actor.may(Right.EDIT, image.owner_id, image.group_id)},
        "tiles": len(levels) > 1 or info.size_x * info.size_y > MAX_TILE * MAX_TILE,
        "tile_size": {"width": buffer.tile_size[0], "height": buffer.tile_size[1]},
        "levels": len(levels), "levels_ready": ready,
        "zoomLevelScaling": {str(i): x / info.size_x for i, (x, _) in enumerate(levels)},
        "interpolate": True,
        "size": {"width": info.size_x, "height": info.size_y, "z": info.size_z,
                 "t": info.size_t, "c": info.size_c},
        "pixel_size": {"x": pixels.physical_size_x, "y": pixels.physical_size_y,
                       "z": pixels.physical_size_z},
        "pixel_range": [low, high],
        "channels": [{
            "label": (channels[i].name if i < len(channels) and channels[i].name
                      else str(i + 1)),
            "emissionWave": channels[i].emission_wavelength if i < len(channels) else None,
            "color": c.color, "lut": c.lut or None, "inverted": c.inverted,
            "reverseIntensity": c.inverted, "family": "linear", "coefficient": 1.0,
            "active": c.active,
            "window": {"start": c.start, "end": c.end,
                       "min": channels[i].min if i < len(channels) and
                       channels[i].min is not None else low,
                       "max": channels[i].max if i < len(channels) and
                       channels[i].max is not None else high}}
            for i, c in enumerate(settings.channels)],
        "rdefs": {"model": settings.model, "projection": settings.projection,
                  "defaultZ": settings.default_z, "defaultT": settings.default_t,
                  "invertAxis": False},
    }


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
