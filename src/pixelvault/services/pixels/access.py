"""Which backend serves an image, in OMERO's order: its pyramid if built, else its
own pixels in the Pixels store, else the imported original files.

Opening a file costs two to three times a tile read, so open readers and stores
stay in a bounded per-process cache, keyed by what would change if the file
did (its path, size and modification time, or the pixels' version).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Right
from pixelvault.catalog import files as file_rows
from pixelvault.catalog.models import (
    Fileset,
    FilesetEntry,
    Image,
    JobState,
    OriginalFile,
    Pixels,
    PixelsStorage,
    PyramidJob,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import CorruptFileError, NotFoundError
from pixelvault.formats.members import Members
from pixelvault.formats.ngff_write import level_sizes
from pixelvault.services.handles import HandleCache
from pixelvault.services.pixels.backends import (
    CreatedBackend,
    OmeroRawBackend,
    OriginalBackend,
    ZarrBackend,
)
from pixelvault.services.pixels.buffer import Backend, Pending, PixelBuffer
from pixelvault.services.readers import open_original
from pixelvault.services.vault import Vault


@dataclass(frozen=True)
class PixelsInfo:
    """What the catalog says about an image's pixels and where they are."""

    image_id: int
    pixels_id: int
    name: str
    size_x: int
    size_y: int
    size_z: int
    size_c: int
    size_t: int
    pixel_type: str
    own_levels: list[tuple[int, int]]
    storage: str
    version: int
    series: int
    entry: str  # catalog path of what the reader opens ("" when not a fileset)
    fileset_id: int | None
    owner_id: int
    group_id: int
    job_id: int | None
    job_state: str | None
    job_progress: float
    job_reason: str
    created: str = ""  # when the image was made: ids come back on SQLite, this does not

    @property
    def sizes(self) -> tuple[int, int, int, int, int]:
        return (self.size_x, self.size_y, self.size_z, self.size_c, self.size_t)


def _query(session: Session, image_ids: list[int], actor: Actor | None) -> list[PixelsInfo]:
    first_file = (select(OriginalFile.path).join(
        FilesetEntry, FilesetEntry.original_file_id == OriginalFile.id)
        .where(FilesetEntry.fileset_id == Image.fileset_id, FilesetEntry.position == 0)
        .correlate(Image).scalar_subquery())
    query = (select(Image.id, Image.name, Image.series, Image.owner_id, Image.group_id,
                    Image.fileset_id, Pixels, Fileset.entry, first_file, PyramidJob.id,
                    PyramidJob.state, PyramidJob.progress, PyramidJob.reason,
                    Image.created_at)
             .join(Pixels, Pixels.image_id == Image.id)
             .outerjoin(Fileset, Fileset.id == Image.fileset_id)
             .outerjoin(PyramidJob, PyramidJob.pixels_id == Pixels.id)
             .where(Image.id.in_(image_ids)))
    if actor is not None:
        query = query.where(allowed(actor, Right.READ, Image))
    found = []
    for (image_id, name, series, owner_id, group_id, fileset_id, pixels, entry, first, job_id,
         job_state, job_progress, job_reason, created) in session.execute(query).all():
        found.append(PixelsInfo(
            image_id=image_id, pixels_id=pixels.id, name=name, size_x=pixels.size_x,
            size_y=pixels.size_y, size_z=pixels.size_z, size_c=pixels.size_c,
            size_t=pixels.size_t, pixel_type=pixels.pixel_type,
            own_levels=[tuple(level) for level in json.loads(pixels.levels or "[]")]
            or [(pixels.size_x, pixels.size_y)],
            storage=pixels.storage, version=pixels.version, series=series,
            entry=entry or first or "", fileset_id=fileset_id, owner_id=owner_id,
            group_id=group_id, job_id=job_id,
            job_state=job_state, job_progress=float(job_progress or 0.0),
            job_reason=job_reason or "", created=_microseconds(created)))
    return found


def _microseconds(when: datetime | None) -> str:
    """Microseconds since 1970 (UTC): the same text in every process and on every host,
    whatever the catalog's or the connection's time zone (SQLite keeps naive UTC)."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return str(round(when.timestamp() * 1_000_000))


def pixels_info(session: Session, actor: Actor | None, image_id: int) -> PixelsInfo:
    """The image's pixels as ``actor`` may read them (None: the server's own jobs);
    404 for an image without pixels or one the actor may not see."""
    found = _query(session, [image_id], actor)
    if not found:
        raise NotFoundError(f"no image with id {image_id}")
    return found[0]


def pixels_infos(session: Session, actor: Actor, image_ids: list[int]) -> dict[int, PixelsInfo]:
    return {info.image_id: info for info in _query(session, image_ids, actor)}


def needs_pyramid(size_x: int, size_y: int, own_levels: int, threshold: int) -> bool:
    """OMERO's rule: a plane of more than ``threshold`` pixels, and no levels of its own."""
    return own_levels <= 1 and size_x * size_y > threshold


