"""Importing one fileset: files into ManagedRepository, then its images into the catalog.

Order, so that a crash or an error never leaves a half import visible:
  1. the fileset's directory and its row, in state ``importing``;
  2. each file copied, hashed while read, fsynced, made read-only, re-hashed
     from disk and compared; a source that changed meanwhile fails the import;
  3. the copy (not the source) opened by its reader: metadata and min/max;
  4. one transaction with every row (files, entries, images, pixels, channels,
     annotations, dataset links) and the state ``ready``.
Any failure removes the rows and the directory. A killed import leaves a
fileset in state ``importing``, which `admin cleanse` removes.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Right
from pixelvault.catalog import files as file_rows
from pixelvault.catalog.bulk import insert_returning_ids, insert_rows
from pixelvault.catalog.models import (
    Annotation,
    AnnotationLink,
    Channel,
    DatasetImageLink,
    Experimenter,
    ExperimenterGroup,
    Fileset,
    FilesetEntry,
    FilesetState,
    Image,
    JobState,
    MapEntry,
    OriginalFile,
    Pixels,
    PyramidJob,
    Thumbnail,
)
from pixelvault.catalog.models.annotations import ORIGINAL_METADATA_NS
from pixelvault.errors import CorruptFileError, IntegrityError, InvalidInputError, PixelvaultError
from pixelvault.formats import Members, Metadata, Series
from pixelvault.repository import Store
from pixelvault.repository.atomic import DirSync
from pixelvault.repository.checksums import DEFAULT_ALGORITHM, canonical, digest_file
from pixelvault.repository.managed import TemplateValues, client_paths
from pixelvault.services.imports import structure
from pixelvault.services.imports.minmax import channel_ranges
from pixelvault.services.imports.plan import PlannedFileset
from pixelvault.services.imports.unreadable import unreadable
from pixelvault.services.jobs import queue
from pixelvault.services.objects import containers
from pixelvault.services.objects.files import guess_mimetype
from pixelvault.services.pixels.access import needs_pyramid
from pixelvault.services.readers import open_original
from pixelvault.services.vault import Vault

CHUNK = 4 << 20
log = logging.getLogger(__name__)


# How files get into ManagedRepository (OMERO's names). "upload" is over HTTP; the
# others need the repository's filesystem: copies, hard links, symbolic links, and
# copies or hard links whose source is removed once the import succeeded.
LOCAL_TRANSFERS = ("cp", "cp_rm", "ln", "ln_rm", "ln_s")


@dataclass(frozen=True)
class ImportOptions:
    algorithm: str = DEFAULT_ALGORITHM
    transfer: str = "cp"
    minmax: bool = True
    dataset_id: int | None = None
    name: str | None = None
    description: str | None = None
    thumbnails: bool = True


@dataclass
class ImportedFileset:
    fileset_id: int
    directory: str
    image_ids: list[int]
    files: int
    bytes: int
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class CopiedFile:
    file_id: int
    source: Path
    relpath: PurePosixPath  # below the fileset's directory
    stored: Path  # absolute path of the copy
    repo_path: str  # relative to the repository root, as the catalog records it
    size: int
    hash: str


Progress = Callable[[int], None]  # bytes copied since the last call


def _template_values(session: Session, actor: Actor) -> TemplateValues:
    user = session.get(Experimenter, actor.user_id)
    group = session.get(ExperimenterGroup, actor.group_id)
    return TemplateValues(user=user.username if user else str(actor.user_id),
                          user_id=actor.user_id, group=group.name if group else "",
                          group_id=actor.group_id, perms=group.permissions if group else "",
                          when=datetime.now())


def _copy(vault: Vault, file_id: int, directory: PurePosixPath, source: Path,
          relpath: PurePosixPath, algorithm: str, progress: Progress | None,
          later: DirSync | None = None) -> CopiedFile:
    before = source.stat()
    writer = vault.managed.open_writer(directory, relpath, file_id, [algorithm], before.st_size,
                                       later)
    with writer, source.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            writer.write(chunk)
            if progress is not None:
                progress(len(chunk))
        stored = writer.commit()
    _unchanged(source, before)
    sent = stored.hashes[algorithm]
    # The server's own check: what is on disk now, read back, must hash the same.
    on_disk = digest_file(algorithm, writer.final)
    if on_disk != sent:
        raise IntegrityError(f"{source.name}: the copy in ManagedRepository does not match "
                             f"what was read ({algorithm} {on_disk} != {sent}); "
                             "check the disk, then import again")
    return CopiedFile(file_id, source, relpath, writer.final, str(stored.relpath), stored.size,
                   sent)


def _link(vault: Vault, file_id: int, directory: PurePosixPath, source: Path,
          relpath: PurePosixPath, algorithm: str, transfer: str,
          progress: Progress | None, later: DirSync | None = None) -> CopiedFile:
    """In place: link the file, then hash it as the repository sees it."""
    before = source.stat()
    symbolic = transfer == "ln_s"
    final = vault.managed.link(directory, relpath, source, symbolic=symbolic, later=later)
    digest = digest_file(algorithm, final, progress)
    _unchanged(source, before)
    if not symbolic:
        os.chmod(final, 0o444)  # the same file as the source: both become read-only
    return CopiedFile(file_id, source, relpath, final, str(vault.layout.relative(final)),
                      before.st_size, digest)


def place(vault: Vault, file_id: int, directory: PurePosixPath, source: Path,
          relpath: PurePosixPath, algorithm: str, transfer: str,
          progress: Progress | None = None, later: DirSync | None = None) -> CopiedFile:
    """One file of this machine's into the fileset, by ``transfer`` (a copy or a link),
    hashed as the repository now holds it."""
    if transfer.startswith("cp"):
        return _copy(vault, file_id, directory, source, relpath, algorithm, progress, later)
    return _link(vault, file_id, directory, source, relpath, algorithm, transfer, progress,
                 later)


def _unchanged(source: Path, before: os.stat_result) -> None:
    after = source.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise IntegrityError(f"{source.name} changed while it was imported; import it again "
                             "once whatever writes it has finished")


def _image_name(options: ImportOptions, entry_name: str, series: Series, count: int) -> str:
    base = options.name or entry_name
    if count == 1:
        return base[:1024]
    return f"{base} [{series.name or series.index}]"[:1024]


def _record(session: Session, actor: Actor, fileset_id: int, copied: list[CopiedFile],
            entry_name: str, algorithm: str, metadata: Metadata,
            ranges: list[list[tuple[float, float] | None]], options: ImportOptions,
            pyramid_threshold: int, thumbs: list[Thumb | None], vault: Vault) -> list[int]:
    """Every row of the fileset, a few multi-row statements rather than one per object
    (small files are imported by the thousand)."""
    if options.dataset_id is not None:
        # Checked again here: the dataset may have gone, or changed hands, meanwhile.
        dataset = containers.checked(session, actor, "dataset", options.dataset_id,
                                     Right.EDIT)
        if dataset.group_id != actor.group_id:
            raise InvalidInputError(f"dataset {options.dataset_id} is now in another group")
    now = datetime.now(UTC)
    owned = {"owner_id": actor.user_id, "group_id": actor.group_id, "created_at": now,
             "updated_at": now}
    insert_rows(session, OriginalFile, [
        {"id": item.file_id, "store": Store.MANAGED.value, "path": item.repo_path,
         "name": item.source.name, "size": item.size,
         "mimetype": guess_mimetype(item.source.name), "hasher": algorithm,
         "hash": item.hash, **owned} for item in copied])
    insert_rows(session, FilesetEntry, [
        {"fileset_id": fileset_id, "position": position, "original_file_id": item.file_id,
         "client_path": str(item.source)[:4096]} for position, item in enumerate(copied)])
    count = len(metadata.series)
    image_ids = insert_returning_ids(session, Image, [
        {"name": _image_name(options, entry_name, series, count),
         "description": options.description if options.description is not None
         else series.description, "fileset_id": fileset_id, "series": series.index,
         "acquisition_date": series.acquisition_date, **owned}
        for series in metadata.series])
    pixels_ids = insert_returning_ids(session, Pixels, [
        {"image_id": image_id, "size_x": series.size_x, "size_y": series.size_y,
         "size_z": series.size_z, "size_c": series.size_c, "size_t": series.size_t,
         "pixel_type": series.pixel_type, "significant_bits": series.significant_bits,
         "physical_size_x": series.physical_size_x,
         "physical_size_y": series.physical_size_y,
         "physical_size_z": series.physical_size_z, "time_increment": series.time_increment,
         "levels": json.dumps([list(level) for level in series.levels])}
        for image_id, series in zip(image_ids, metadata.series, strict=True)])
    channels = []
    for pixels_id, series, series_ranges in zip(pixels_ids, metadata.series, ranges,
                                                strict=True):
        for index, channel in enumerate(series.channels):
            low_high = series_ranges[index] if series_ranges else None
            channels.append({
                "pixels_id": pixels_id, "index": index, "name": channel.name[:255],
                "emission_wavelength": channel.emission_wavelength,
                "excitation_wavelength": channel.excitation_wavelength,
                "color": channel.color, "min": low_high[0] if low_high else None,
                "max": low_high[1] if low_high else None})
    if channels:
        insert_rows(session, Channel, channels)
    if options.dataset_id is not None:
        in_plates = structure.plate_images(metadata)
        insert_rows(session, DatasetImageLink, [
            {"parent_id": options.dataset_id, "child_id": image_id, **owned}
            for series, image_id in enumerate(image_ids) if series not in in_plates])
    found: list[tuple[str, str, str, list[tuple[str, str]], list[int]]] = [
        (a.type, a.text, a.namespace, list(a.values),
         [image_ids[i] for i in a.series if i < len(image_ids)] or image_ids)
        for a in metadata.annotations]
    if metadata.original:
        found.append(("map", "", ORIGINAL_METADATA_NS, sorted(metadata.original.items()),
                      image_ids))
    annotation_ids = insert_returning_ids(session, Annotation, [
        {"kind": kind, "text_value": text, "namespace": namespace, **owned}
        for kind, text, namespace, _values, _targets in found])
    entries = [{"annotation_id": annotation_id, "position": position, "key": key[:1024],
                "value": value}
               for annotation_id, (_k, _t, _n, values, _i) in zip(annotation_ids, found,
                                                                  strict=True)
               for position, (key, value) in enumerate(values)]
    if entries:
        insert_rows(session, MapEntry, entries)
    links = [{"parent_kind": "image", "parent_id": image_id, "annotation_id": annotation_id,
              **owned}
             for annotation_id, (_k, _t, _n, _v, targets) in zip(annotation_ids, found,
                                                                 strict=True)
             for image_id in targets]
    if links:
        insert_rows(session, AnnotationLink, links)
    structure.record(session, owned, fileset_id, entry_name, image_ids, metadata)
    # Large planes without levels of their own get a pyramid, built in the background.
    pyramids = [pixels_id for pixels_id, series in zip(pixels_ids, metadata.series, strict=True)
                if needs_pyramid(series.size_x, series.size_y, len(series.levels),
                                 pyramid_threshold)]
    insert_rows(session, PyramidJob, [
        {"pixels_id": pixels_id, "state": JobState.PENDING, "progress": 0.0, "reason": "",
         "attempts": 0, "worker": "", "created_at": now} for pixels_id in pyramids])
    queue.defer_pyramids(session, pyramids)
    # The owner's default thumbnails: bytes written before this transaction commits.
    made = [(pixels_id, thumb) for pixels_id, thumb in zip(pixels_ids, thumbs, strict=True)
            if thumb is not None]
    thumb_ids = insert_returning_ids(session, Thumbnail, [
        {"pixels_id": pixels_id, "owner_id": actor.user_id, "size_x": thumb.size[0],
         "size_y": thumb.size[1], "version": 1, "rdef_version": 0, "pixels_version": 0,
         "rdef_key": thumb.key, "size": len(thumb.data), "updated_at": now}
        for pixels_id, thumb in made])
    for thumb_id, (_, thumb) in zip(thumb_ids, made, strict=True):
        vault.thumbnails.write(thumb_id, thumb.data)
    # Those not made now (skipped, or failed): by a job worker (PostgreSQL), else when
    # first asked for.
    queue.defer_thumbnails(session, [(pixels_id, actor.user_id) for pixels_id, thumb
                                     in zip(pixels_ids, thumbs, strict=True) if thumb is None])
    return image_ids


@dataclass(frozen=True)
class Thumb:
    size: tuple[int, int]
    data: bytes
    key: str  # of the default settings it was rendered with


def _thumbnail(reader: Any, series: Series,
               ranges: list[tuple[float, float] | None]) -> Thumb | None:
    """The owner's 96-pixel thumbnail with the default settings, from the open reader;
    a failure is logged and the import goes on (it is made when first asked for)."""
    from pixelvault.services.rendering import thumbnails
    from pixelvault.services.rendering.settings import ChannelFacts, default_settings

    facts = [ChannelFacts(r[0] if r else None, r[1] if r else None, c.color,
                          c.emission_wavelength)
             for c, r in zip(series.channels, ranges or [None] * len(series.channels),
                             strict=False)]
    settings = default_settings(series.pixel_type, series.size_c, series.size_z, facts)
    target = thumbnails.thumbnail_size(series.size_x, series.size_y, None, None)
    try:
        data = thumbnails.render_small(
            lambda level, c, z, t, x, y, w, h: reader.read(series.index, level, z, c, t, x,
                                                           y, w, h),
            [(int(x), int(y)) for x, y in series.levels], settings, series.size_z, target)
    except (PixelvaultError, ValueError, IndexError, OSError) as exc:
        log.warning("no thumbnail at import for series %s: %s", series.index, exc)
        return None
    return Thumb(target, data, thumbnails.settings_key(settings))


def _log(format_name: str, copied: list[CopiedFile], algorithm: str,
         metadata: Metadata | None, timings: dict[str, float]) -> str:
    lines = [f"pixelvault import, {datetime.now(UTC).isoformat()}", f"format: {format_name}"]
    lines += [f"file: {c.source} -> {c.relpath} ({c.size} bytes, {algorithm} {c.hash})"
              for c in copied]
    if metadata is not None:
        lines += [f"series {s.index}: {s.name!r} XYZCT {s.size_x}x{s.size_y}x{s.size_z}x"
                  f"{s.size_c}x{s.size_t} {s.pixel_type}, {len(s.levels)} level(s)"
                  for s in metadata.series]
    lines += [f"time {phase}: {seconds:.3f} s" for phase, seconds in timings.items()]
    return "\n".join(lines) + "\n"


def template_values(vault: Vault, actor: Actor) -> TemplateValues:
    """The path template's values for the actor (its time is set per fileset)."""
    with vault.catalog.session() as session:
        return _template_values(session, actor)


