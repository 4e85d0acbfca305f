"""Images made from arrays rather than imported: created empty, written plane by plane
(or region by region, for data larger than memory), then finished.

The pixels live in the Pixels store as OME-Zarr 0.5 at ``Pixels/<Dir-…>/<id>``;
rows and store appear together (the store is made under a temporary name and
renamed into place before the commit), so a crash leaves at worst a store
without rows, which `admin cleanse` removes. Finishing computes the channels'
statistics, or queues a pyramid for a large image (which computes them).
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session

from pixelvault import text
from pixelvault.catalog import Actor, Right
from pixelvault.catalog.models import (
    Channel,
    DatasetImageLink,
    Image,
    Pixels,
    PixelsStorage,
)
from pixelvault.errors import InvalidInputError
from pixelvault.formats import PIXEL_TYPES
from pixelvault.repository.files import FileWriter
from pixelvault.services.objects import containers
from pixelvault.services.pixels.access import (
    PixelsInfo,
    buffer_for,
    cache_for,
    needs_pyramid,
    pixels_info,
)
from pixelvault.services.pixels.backends import create_store
from pixelvault.services.pixels.buffer import PixelBuffer
from pixelvault.services.pixels.pyramids import enqueue
from pixelvault.services.vault import Vault

MAX_SIDE = 1 << 20
MAX_PLANES = 1 << 20


@dataclass(frozen=True)
class NewImage:
    name: str
    size_x: int
    size_y: int
    size_z: int = 1
    size_c: int = 1
    size_t: int = 1
    pixel_type: str = "uint16"
    description: str = ""
    channel_names: tuple[str, ...] = ()
    physical_size_x: float | None = None  # micrometres
    physical_size_y: float | None = None
    physical_size_z: float | None = None
    time_increment: float | None = None  # seconds


def _check(new: NewImage) -> None:
    if new.pixel_type not in PIXEL_TYPES:
        raise InvalidInputError(f"pixel type {new.pixel_type!r}: use one of "
                                f"{', '.join(PIXEL_TYPES)}")
    for name, size, top in (("size_x", new.size_x, MAX_SIDE), ("size_y", new.size_y, MAX_SIDE),
                            ("size_z", new.size_z, MAX_PLANES),
                            ("size_c", new.size_c, 10_000),
                            ("size_t", new.size_t, MAX_PLANES)):
        if not 1 <= size <= top:
            raise InvalidInputError(f"{name}={size} is outside 1..{top}")
    if new.size_z * new.size_c * new.size_t > MAX_PLANES:
        raise InvalidInputError(f"at most {MAX_PLANES} planes (z x c x t) per image")
    if len(new.channel_names) > new.size_c:
        raise InvalidInputError(f"{len(new.channel_names)} channel names for "
                                f"{new.size_c} channels")
    text.check_name("an image's name", new.name)
    text.check_text("an image's description", new.description)
    for channel in new.channel_names:
        text.check_name("a channel name", channel)
    if not 0 < len(new.name.strip()) <= 1024:
        raise InvalidInputError("an image needs a name of 1 to 1024 characters")
    for value in (new.physical_size_x, new.physical_size_y, new.physical_size_z,
                  new.time_increment):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InvalidInputError("physical sizes and the time increment must be positive")


def _rows(session: Session, actor: Actor, new: NewImage, dataset_id: int | None,
          storage: str) -> tuple[int, int]:
    """The image, pixels, channel and dataset-link rows (not committed); their ids."""
    dtype = PIXEL_TYPES[new.pixel_type]
    if dataset_id is not None:
        dataset = containers.checked(session, actor, "dataset", dataset_id, Right.EDIT)
        if dataset.group_id != actor.group_id:
            raise InvalidInputError(f"dataset {dataset_id} is in another group than the "
                                    "one you work in; switch groups first")
    now = datetime.now(UTC)
    image = Image(name=new.name, description=new.description, owner_id=actor.user_id,
                  group_id=actor.group_id, created_at=now, updated_at=now)
    session.add(image)
    session.flush()
    pixels = Pixels(image_id=image.id, size_x=new.size_x, size_y=new.size_y,
                    size_z=new.size_z, size_c=new.size_c, size_t=new.size_t,
                    pixel_type=new.pixel_type,
                    significant_bits=1 if dtype == np.bool_ else dtype.itemsize * 8,
                    physical_size_x=new.physical_size_x, physical_size_y=new.physical_size_y,
                    physical_size_z=new.physical_size_z, time_increment=new.time_increment,
                    levels=f"[[{new.size_x}, {new.size_y}]]", storage=storage)
    session.add(pixels)
    session.flush()
    for index in range(new.size_c):
        name = new.channel_names[index] if index < len(new.channel_names) else ""
        session.add(Channel(pixels_id=pixels.id, index=index, name=name[:255]))
    if dataset_id is not None:
        session.add(DatasetImageLink(parent_id=dataset_id, child_id=image.id,
                                     owner_id=actor.user_id, group_id=actor.group_id))
    return int(image.id), int(pixels.id)


def create(vault: Vault, actor: Actor, new: NewImage, dataset_id: int | None = None) -> int:
    """A new image of zeros, in the actor's group; its id."""
    _check(new)
    vault.guard.check()
    with vault.catalog.session() as session:
        image_id, pixels_id = _rows(session, actor, new, dataset_id, PixelsStorage.ZARR)
        # Bytes first: the store is in place before the rows are committed.
        final = vault.pixels.prepare(pixels_id)
        temp = final.with_name(f".{final.name}.new.tmp")
        try:
            create_store(temp, (new.size_t, new.size_c, new.size_z, new.size_y, new.size_x),
                         PIXEL_TYPES[new.pixel_type], new.name)
            vault.pixels.publish(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    return image_id


def adopt_omero_raw(vault: Vault, actor: Actor, source: Path, new: NewImage,
                    dataset_id: int | None = None) -> int:
    """An image whose pixels are an OMERO raw Pixels file (from an OMERO repository's
    Pixels directory): the file is copied into our Pixels store, checked against the
    sizes and type given, and served read-only."""
    from pixelvault.formats.omero_raw import OmeroRawPixels

    _check(new)
    dtype = PIXEL_TYPES[new.pixel_type]
    OmeroRawPixels(source, new.size_x, new.size_y, new.size_z, new.size_c, new.size_t,
                   dtype)  # refuses a file of the wrong length or type
    vault.guard.check(source.stat().st_size)
    with vault.catalog.session() as session:
        image_id, pixels_id = _rows(session, actor, new, dataset_id, PixelsStorage.OMERO_RAW)
        final = vault.pixels.prepare(pixels_id)
        writer = FileWriter(final, vault.layout.relative(final), pixels_id, ["File-Size-64"],
                            vault.guard, mode=0o444)
        with writer, source.open("rb") as handle:
            while chunk := handle.read(4 << 20):
                writer.write(chunk)
            writer.commit()
    return image_id


def writable(vault: Vault, actor: Actor, image_id: int) -> tuple[PixelBuffer, PixelsInfo]:
    """The buffer of a created image the actor may edit (403/404 otherwise)."""
    with vault.catalog.session() as session:
        containers.checked(session, actor, "image", image_id, Right.EDIT)
        info = pixels_info(session, actor, image_id)
    if info.storage != PixelsStorage.ZARR:
        raise InvalidInputError(f"image {image_id}'s pixels are its imported original files, "
                                "which are never changed; only images created through the "
                                "API take writes")
    return buffer_for(vault, info), info


def write(vault: Vault, actor: Actor, image_id: int, z: int, c: int, t: int, x: int, y: int,
          data: np.ndarray[Any, Any]) -> None:
    """Write a region of one plane; the image's version moves on and a pyramid built
    from the old pixels is queued again."""
    buffer, info = writable(vault, actor, image_id)
    buffer.set_region(z, c, t, x, y, data)
    with vault.catalog.session() as session:
        session.execute(update(Pixels).where(Pixels.id == info.pixels_id).values(
            version=Pixels.version + 1).execution_options(synchronize_session=False))
        if info.job_id is not None:
            enqueue(session, [info.pixels_id])
    here = str(vault.pixels.path(info.pixels_id))
    cache_for(vault).drop(lambda key: str(key[1]).startswith(here))


def finish(vault: Vault, actor: Actor, image_id: int) -> dict[str, Any]:
    """Done writing: statistics now (small images) or with the pyramid (large ones)."""
    buffer, info = writable(vault, actor, image_id)
    pixels_id = info.pixels_id
    threshold = vault.settings.pyramid_threshold
    with vault.catalog.session() as session:
        if needs_pyramid(buffer.size_x, buffer.size_y, 1, threshold):
            enqueue(session, [pixels_id])
            return {"image": image_id, "pyramid": "queued"}
    ranges = channel_ranges(buffer)
    with vault.catalog.session() as session:
        for index, (low, high) in enumerate(ranges):
            session.execute(update(Channel).where(
                Channel.pixels_id == pixels_id, Channel.index == index).values(
                min=low, max=high).execution_options(synchronize_session=False))
    return {"image": image_id, "pyramid": None}


def channel_ranges(buffer: PixelBuffer, band_rows: int = 1024) -> list[tuple[float, float]]:
    """Each channel's (min, max) over every plane, a band of rows at a time."""
    ranges = []
    for c in range(buffer.size_c):
        low, high = math.inf, -math.inf
        for t in range(buffer.size_t):
            for z in range(buffer.size_z):
                for y in range(0, buffer.size_y, band_rows):
                    rows = min(band_rows, buffer.size_y - y)
                    band = buffer.get_region(z, c, t, 0, y, buffer.size_x, rows)
                    values = band[np.isfinite(band)] if band.dtype.kind == "f" else band
                    if values.size:
                        low, high = min(low, float(values.min())), max(high, float(values.max()))
        ranges.append((low, high) if low <= high else (0.0, 0.0))
    return ranges
