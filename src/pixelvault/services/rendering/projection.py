"""A z-projection saved as a new image, as OMERO's projection service makes one for
OMERO.iviewer's "save projection": every channel and time point, the planes from
``start`` to ``end`` projected into one, the source's type kept (sums and means
clipped and rounded into it), its calibration, channel names and rendering
settings carried over, and a description saying where it came from.

The new image is the caller's, in the source's group when they belong to it. The
work is read in bands of rows, so a large plane never sits in memory whole, and
is bounded: at most MAX_STACK_BYTES per channel and time point (OMERO's
``omero.pixeldata.max_projection_bytes``), MAX_SOURCE_BYTES in all.
"""

from __future__ import annotations

import dataclasses
from pathlib import PurePath
from typing import Any

import numpy as np
from sqlalchemy import select

from pixelvault.catalog import Actor
from pixelvault.catalog.models import Pixels
from pixelvault.errors import InvalidInputError
from pixelvault.formats import PIXEL_TYPES
from pixelvault.render.engine import project
from pixelvault.services.objects import containers
from pixelvault.services.pixels import create
from pixelvault.services.pixels.access import buffer_for, pixels_info
from pixelvault.services.rendering import settings as rendering
from pixelvault.services.vault import Vault

METHODS = ("intmax", "intmean", "intsum")
MAX_STACK_BYTES = 256 << 20  # one channel's planes at one time point: OMERO's default
MAX_SOURCE_BYTES = 4 << 30  # every channel and time point together
BAND_BYTES = 64 << 20


def _fitted(values: np.ndarray[Any, Any], dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    if dtype.kind == "f":
        return values.astype(dtype)
    if dtype == np.bool_:
        found: np.ndarray[Any, Any] = values > 0
        return found
    limits = np.iinfo(dtype)
    clipped: np.ndarray[Any, Any] = np.clip(np.rint(values), limits.min, limits.max)
    return clipped.astype(dtype)


def save_projection(vault: Vault, actor: Actor, image_id: int, method: str, start: int,
                    end: int, dataset_id: int | None = None) -> int:
    """The new image's id."""
    if method not in METHODS:
        raise InvalidInputError(f"projection={method!r}: use {', '.join(METHODS)}")
    with vault.catalog.session() as session:
        info = pixels_info(session, actor, image_id)  # NotFoundError if unreadable
    if not 0 <= start <= end < info.size_z:
        raise InvalidInputError(f"start={start}, end={end}: z planes from 0 to "
                                f"{info.size_z - 1}, start not after end")
    dtype = np.dtype(PIXEL_TYPES[info.pixel_type])
    planes = end - start + 1
    stack_bytes = info.size_x * info.size_y * dtype.itemsize * planes
    if stack_bytes > MAX_STACK_BYTES:
        raise InvalidInputError(f"{planes} planes of this image are {stack_bytes >> 20} MiB; at "
                                f"most {MAX_STACK_BYTES >> 20} MiB are projected at once, "
                                "as in OMERO: project fewer planes")
    cost = stack_bytes * info.size_c * info.size_t
    if cost > MAX_SOURCE_BYTES:
        raise InvalidInputError(f"the projection would read {cost >> 20} MiB; at most "
                                f"{MAX_SOURCE_BYTES >> 20} MiB: project fewer planes")
    source = containers.get(vault.catalog, actor, "image", image_id)
    channels = containers.channels_of(vault.catalog, actor, image_id)
    with vault.catalog.session() as session:
        pixels = session.scalar(select(Pixels).where(Pixels.id == info.pixels_id))
    assert pixels is not None
    maker = actor
    if source.group_id in actor.group_ids and source.group_id != actor.group_id:
        maker = dataclasses.replace(actor, group_id=source.group_id)
    name = PurePath(source.name)
    stem = source.name[:-len("".join(name.suffixes))] if name.suffixes else source.name
    times = "timepoint: 1" if info.size_t == 1 else f"timepoints: 1-{info.size_t}"
    new = create.NewImage(
        name=f"{stem}_proj{''.join(name.suffixes)}"[:1024], size_x=info.size_x,
        size_y=info.size_y, size_z=1, size_c=info.size_c, size_t=info.size_t,
        pixel_type=info.pixel_type,
        description=f"Image's name: {source.name}\nImage: {image_id}\nProjection type: "
                    f"{method}\nz-sections: {start + 1}-{end + 1}\n{times}",
        channel_names=tuple(c.name for c in channels),
        physical_size_x=pixels.physical_size_x, physical_size_y=pixels.physical_size_y,
        time_increment=pixels.time_increment)
    made = create.create(vault, maker, new, dataset_id)
    reader = buffer_for(vault, info)
    rows = max(1, BAND_BYTES // max(1, info.size_x * dtype.itemsize * planes))
    for t in range(info.size_t):
        for c in range(info.size_c):
            for y in range(0, info.size_y, rows):
                height = min(rows, info.size_y - y)
                stack = np.stack([reader.get_region(z, c, t, 0, y, info.size_x, height, 0)
                                  for z in range(start, end + 1)])
                create.write(vault, maker, made, 0, c, t, 0, y,
                             _fitted(project(stack, method), dtype))
    create.finish(vault, maker, made)
    rendering.copy(vault, maker, image_id, [made])  # the settings the caller sees
    return made
