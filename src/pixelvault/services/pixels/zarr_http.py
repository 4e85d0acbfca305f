"""Every image as a read-only OME-Zarr 0.5 (Zarr v3) group, whatever holds its pixels.

``zarr.json`` of the group carries ``ome.multiscales`` (the levels built so far,
full resolution first, axes t, c, z, y, x) and ``ome.omero`` (the channels with the
reader's rendering settings); each level is an array of 512x512 chunks, zstd.
Chunks of a generated pyramid are sent as stored (no decode); others are read
from their backend (originals, created images, OMERO raw files), padded to the
chunk shape and compressed on the way. Permission checks are the same as for
every other read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixelvault.catalog import Actor
from pixelvault.errors import NotFoundError
from pixelvault.formats.ngff_write import AXES, CHUNK, group_metadata
from pixelvault.formats.ngff_write import Image as NgffImage
from pixelvault.formats.zarr_shards import Layout, encode_chunk
from pixelvault.services.pixels.access import PixelsInfo, buffer_for
from pixelvault.services.pixels.backends import ZarrBackend
from pixelvault.services.pixels.buffer import PixelBuffer
from pixelvault.services.rendering import images
from pixelvault.services.rendering import settings as rendering
from pixelvault.services.vault import Vault


@dataclass(frozen=True)
class Level:
    index: int
    layout: Layout
    stored: Any | None  # a ShardReader whose chunks are served as they are


def _levels(buffer: PixelBuffer, info: PixelsInfo) -> list[Level]:
    backend = buffer.backend
    found = []
    for index, (size_x, size_y) in enumerate(backend.levels):
        shape = (info.size_t, info.size_c, info.size_z, size_y, size_x)
        if isinstance(backend, ZarrBackend):
            reader = backend.readers[index]
            found.append(Level(index, reader.layout, reader))
            continue
        chunk = (1, 1, 1, min(CHUNK, size_y), min(CHUNK, size_x))
        found.append(Level(index, Layout(shape, chunk, chunk, buffer.dtype), None))
    return found


def _open(vault: Vault, actor: Actor, image_id: int) -> tuple[PixelsInfo, PixelBuffer]:
    info = images.INFO.get(vault, actor, image_id)
    return info, buffer_for(vault, info)


def version(vault: Vault, actor: Actor, image_id: int) -> str:
    """What changes when anything the group serves changes (for ETags)."""
    info, buffer = _open(vault, actor, image_id)
    effective = rendering.effective(vault, actor, image_id)
    text = f"{image_id}-{info.version}-{len(buffer.backend.levels)}-{effective.settings.key}"
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:24]


def group(vault: Vault, actor: Actor, image_id: int) -> dict[str, Any]:
    info, buffer = _open(vault, actor, image_id)
    effective = rendering.effective(vault, actor, image_id)
    from sqlalchemy import select

    from pixelvault.catalog.models import Channel, Pixels

    with vault.catalog.session() as session:
        pixels = session.scalar(select(Pixels).where(Pixels.id == info.pixels_id))
        names = session.scalars(select(Channel.name).where(
            Channel.pixels_id == info.pixels_id).order_by(Channel.index)).all()
    assert pixels is not None
    image = NgffImage(info.size_x, info.size_y, info.size_z, info.size_c, info.size_t,
                      buffer.dtype, name=info.name, physical_size_x=pixels.physical_size_x,
                      physical_size_y=pixels.physical_size_y,
                      physical_size_z=pixels.physical_size_z,
                      time_increment=pixels.time_increment,
                      channel_names=[n or f"C{i}" for i, n in enumerate(names)],
                      channel_colours=[c.color for c in effective.settings.channels])
    meta = group_metadata(image, list(buffer.backend.levels),
                          [(c.start, c.end) for c in effective.settings.channels])
    omero = meta["attributes"]["ome"]["omero"]
    low, high = rendering.type_range(info.pixel_type)
    for channel, settings in zip(omero["channels"], effective.settings.channels, strict=True):
        channel["active"] = settings.active
        channel["inverted"] = settings.inverted
        channel["window"] = {"start": settings.start, "end": settings.end, "min": low,
                             "max": high}
    omero["rdefs"] = {"model": effective.settings.model,
                      "defaultZ": effective.settings.default_z,
                      "defaultT": effective.settings.default_t}
    return meta


def array(vault: Vault, actor: Actor, image_id: int, level: int) -> dict[str, Any]:
    info, buffer = _open(vault, actor, image_id)
    levels = _levels(buffer, info)
    if not 0 <= level < len(levels):
        raise NotFoundError(f"image {image_id} has levels 0..{len(levels) - 1} now")
    return levels[level].layout.metadata(AXES, sharded=False)


def chunk(vault: Vault, actor: Actor, image_id: int, level: int,
          key: tuple[int, ...]) -> bytes | None:
    """A chunk's bytes; None for one outside the array (a Zarr client reads it as fill)."""
    info, buffer = _open(vault, actor, image_id)
    levels = _levels(buffer, info)
    if not 0 <= level < len(levels) or len(key) != 5:
        return None
    found = levels[level]
    layout = found.layout
    if any(not 0 <= k < n for k, n in zip(key, layout.chunk_grid, strict=True)):
        return None
    if found.stored is not None:
        stored: bytes | None = found.stored.raw_chunk(key)
        return stored
    t, c, z, cy, cx = key
    height, width = layout.chunk[3], layout.chunk[4]
    y, x = cy * height, cx * width
    size_y, size_x = layout.shape[3], layout.shape[4]
    region = buffer.backend.read(level, z, c, t, x, y, min(width, size_x - x),
                                 min(height, size_y - y))
    return encode_chunk(layout, np.asarray(region)[None, None, None])