def begin(vault: Vault, actor: Actor, *, format_name: str, transfer: str,
          values: TemplateValues | None = None, manifest: str = "{}",
          file_ids: list[int] | None = None, files: int = 0,
          later: DirSync | None = None) -> tuple[int, PurePosixPath]:
    """Phase 1: the fileset's directory, then its row in state ``importing`` (and, in the
    same transaction, ``files`` OriginalFile ids appended to ``file_ids``). A directory
    lost in a crash before ``later`` is flushed leaves a row cleanse removes."""
    values = replace(values or template_values(vault, actor), when=datetime.now())
    directory = vault.managed.create_fileset_dir(vault.settings.fs_repo_path, values, later)
    try:
        with vault.catalog.session() as session:
            now = datetime.now(UTC)
            [fileset_id] = insert_returning_ids(session, Fileset, [{
                "directory": str(directory), "state": FilesetState.IMPORTING,
                "format": format_name[:64], "transfer": transfer,
                "owner_id": actor.user_id, "group_id": actor.group_id, "manifest": manifest,
                "created_at": now, "updated_at": now}])
            if file_ids is not None:
                file_ids.extend(file_rows.allocate_id(session) for _ in range(files))
            return fileset_id, directory
    except BaseException:
        vault.managed.remove_fileset(directory)
        raise


