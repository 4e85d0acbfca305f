"""What is in ManagedRepository: filesets, their files, checks, usage, import times
(OMERO's `omero fs` commands)."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pixelvault.catalog import Actor, Catalog, Right
from pixelvault.catalog import files as file_rows
from pixelvault.catalog.models import (
    DatasetImageLink,
    Experimenter,
    ExperimenterGroup,
    Fileset,
    FilesetEntry,
    FilesetState,
    Image,
    OriginalFile,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import NotFoundError
from pixelvault.services.objects.files import verify_file
from pixelvault.services.vault import Vault


@dataclass
class FilesetInfo:
    id: int
    directory: str
    state: str
    format: str
    owner_id: int
    group_id: int
    created_at: datetime
    files: int
    images: int
    bytes: int
    problems: list[str] = field(default_factory=list)


def list_filesets(catalog: Catalog, actor: Actor, *,
                  without_images: bool = False) -> list[FilesetInfo]:
    files = (select(FilesetEntry.fileset_id, func.count().label("n"),
                    func.coalesce(func.sum(OriginalFile.size), 0).label("size"))
             .join(OriginalFile, OriginalFile.id == FilesetEntry.original_file_id)
             .group_by(FilesetEntry.fileset_id).subquery())
    images = (select(Image.fileset_id, func.count().label("n"))
              .where(Image.fileset_id.is_not(None)).group_by(Image.fileset_id).subquery())
    query = (select(Fileset, func.coalesce(files.c.n, 0), func.coalesce(files.c.size, 0),
                    func.coalesce(images.c.n, 0))
             .outerjoin(files, files.c.fileset_id == Fileset.id)
             .outerjoin(images, images.c.fileset_id == Fileset.id)
             .where(allowed(actor, Right.READ, Fileset)).order_by(Fileset.id))
    if without_images:
        query = query.where(func.coalesce(images.c.n, 0) == 0)
    with catalog.session() as session:
        return [FilesetInfo(f.id, f.directory, f.state, f.format, f.owner_id, f.group_id,
                            f.created_at, int(n_files), int(n_images), int(size))
                for f, n_files, size, n_images in session.execute(query)]


@dataclass(frozen=True)
class FileInfo:
    id: int
    client_path: str
    path: str
    size: int
    hasher: str
    hash: str


def _fileset(session: Any, actor: Actor, fileset_id: int) -> Fileset:
    row = session.scalar(select(Fileset).where(Fileset.id == fileset_id,
                                               allowed(actor, Right.READ, Fileset)))
    if row is None:
        raise NotFoundError(f"no fileset with id {fileset_id}; see `pixelvault fs sets`")
    return row  # type: ignore[no-any-return]


def fileset_files(catalog: Catalog, actor: Actor, fileset_id: int) -> list[FileInfo]:
    with catalog.session() as session:
        _fileset(session, actor, fileset_id)
        rows = session.execute(
            select(FilesetEntry.client_path, OriginalFile)
            .join(OriginalFile, OriginalFile.id == FilesetEntry.original_file_id)
            .where(FilesetEntry.fileset_id == fileset_id).order_by(FilesetEntry.position))
        return [FileInfo(f.id, client, f.path, f.size, f.hasher, f.hash) for client, f in rows]


def dataset_file_sizes(catalog: Catalog, actor: Actor, dataset_id: int) -> dict[int, int]:
    """Per image of the dataset you may read, the bytes of the files it was imported
    from (its whole fileset's, shared by the fileset's images): a table's column."""
    from pixelvault.services.objects import containers

    with catalog.session() as session:
        containers.checked(session, actor, "dataset", dataset_id, Right.READ)
        rows = session.execute(
            select(Image.id, func.coalesce(func.sum(OriginalFile.size), 0))
            .join(DatasetImageLink, DatasetImageLink.child_id == Image.id)
            .join(FilesetEntry, FilesetEntry.fileset_id == Image.fileset_id)
            .join(OriginalFile, OriginalFile.id == FilesetEntry.original_file_id)
            .where(DatasetImageLink.parent_id == dataset_id, allowed(actor, Right.READ, Image))
            .group_by(Image.id))
        return {int(image_id): int(size) for image_id, size in rows}


def import_times(catalog: Catalog, actor: Actor, fileset_id: int) -> dict[str, float]:
    with catalog.session() as session:
        timings: dict[str, float] = json.loads(_fileset(session, actor, fileset_id).timings)
        return timings


def check(vault: Vault, actor: Actor, fileset: FilesetInfo) -> list[str]:
    """Re-hash every file of the fileset from disk; what does not match, or is missing."""
    problems = []
    for info in fileset_files(vault.catalog, actor, fileset.id):
        try:
            _, now = verify_file(vault, actor, info.id)
        except NotFoundError:
            problems.append(f"{info.path}: missing")
            continue
        if now != info.hash:
            problems.append(f"{info.path}: {info.hasher} is {now}, the catalog recorded "
                            f"{info.hash}")
    return problems


@dataclass(frozen=True)
class Usage:
    key: str
    files: int
    bytes: int  # really on disk (st_blocks), not the files' nominal sizes
    linked: int  # bytes of in-place symbolic links' targets, not counted above


def usage(vault: Vault, actor: Actor, sum_by: str) -> list[Usage]:
    """Bytes on disk of the original files the actor may read, summed by user, group or
    component (the store holding them)."""
    with vault.catalog.session() as session:
        rows = session.execute(
            select(OriginalFile.id, OriginalFile.store, OriginalFile.path,
                   Experimenter.username, ExperimenterGroup.name)
            .join(Experimenter, Experimenter.id == OriginalFile.owner_id)
            .join(ExperimenterGroup, ExperimenterGroup.id == OriginalFile.group_id)
            .where(allowed(actor, Right.READ, OriginalFile))).all()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for file_id, store, path, username, group in rows:
        key = {"user": username, "group": group, "component": store}[sum_by]
        on_disk = vault.files.path(file_id) if store == "Files" else vault.managed.file(path)
        try:
            info = os.lstat(on_disk)
        except FileNotFoundError:
            continue
        entry = totals[key]
        entry[0] += 1
        if os.path.islink(on_disk):
            entry[2] += os.stat(on_disk).st_size if os.path.exists(on_disk) else 0
        else:
            entry[1] += info.st_blocks * 512
    return [Usage(key, n, size, linked) for key, (n, size, linked) in sorted(totals.items())]


def first_files(vault: Vault, fileset_id: int | None = None
                ) -> list[tuple[Path, list[Path]]]:
    """What each ready fileset's reader opens (its entry), with the files it may open,
    for memo rebuilding (of one fileset, or of all)."""
    query = (select(Fileset.id, OriginalFile.path, Fileset.entry)
             .join(FilesetEntry, FilesetEntry.original_file_id == OriginalFile.id)
             .join(Fileset, Fileset.id == FilesetEntry.fileset_id)
             .where(FilesetEntry.position == 0, Fileset.state == FilesetState.READY)
             .order_by(Fileset.id))
    if fileset_id is not None:
        query = query.where(Fileset.id == fileset_id)
    with vault.catalog.session() as session:
        rows = session.execute(query).all()
        members = file_rows.fileset_paths(session, [row[0] for row in rows])
    return [(vault.managed.file(entry or path),
             [vault.managed.file(p) for p in members[fileset_id]])
            for fileset_id, path, entry in rows]


def ready_ids(vault: Vault) -> list[int]:
    """Every ready fileset's id (one memo job each)."""
    with vault.catalog.session() as session:
        return list(session.scalars(select(Fileset.id).where(
            Fileset.state == FilesetState.READY).order_by(Fileset.id)).all())
