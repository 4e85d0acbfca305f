"""Thumbnails: rendered with the settings in effect, kept in the Thumbnails store, made
again when those settings or the pixels change.

A thumbnail is rendered from the smallest resolution level at least its size
(so a pyramid's small levels do the work); an image whose pyramid is still
being built gets one from the best level it has, read in bands of rows and
sub-sampled, never a broken image. Import makes the owner's 96-pixel
thumbnail in the same transaction as the image.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor
from pixelvault.catalog.models import Thumbnail
from pixelvault.errors import InvalidInputError, PixelvaultError
from pixelvault.render.encode import encode
from pixelvault.render.engine import project, render
from pixelvault.render.settings import Settings
from pixelvault.services.pixels.access import buffer_for, pixels_info
from pixelvault.services.pixels.buffer import PixelBuffer
from pixelvault.services.rendering import settings as rendering
from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
DEFAULT_SIZE = 96  # OMERO's, on the longest side
MAX_SIZE = 1024
QUALITY = 0.85  # OMERO's thumbnail JPEG quality
BAND_PIXELS = 4 << 20  # pixels read at once when sub-sampling a large level

# (level, c, z, t, x, y, width, height) -> (height, width) pixels
RegionReader = Callable[[int, int, int, int, int, int, int, int], np.ndarray]


def thumbnail_size(size_x: int, size_y: int, width: int | None,
                   height: int | None) -> tuple[int, int]:
    """OMERO's rule: one size is the longest side (the other ``int(short*size/long)``);
    both give exactly that size."""
    for value in (width, height):
        if value is not None and not 1 <= value <= MAX_SIZE:
            raise InvalidInputError(f"a thumbnail size of {value}: use 1..{MAX_SIZE}")
    if width is not None and height is not None:
        return width, height
    longest = width or height or DEFAULT_SIZE
    if size_x >= size_y:
        return longest, max(1, int(size_y * longest / size_x))
    return max(1, int(size_x * longest / size_y)), longest


def settings_key(settings: Settings) -> str:
    return hashlib.sha1(settings.key.encode(), usedforsecurity=False).hexdigest()[:32]


def _plane(read: RegionReader, levels: list[tuple[int, int]], level: int, c: int, z: int,
           t: int, target: tuple[int, int]) -> np.ndarray[Any, Any]:
    """A whole plane of ``level``, sub-sampled while read when it is much larger than
    ``target`` (bands of rows, so memory stays small whatever the plane's size)."""
    size_x, size_y = levels[level]
    step = max(1, min(size_x // max(1, 2 * target[0]), size_y // max(1, 2 * target[1])))
    if step == 1:
        return read(level, c, z, t, 0, 0, size_x, size_y)
    rows = max(step, (BAND_PIXELS // size_x) // step * step)
    bands = []
    for y in range(0, size_y, rows):
        band = read(level, c, z, t, 0, y, size_x, min(rows, size_y - y))
        bands.append(band[::step, ::step])
    return np.concatenate(bands)


def render_small(read: RegionReader, levels: list[tuple[int, int]], settings: Settings,
                 size_z: int, target: tuple[int, int]) -> bytes:
    """A JPEG of ``target`` size from the levels ``read`` can read."""
    from PIL import Image

    fitting = [i for i, (x, y) in enumerate(levels) if x >= target[0] and y >= target[1]]
    level = fitting[-1] if fitting else 0
    active = [i for i, c in enumerate(settings.channels) if c.active]
    z, t = settings.default_z, settings.default_t
    planes: dict[int, np.ndarray[Any, Any]] = {}
    for c in active:
        if settings.projection != "normal":
            start, end = settings.z_range(size_z)
            stack = np.stack([_plane(read, levels, level, c, zz, t, target)
                              for zz in range(start, end + 1)])
            planes[c] = project(stack, settings.projection)
        else:
            planes[c] = _plane(read, levels, level, c, z, t, target)
    if not planes:
        size_x, size_y = levels[level]
        planes[0] = np.zeros((min(size_y, target[1]), min(size_x, target[0])), np.uint8)
    rgb = render(planes, settings)
    small = Image.fromarray(rgb, "RGB").resize(target, Image.Resampling.BILINEAR,
                                               reducing_gap=2.0)
    return encode(np.asarray(small), "jpeg", QUALITY)


def _buffer_reader(buffer: PixelBuffer) -> tuple[RegionReader, list[tuple[int, int]]]:
    levels = buffer.levels[:len(buffer.backend.levels)]  # only what exists now

    def read(level: int, c: int, z: int, t: int, x: int, y: int, w: int,
             h: int) -> np.ndarray[Any, Any]:
        return buffer.backend.read(level, z, c, t, x, y, w, h)

    return read, levels


def store(session: Session, vault: Vault, pixels_id: int, owner_id: int,
          target: tuple[int, int], data: bytes, key: str, rdef_version: int,
          pixels_version: int) -> Thumbnail:
    """The row and the bytes of a thumbnail (bytes written before the caller commits)."""
    row = session.scalar(select(Thumbnail).where(
        Thumbnail.pixels_id == pixels_id, Thumbnail.owner_id == owner_id,
        Thumbnail.size_x == target[0], Thumbnail.size_y == target[1]))
    now = datetime.now(UTC)
    if row is None:
        row = Thumbnail(pixels_id=pixels_id, owner_id=owner_id, size_x=target[0],
                        size_y=target[1], version=0)
        session.add(row)
    row.version = (row.version or 0) + 1
    row.rdef_version, row.pixels_version, row.rdef_key = rdef_version, pixels_version, key
    row.size, row.updated_at = len(data), now
    session.flush()
    vault.thumbnails.write(row.id, data)
    return row


def get(vault: Vault, actor: Actor, image_id: int, width: int | None = None,
        height: int | None = None) -> bytes:
    """The JPEG thumbnail of an image the actor may read, from the store when current."""
    effective = rendering.effective(vault, actor, image_id)
    with vault.catalog.session() as session:
        info = pixels_info(session, actor, image_id)
        target = thumbnail_size(info.size_x, info.size_y, width, height)
        key = settings_key(effective.settings)
        row = session.execute(select(Thumbnail.id, Thumbnail.rdef_key, Thumbnail.pixels_version)
                              .where(Thumbnail.pixels_id == info.pixels_id,
                                     Thumbnail.owner_id == effective.owner_id,
                                     Thumbnail.size_x == target[0],
                                     Thumbnail.size_y == target[1])).first()
    if row is not None and row.rdef_key == key and row.pixels_version == info.version:
        data = vault.thumbnails.read(row.id)
        if data is not None:
            return data
    buffer = buffer_for(vault, info)
    read, levels = _buffer_reader(buffer)
    data = render_small(read, levels, effective.settings, info.size_z, target)
    try:
        with vault.catalog.session() as session:
            store(session, vault, info.pixels_id, effective.owner_id, target, data, key,
                  effective.version, info.version)
    except IntegrityError:  # made at the same moment by a job or another viewer: theirs stays
        log.info("thumbnail of image %s stored meanwhile by another", image_id)
    return data


def make(vault: Vault, pixels_id: int, owner_id: int) -> bool:
    """A background job's work: ``owner_id``'s default-size thumbnail of the pixels, with
    the settings that user sees, made and stored unless it is current. False when
    the image or the user is gone, or the user may no longer read it (nothing to do).
    A file that cannot be read is logged, not raised: another try would fail alike;
    the catalog or the repository away is raised, for the queue to try again later."""
    from pixelvault.catalog.models import Pixels
    from pixelvault.catalog.permissions import load_actor
    from pixelvault.errors import CatalogError, NotFoundError, RepositoryError

    with vault.catalog.session() as session:
        image_id = session.scalar(select(Pixels.image_id).where(Pixels.id == pixels_id))
        actor = load_actor(session, owner_id) if image_id is not None else None
    if image_id is None or actor is None:
        return False
    try:
        get(vault, actor, image_id)
    except NotFoundError:
        return False
    except (CatalogError, RepositoryError):
        raise
    except PixelvaultError as exc:
        log.warning("no thumbnail for image %s: %s", image_id, exc)
        return False
    return True


def batch(vault: Vault, actor: Actor, image_ids: list[int],
          size: int | None = None) -> dict[int, str | None]:
    """OMERO's get_thumbnails: a data URL per id; one that fails gives None, not an error."""
    found: dict[int, str | None] = {}
    for image_id in image_ids:
        try:
            data = get(vault, actor, image_id, size)
        except PixelvaultError as exc:
            log.info("no thumbnail for image %s: %s", image_id, exc)
            found[image_id] = None
            continue
        found[image_id] = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return found