def _check_limits(vault: Vault, reader: Any, metadata: Metadata, name: str,
                  stored: int) -> None:
    """Every image's declared cost against the configured limits, before any pixel is
    decoded (a decompression bomb fails here, in milliseconds)."""
    limits = vault.settings.import_limits
    for series in metadata.series:
        pieces = reader.pieces(series.index) if hasattr(reader, "pieces") else []
        limits.check(f"{name} series {series.index}" if len(metadata.series) > 1 else name,
                     (series.size_x, series.size_y, series.size_z, series.size_c,
                      series.size_t), series.dtype.itemsize, stored, pieces)


def complete(vault: Vault, actor: Actor, fileset_id: int, directory: PurePosixPath,
             copied: list[CopiedFile], options: ImportOptions, timings: dict[str, float],
             expected_series: int | None = None, entry_depth: int = 0,
             later: DirSync | None = None) -> ImportedFileset:
    """Phase 3, once every file is in place and verified: read the copy, compute
    statistics, make every directory entry durable (``later``), and record everything
    in one transaction."""
    algorithm = canonical(options.algorithm)
    mark = time.monotonic()
    entry = copied[0].stored if entry_depth == 0 else copied[0].stored.parents[entry_depth - 1]
    if vault.managed.path(directory) not in (entry, *entry.parents):
        raise InvalidInputError("the image's entry lies outside its fileset")
    # the reader may open the fileset's own copies, nothing else
    members = Members.of([c.stored for c in copied] + ([entry] if entry.is_dir() else []))
    reader = open_original(vault.memos, entry, members)  # writes its memo too
    try:
        metadata = reader.metadata()
        if expected_series is not None and len(metadata.series) != expected_series:
            raise CorruptFileError(f"{copied[0].source.name} changed while it was "
                                   "imported; import it again")
        _check_limits(vault, reader, metadata, entry.name, sum(c.size for c in copied))
        structure.check(metadata, entry.name)
        timings["metadata"] = time.monotonic() - mark
        mark = time.monotonic()
        deadline = mark + vault.settings.import_max_seconds
        ranges = [channel_ranges(reader, s.index, s, deadline=deadline) if options.minmax
                  else [] for s in metadata.series]
        if options.minmax:
            timings["minmax"] = time.monotonic() - mark
        mark = time.monotonic()
        thumbs = [_thumbnail(reader, s, r) if options.thumbnails else None
                  for s, r in zip(metadata.series, ranges, strict=True)]
        if options.thumbnails:
            timings["thumbnails"] = time.monotonic() - mark
        format_name = type(reader).format_name
    except PixelvaultError:
        raise
    except Exception as exc:  # the server's import fails with a reason, not a 500
        raise unreadable(copied[0].source, exc) from exc
    finally:
        reader.close()
    if later is not None:
        later.flush()  # bytes first: everything on disk before the catalog says "ready"
    mark = time.monotonic()
    with vault.catalog.session() as session:
        image_ids = _record(session, actor, fileset_id, copied, entry.name, algorithm,
                            metadata, ranges, options, vault.settings.pyramid_threshold,
                            thumbs, vault)
        timings["catalog"] = time.monotonic() - mark
        now = datetime.now(UTC)
        done = session.execute(update(Fileset).where(
            Fileset.id == fileset_id, Fileset.state == FilesetState.IMPORTING).values(
            state=FilesetState.READY, format=format_name, manifest="{}",
            entry=str(vault.layout.relative(entry)),
            timings=json.dumps({k: round(v, 6) for k, v in timings.items()}),
            finished_at=now, updated_at=now).execution_options(synchronize_session=False))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise IntegrityError(f"fileset {fileset_id} was removed while it was imported "
                                 "(by `admin cleanse` or a delete); import it again")
    vault.managed.write_log(directory, _log(format_name, copied, algorithm, metadata, timings))
    return ImportedFileset(fileset_id, str(directory), image_ids, len(copied),
                           sum(c.size for c in copied), timings)