def planned_levels(info: PixelsInfo, threshold: int) -> list[tuple[int, int]]:
    """Every level the image has, or will have once its pyramid is built."""
    if needs_pyramid(info.size_x, info.size_y, len(info.own_levels), threshold):
        return level_sizes(info.size_x, info.size_y)
    return info.own_levels


def cache_for(vault: Vault) -> HandleCache:
    return vault.handles


def _stamp(vault: Vault, path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        vault.guard.require_available("nothing was read")
        raise CorruptFileError(f"{path} is missing from the repository; restore it, or "
                               "see `pixelvault fs sets --check`") from None
    return info.st_size, info.st_mtime_ns


class _SharedReader:
    """One open reader of a fileset, shared by its series' backends."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.lock = threading.Lock()  # one reader, one lock, whichever series is read
        self.backends: dict[int, OriginalBackend] = {}

    def backend(self, series: int) -> OriginalBackend:
        if series not in self.backends:
            self.backends[series] = OriginalBackend(self.reader, series, self.lock)
        return self.backends[series]

    def close(self) -> None:
        self.reader.close()


def source_backend(vault: Vault, info: PixelsInfo, cache: HandleCache | None = None) -> Backend:
    """The backend of the image's own pixels (never its generated pyramid)."""
    cache = cache or cache_for(vault)
    if info.storage == PixelsStorage.ZARR:
        path = vault.pixels.path(info.pixels_id)
        backend: Backend = cache.get(("zarr", str(path), info.version, info.created),
                                     lambda: CreatedBackend(path))
        return backend
    if info.storage == PixelsStorage.OMERO_RAW:
        path = vault.pixels.path(info.pixels_id)
        return cache.get(("raw", str(path), *_stamp(vault, path)),  # type: ignore[no-any-return]
                         lambda: OmeroRawBackend(path, info.sizes, _dtype(info)))
    if not info.entry:
        raise CorruptFileError(f"image {info.image_id} has no files; delete it and "
                               "import it again")
    entry = vault.managed.file(info.entry)
    shared: _SharedReader = cache.get(("original", str(entry), *_stamp(vault, entry)),
                                      lambda: _SharedReader(open_original(
                                          vault.memos, entry, _members(vault, info))))
    backend = shared.backend(info.series)
    backend.check(info.sizes)
    return backend


def _members(vault: Vault, info: PixelsInfo) -> Members:
    """The files of the image's fileset: all its reader may open."""
    if info.fileset_id is None:
        return Members.of([vault.managed.file(info.entry)])
    with vault.catalog.session() as session:
        paths = file_rows.fileset_paths(session, [info.fileset_id])[info.fileset_id]
    return Members.of(vault.managed.file(p) for p in paths)


def _dtype(info: PixelsInfo) -> Any:
    from pixelvault.formats import PIXEL_TYPES

    return PIXEL_TYPES[info.pixel_type]


def buffer_for(vault: Vault, info: PixelsInfo) -> PixelBuffer:
    """The pixel buffer of an image whose catalog facts are ``info``."""
    # One stat and a small read per buffer: a cached Zarr store on a share that
    # vanished would otherwise answer planes of zeros (missing chunks read as fill).
    vault.guard.require_available("nothing was read")
    cache = cache_for(vault)
    threshold = vault.settings.pyramid_threshold
    levels = planned_levels(info, threshold)
    pending = None
    pyramid = vault.pixels.pyramid(info.pixels_id)
    if info.job_state == JobState.DONE and pyramid.is_dir():
        backend: Backend = cache.get(("pyramid", str(pyramid), info.version, info.created),
                                     lambda: ZarrBackend(pyramid))
        levels = list(backend.levels)
    else:
        backend = source_backend(vault, info, cache)
        if len(levels) > len(backend.levels):
            failed = info.job_reason if info.job_state in (JobState.FAILED,
                                                           JobState.CANCELLED) else ""
            if info.job_state is None:
                failed = "no pyramid job exists for it"
            pending = Pending(info.job_progress, failed, info.job_id)
    return PixelBuffer(image_id=info.image_id, size_x=info.size_x, size_y=info.size_y,
                       size_z=info.size_z, size_c=info.size_c, size_t=info.size_t,
                       pixel_type=info.pixel_type, levels=levels, backend=backend,
                       pending=pending, max_bytes=vault.settings.max_pixel_request)


def open_buffer(vault: Vault, actor: Actor, image_id: int) -> PixelBuffer:
    """The pixels of an image the actor may read (404 otherwise)."""
    with vault.catalog.session() as session:
        info = pixels_info(session, actor, image_id)
    return buffer_for(vault, info)
