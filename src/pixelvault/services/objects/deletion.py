"""Deleting projects, datasets and images, with what only they held.

An object's annotation links go with it, and so do annotations left linked to
nothing (tags excepted: a tag is a vocabulary entry, kept until deleted itself).
An image of an imported fileset can only go with all the fileset's images
(OMERO's rule: the files hold them all); the last one takes the fileset, its
original files' rows and then their bytes. Rows are deleted in one
transaction; bytes only after it committed.

On PostgreSQL the removal of the bytes is also queued as a job in that same
transaction. A big delete (thousands of files, or gigabytes) returns once its
rows are gone, its bytes removed by a worker in the background. A small one
removes its bytes itself and then drops the job, which was queued to wait a
minute: it runs only if the process died between the commit and the removal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Right
from pixelvault.catalog.models import (
    Annotation,
    AnnotationKind,
    AnnotationLink,
    Fileset,
    FilesetEntry,
    FilesetState,
    Image,
    OriginalFile,
    Pixels,
    Plate,
    Roi,
    Screen,
    ScreenPlateLink,
    Thumbnail,
    Well,
    WellSample,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import (
    ForbiddenError,
    InvalidInputError,
    LockHeldError,
    NotFoundError,
    RepositoryError,
)
from pixelvault.services import coherence
from pixelvault.services.jobs import queue
from pixelvault.services.objects import containers
from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)


@dataclass
class Deleted:
    kind: str
    object_id: int
    filesets: list[int] = field(default_factory=list)
    annotations: list[int] = field(default_factory=list)
    pixels: list[int] = field(default_factory=list)  # whose Pixels-store data goes too
    thumbnails: list[int] = field(default_factory=list)
    images: list[int] = field(default_factory=list)
    plates: list[int] = field(default_factory=list)
    rois: int = 0
    original_files: int = 0  # files' rows (fileset files and attachments) and bytes
    bytes: int = 0
    in_background: bool = False  # the bytes are being removed by a job worker
    removal_jobs: list[int] = field(default_factory=list)  # queued, in case we die first

    def summary(self) -> dict[str, Any]:
        """What goes, as a page asks before it deletes (OMERO's delete dry run)."""
        return {"kind": self.kind, "id": self.object_id, "images": self.images,
                "plates": self.plates, "filesets": self.filesets,
                "annotations": len(self.annotations), "rois": self.rois,
                "original_files": self.original_files, "bytes": self.bytes,
                "bytes_in_background": self.in_background}


class _DryRunEndError(Exception):
    """Raised inside the transaction of a dry run: the rows come back, nothing is lost."""


def _count_files(session: Session, file_ids: list[int], deleted: Deleted) -> None:
    if file_ids:
        count, size = session.execute(select(func.count(), func.coalesce(
            func.sum(OriginalFile.size), 0)).where(OriginalFile.id.in_(file_ids))).one()
        deleted.original_files += int(count)
        deleted.bytes += int(size)


def _orphans(session: Session, candidates: list[int]) -> tuple[list[int], list[int]]:
    """Of ``candidates``, the annotations linked to nothing now (not tags), and their files."""
    if not candidates:
        return [], []
    still_linked = exists().where(AnnotationLink.annotation_id == Annotation.id)
    rows = session.execute(select(Annotation.id, Annotation.file_id).where(
        Annotation.id.in_(candidates), ~still_linked,
        Annotation.kind != AnnotationKind.TAG.value)).all()
    return [r.id for r in rows], [r.file_id for r in rows if r.file_id is not None]


def _drop(session: Session, kind: str, row: Any, deleted: Deleted,
          attachment_files: list[int]) -> None:
    """Delete one object's row, its links and the annotations only it held."""
    linked = list(session.scalars(select(AnnotationLink.annotation_id).where(
        AnnotationLink.parent_kind == kind, AnnotationLink.parent_id == row.id)))
    session.execute(sql_delete(AnnotationLink).where(AnnotationLink.parent_kind == kind,
                                                     AnnotationLink.parent_id == row.id))
    if kind == "image":
        deleted.images.append(row.id)
        deleted.rois += session.scalar(select(func.count()).select_from(Roi).where(
            Roi.image_id == row.id)) or 0
        pixels = list(session.scalars(select(Pixels.id).where(Pixels.image_id == row.id)))
        deleted.pixels += pixels
        deleted.thumbnails += session.scalars(select(Thumbnail.id).where(
            Thumbnail.pixels_id.in_(pixels))).all()
    session.delete(row)
    session.flush()
    orphans, files = _orphans(session, linked)
    if orphans:
        session.execute(sql_delete(Annotation).where(Annotation.id.in_(orphans)))
    deleted.annotations += orphans
    attachment_files += files


def _drop_fileset(session: Session, fileset_id: int, deleted: Deleted) -> str:
    fileset = session.get(Fileset, fileset_id)
    assert fileset is not None
    files = list(session.scalars(select(FilesetEntry.original_file_id).where(
        FilesetEntry.fileset_id == fileset_id)))
    _count_files(session, files, deleted)
    session.delete(fileset)
    session.flush()
    if files:
        session.execute(sql_delete(OriginalFile).where(OriginalFile.id.in_(files)))
    deleted.filesets.append(fileset_id)
    return fileset.directory


# A delete this big returns once its rows are gone (PostgreSQL): a worker removes its bytes.
BACKGROUND_FILES = 1000
BACKGROUND_BYTES = 1 << 30
SAFETY_DELAY = 60.0  # seconds a small delete's queued removal waits (dropped once done)


def remove_bytes(vault: Vault, attachment_files: list[int], directories: list[str],
                 pixels: list[int], thumbnails: Sequence[int] = (),
                 seen: Sequence[list[int] | None] | None = None) -> None:
    """The bytes of rows already deleted; again is harmless (what is gone is skipped).

    ``seen``: each directory's (inode, change time) when its rows were deleted, for a
    queued removal: a directory that is no longer the one seen then (a new import took
    its name, under a path template without the time) stays; one being removed is
    finished (see ``ManagedStore.remove_fileset``). Not the device: another host's
    mount of the shared repository has a device number of its own.
    """
    for file_id in attachment_files:
        vault.files.delete(file_id)
    for thumbnail_id in thumbnails:
        vault.thumbnails.remove(thumbnail_id)
    for pixels_id in pixels:
        vault.pixels.remove(pixels_id)
    if pixels or directories:
        from pixelvault.services.pixels.access import cache_for

        gone = [str(vault.pixels.path(p)) for p in pixels] + \
            [str(vault.managed.path(d)) for d in directories]
        cache_for(vault).drop(lambda key: any(str(key[1]).startswith(g) for g in gone))
    for index, directory in enumerate(directories):
        expect = seen[index] if seen is not None else None
        if seen is not None and expect is None:
            continue  # it was gone already when its rows were deleted
        with vault.catalog.session() as session:  # checked last, just before it goes
            taken = session.scalar(select(Fileset.id).where(Fileset.directory == directory))
        if taken is not None:
            log.warning("fileset directory %s belongs to fileset %s now; kept", directory,
                        taken)
            continue
        if not vault.managed.remove_fileset(PurePosixPath(directory), expect) and expect:
            log.warning("fileset directory %s is not the one deleted (a new import took "
                        "its name, or the repository was moved); kept", directory)
        vault.memos.forget(vault.managed.path(directory))


def _seen_now(vault: Vault, directory: str) -> list[int] | None:
    """In the delete's transaction: what its queued removal will expect to find."""
    try:
        return _stat_of(vault, directory)
    except OSError as exc:
        raise RepositoryError(f"fileset directory {directory} cannot be looked at "
                              f"({exc.strerror}); nothing was deleted") from None


def _stat_of(vault: Vault, directory: str) -> list[int] | None:
    """The directory's (inode, change time); None when it is gone already."""
    try:
        found = os.lstat(vault.managed.path(directory))
    except FileNotFoundError:
        return None
    return [found.st_ino, found.st_ctime_ns]


@contextmanager
def _transaction(vault: Vault) -> Iterator[Session]:
    """The delete's transaction; a dry run ends it by raising _DryRunEndError, rolled back here."""
    try:
        with vault.catalog.session() as session:
            yield session
    except _DryRunEndError:
        pass


def _before_commit(session: Session, vault: Vault, deleted: Deleted,
                   attachment_files: list[int], directories: list[str], dry_run: bool) -> None:
    """The attachments' rows go; a delete with bytes to remove needs the repository
    there (a dry run says so too); a dry run ends here, its transaction rolled back."""
    if attachment_files:
        _count_files(session, attachment_files, deleted)
        session.execute(sql_delete(OriginalFile).where(OriginalFile.id.in_(attachment_files)))
    if attachment_files or directories or deleted.pixels or deleted.thumbnails:
        _require_repository(vault)
    if dry_run:
        raise _DryRunEndError
    if (attachment_files or directories or deleted.pixels or deleted.thumbnails) \
            and queue.on_queue(session):
        deleted.in_background = deleted.original_files >= BACKGROUND_FILES \
            or deleted.bytes >= BACKGROUND_BYTES
        deleted.removal_jobs = queue.defer_removal(session, {
            "attachment_files": attachment_files, "directories": directories,
            "pixels": deleted.pixels, "thumbnails": deleted.thumbnails,
            "seen": [_seen_now(vault, d) for d in directories]},
            delay=None if deleted.in_background else SAFETY_DELAY)


def _after_commit(vault: Vault, deleted: Deleted, attachment_files: list[int],
                  directories: list[str], dry_run: bool) -> Deleted:
    if not dry_run:
        coherence.changed()  # every process forgets what it knew of what went
        if not deleted.in_background:
            remove_bytes(vault, attachment_files, directories, deleted.pixels,
                         deleted.thumbnails)
            if deleted.removal_jobs:  # done: the safety net is not needed
                try:
                    with vault.catalog.session() as session:
                        queue.forget(session, deleted.removal_jobs)
                except Exception as exc:  # it runs later and finds nothing left: harmless
                    log.info("queued removal %s kept: %s", deleted.removal_jobs, exc)
    return deleted


def _require_repository(vault: Vault) -> None:
    """Before the commit of a delete that has bytes to remove: rows gone while their
    bytes cannot be reached would leave those bytes behind for good (and report a
    success that is not one), so nothing is deleted while the repository is away."""
    vault.guard.require_available("nothing was deleted")


def delete_object(vault: Vault, actor: Actor, kind: str, object_id: int, *,
                  dry_run: bool = False) -> Deleted:
    deleted = Deleted(kind, object_id)
    attachment_files: list[int] = []
    directories: list[str] = []
    with _transaction(vault) as session:
        row = containers.checked(session, actor, kind, object_id, Right.DELETE)
        fileset_id = row.fileset_id if kind == "image" else None
        if kind == "image":
            plate_id = session.scalar(select(Well.plate_id).join(
                WellSample, WellSample.well_id == Well.id).where(
                WellSample.image_id == object_id))
            if plate_id is not None:
                raise InvalidInputError(
                    f"image {object_id} is a field of plate {plate_id}; delete the plate "
                    f"with its fields (`pixelvault delete Plate:{plate_id}`)")
        if fileset_id is not None:
            others = session.scalars(select(Image.id).where(
                Image.fileset_id == fileset_id, Image.id != row.id)).all()
            if others:
                raise InvalidInputError(
                    f"image {object_id} is one of {len(others) + 1} images of fileset "
                    f"{fileset_id}, whose files hold them all; delete them together "
                    f"(DELETE /api/v1/filesets/{fileset_id}, `pixelvault delete "
                    f"Fileset:{fileset_id}`)")
        _drop(session, kind, row, deleted, attachment_files)
        if fileset_id is not None:
            directories.append(_drop_fileset(session, fileset_id, deleted))
        _before_commit(session, vault, deleted, attachment_files, directories, dry_run)
    return _after_commit(vault, deleted, attachment_files, directories, dry_run)


def delete_fileset(vault: Vault, actor: Actor, fileset_id: int, *,
                   dry_run: bool = False) -> Deleted:
    """A fileset with all its images: the DELETE right on each of them is needed."""
    deleted = Deleted("fileset", fileset_id)
    attachment_files: list[int] = []
    with _transaction(vault) as session:
        fileset = session.scalar(select(Fileset).where(
            Fileset.id == fileset_id, allowed(actor, Right.READ, Fileset)))
        if fileset is None:
            raise NotFoundError(f"no fileset with id {fileset_id}")
        if fileset.state != FilesetState.READY:
            raise LockHeldError(f"fileset {fileset_id} is still being imported; abandon an "
                                f"upload with DELETE /api/v1/imports/{fileset_id}, or wait")
        for image_id in session.scalars(select(Image.id).where(
                Image.fileset_id == fileset_id)).all():
            image = containers.checked(session, actor, "image", image_id, Right.DELETE)
            _drop(session, "image", image, deleted, attachment_files)
        directories = [_drop_fileset(session, fileset_id, deleted)]
        _before_commit(session, vault, deleted, attachment_files, directories, dry_run)
    return _after_commit(vault, deleted, attachment_files, directories, dry_run)


def _plate_images(session: Session, plate_ids: list[int]) -> list[int]:
    return list(session.scalars(select(WellSample.image_id).join(
        Well, Well.id == WellSample.well_id).where(Well.plate_id.in_(plate_ids))))


def _check_plates(session: Session, actor: Actor, plate_ids: list[int]) -> list[int]:
    """The filesets that go with these plates; InvalidInputError if one holds images of
    another plate or images outside any (the files hold them all)."""
    images = set(_plate_images(session, plate_ids))
    filesets = set(session.scalars(select(Plate.fileset_id).where(
        Plate.id.in_(plate_ids), Plate.fileset_id.is_not(None))))
    for fileset_id in filesets:
        others = set(session.scalars(select(Image.id).where(Image.fileset_id == fileset_id)))
        if others - images:
            raise InvalidInputError(
                f"fileset {fileset_id} holds images besides these plates' fields (another "
                f"plate's, or loose ones); delete the whole fileset (`pixelvault delete "
                f"Fileset:{fileset_id}`)")
    for image in session.scalars(select(Image).where(Image.id.in_(sorted(images)))):
        if not actor.may(Right.DELETE, image.owner_id, image.group_id):
            raise ForbiddenError("the plate's fields hold images you may not delete; ask "
                                 "their owner or the group's owner")
    return [int(f) for f in filesets if f is not None]


def _drop_plates(session: Session, actor: Actor, plate_ids: list[int], deleted: Deleted,
                 attachment_files: list[int], directories: list[str]) -> None:
    filesets = _check_plates(session, actor, plate_ids)
    for image_id in _plate_images(session, plate_ids):
        image = session.get(Image, image_id)
        if image is not None:
            _drop(session, "image", image, deleted, attachment_files)
    deleted.plates += plate_ids
    session.execute(sql_delete(Plate).where(Plate.id.in_(plate_ids)))
    for fileset_id in filesets:
        directories.append(_drop_fileset(session, fileset_id, deleted))


def delete_plate(vault: Vault, actor: Actor, plate_id: int, *, dry_run: bool = False
                 ) -> Deleted:
    """A plate with its wells, fields, runs and their images (and its fileset, whose
    files hold them): OMERO's rule, a plate goes whole."""
    return _delete_spw(vault, actor, "plate", plate_id, dry_run)


def delete_screen(vault: Vault, actor: Actor, screen_id: int, *, dry_run: bool = False
                  ) -> Deleted:
    """A screen, and the plates only it holds (a plate in another screen stays there)."""
    return _delete_spw(vault, actor, "screen", screen_id, dry_run)


def _delete_spw(vault: Vault, actor: Actor, kind: str, object_id: int, dry_run: bool
                ) -> Deleted:
    model: Any = Plate if kind == "plate" else Screen
    deleted = Deleted(kind, object_id)
    attachment_files: list[int] = []
    directories: list[str] = []
    with _transaction(vault) as session:
        row = session.scalar(select(model).where(model.id == object_id,
                                                 allowed(actor, Right.READ, model)))
        if row is None:
            raise NotFoundError(f"no {kind} with id {object_id}")
        if not actor.may(Right.DELETE, row.owner_id, row.group_id):
            raise ForbiddenError(f"you may see this {kind} but not delete it")
        if kind == "screen":
            held = set(session.scalars(select(ScreenPlateLink.child_id).where(
                ScreenPlateLink.parent_id == object_id)))
            elsewhere = set(session.scalars(select(ScreenPlateLink.child_id).where(
                ScreenPlateLink.child_id.in_(held), ScreenPlateLink.parent_id != object_id)))
            # a plate the actor may not delete stays, only unlinked (OMERO's rule)
            plate_ids = sorted(p.id for p in session.scalars(select(Plate).where(
                Plate.id.in_(held - elsewhere))) if actor.may(Right.DELETE, p.owner_id,
                                                              p.group_id))
            session.delete(row)
            session.flush()
        else:
            plate_ids = [object_id]
        if plate_ids:
            _drop_plates(session, actor, plate_ids, deleted, attachment_files, directories)
        _before_commit(session, vault, deleted, attachment_files, directories, dry_run)
    return _after_commit(vault, deleted, attachment_files, directories, dry_run)