def import_fileset(vault: Vault, actor: Actor, planned: PlannedFileset,
                   options: ImportOptions = ImportOptions(),
                   progress: Progress | None = None,
                   values: TemplateValues | None = None) -> ImportedFileset:
    """A fileset from files this process reads (the local import)."""
    algorithm = canonical(options.algorithm)
    if not planned.files:
        raise InvalidInputError("a fileset needs at least one file")
    if options.transfer not in LOCAL_TRANSFERS:
        raise InvalidInputError(f"transfer {options.transfer!r} is not one of "
                                f"{', '.join(LOCAL_TRANSFERS)}")
    timings: dict[str, float] = {}
    started = time.monotonic()
    file_ids: list[int] = []
    later = DirSync()
    fileset_id, directory = begin(vault, actor, format_name=planned.format,
                                  transfer=options.transfer, values=values,
                                  file_ids=file_ids, files=len(planned.files), later=later)
    copied: list[CopiedFile] = []
    try:
        for file_id, source, relpath in zip(file_ids, planned.files,
                                            client_paths(planned.files), strict=True):
            copied.append(place(vault, file_id, directory, source, relpath, algorithm,
                                options.transfer, progress, later))
        timings["upload"] = time.monotonic() - started
        result = complete(vault, actor, fileset_id, directory, copied, options, timings,
                          len(planned.series), planned.entry_depth, later)
    except BaseException:
        undo(vault, fileset_id, directory, [c.file_id for c in copied])
        raise
    if options.transfer.endswith("_rm"):
        for item in copied:  # only now, with the import committed
            try:
                item.source.unlink()
            except OSError as exc:
                log.warning("imported, but %s could not be removed: %s", item.source, exc)
    return result


def undo(vault: Vault, fileset_id: int, directory: PurePosixPath, file_ids: list[int]) -> None:
    """Remove what a failed import wrote: rows first, then the bytes."""
    with vault.catalog.session() as session:
        session.execute(delete(Fileset).where(Fileset.id == fileset_id))
        if file_ids:
            session.execute(delete(OriginalFile).where(OriginalFile.id.in_(file_ids)))
    vault.managed.remove_fileset(directory)
    vault.memos.forget(vault.managed.path(directory))


def describe(result: ImportedFileset) -> dict[str, Any]:
    return {"fileset": result.fileset_id, "directory": result.directory,
            "images": result.image_ids, "files": result.files, "bytes": result.bytes,
            "timings": {k: round(v, 3) for k, v in result.timings.items()}}
