"""`admin cleanse`: remove what crashes leave behind, and nothing else.

Bytes are written before their catalog row, so a file without a row may be a
write that is about to commit. Only files older than a grace period are
orphans; younger ones are reported and left alone. Files the store does not
recognise are reported, never deleted. Imports that never finished (their
fileset still ``importing`` after the grace period) are removed whole.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path, PurePosixPath

from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from pixelvault.catalog import files as file_rows
from pixelvault.catalog.models import Fileset, FilesetState, Pixels, Thumbnail
from pixelvault.repository import Store
from pixelvault.repository.files import IdStore
from pixelvault.services.pixels.pyramid_parts import split_temps
from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
DEFAULT_GRACE_SECONDS = 3600.0


@dataclass
class CleanseReport:
    removed: list[tuple[str, int, str]] = field(default_factory=list)  # path, size, why
    kept: list[tuple[str, str]] = field(default_factory=list)  # path, why
    directories: list[str] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(size for _, size, _ in self.removed)


def cleanse(vault: Vault, *, dry_run: bool = False,
            grace_seconds: float = DEFAULT_GRACE_SECONDS) -> CleanseReport:
    vault.guard.check_identity()
    with vault.catalog.session() as session:
        known = file_rows.ids_in_store(session, Store.FILES.value)
        thumbnails = set(session.scalars(select(Thumbnail.id)).all())
    report = CleanseReport()
    cutoff = time.time() - grace_seconds
    _id_store(vault, vault.files, known, report, dry_run=dry_run, cutoff=cutoff)
    _id_store(vault, vault.thumbnails, thumbnails, report, dry_run=dry_run, cutoff=cutoff)
    _interrupted_imports(vault, report, dry_run=dry_run, cutoff=cutoff)
    _pixels_store(vault, report, dry_run=dry_run, cutoff=cutoff)
    root = vault.layout.root
    for memo in vault.memos.orphans():
        rel = str(memo.relative_to(root))
        size = memo.stat().st_size
        if not dry_run:
            memo.unlink(missing_ok=True)
        report.removed.append((rel, size, "memo of a file that is gone"))
    return report


def _id_store(vault: Vault, store: IdStore, known: set[int], report: CleanseReport, *,
              dry_run: bool, cutoff: float) -> None:
    """Objects of a Dir-NNN store without their row, and unfinished writes."""
    root = vault.layout.root
    for entry in store.scan():
        rel = str(entry.path.relative_to(root))
        if entry.kind == "unknown":
            report.kept.append((rel, f"not a name the {store.root.name} store writes; check it "
                                     "by hand"))
            continue
        if entry.kind == "object" and entry.object_id in known:
            continue
        why = "unfinished write" if entry.kind == "temp" else "no catalog row"
        if entry.mtime > cutoff:
            report.kept.append((rel, f"{why}, but younger than the grace period"))
            continue
        if not dry_run:
            entry.path.unlink(missing_ok=True)
            log.info("cleanse removed %s (%s)", rel, why)
        report.removed.append((rel, entry.size, why))
    for directory in store.empty_directories():
        try:
            if directory.stat().st_mtime > cutoff:
                continue  # a writer may have just made it for a file on its way
        except FileNotFoundError:
            continue
        if not dry_run:
            try:
                directory.rmdir()
            except OSError:
                continue  # something arrived meanwhile
        report.directories.append(str(Path(directory).relative_to(root)))


def _pixels_store(vault: Vault, report: CleanseReport, *, dry_run: bool,
                  cutoff: float) -> None:
    """Pixels and pyramids whose Pixels row is gone, pyramids half-written by a builder
    that died, and lock files nobody holds."""
    from pixelvault.repository.pixels import remove_path

    root = vault.layout.root
    with vault.catalog.session() as session:
        known = set(session.scalars(select(Pixels.id)).all())
    splitting = split_temps(vault)
    for entry in vault.pixels.scan():
        rel = str(entry.path.relative_to(root))
        if entry.kind == "unknown":
            report.kept.append((rel, "not a name the Pixels store writes; check it by hand"))
            continue
        if entry.kind in ("pixels", "pyramid") and entry.pixels_id in known:
            continue
        if entry.kind in ("temp", "lock") and entry.pixels_id is not None and \
                vault.pixels.is_building(entry.pixels_id):
            report.kept.append((rel, "a pyramid being built now"))
            continue
        if entry.kind == "temp" and entry.path.name in splitting:
            report.kept.append((rel, "the parts of a pyramid its workers are building"))
            continue
        why = {"temp": "unfinished pyramid or image", "lock": "lock of a finished build",
               "pixels": "no catalog row", "pyramid": "no catalog row"}[entry.kind]
        if entry.mtime > cutoff:
            report.kept.append((rel, f"{why}, but younger than the grace period"))
            continue
        size = _size(entry.path) if entry.path.is_dir() else entry.path.lstat().st_size
        if not dry_run:
            remove_path(entry.path)
            log.info("cleanse removed %s (%s)", rel, why)
        report.removed.append((rel, size, why))


def _size(directory: Path) -> int:
    return sum(p.lstat().st_size for p in directory.rglob("*") if not p.is_dir())


def _last_written(directory: Path) -> float:
    """The newest modification below ``directory``: a long import is still writing."""
    newest = 0.0
    for dirpath, _dirs, files in os.walk(directory):
        for name in (".", *files):
            try:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest


def _interrupted_imports(vault: Vault, report: CleanseReport, *, dry_run: bool,
                         cutoff: float) -> None:
    """Filesets an import started but never finished (killed, or the machine stopped):
    their rows go first, then their directories."""
    root = vault.layout.root
    with vault.catalog.session() as session:
        stale = session.execute(select(Fileset.id, Fileset.directory, Fileset.created_at)
                                .where(Fileset.state == FilesetState.IMPORTING)).all()
    for fileset_id, directory, created in stale:
        path = vault.managed.path(directory)
        rel = str(path.relative_to(root))
        last_active = (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()
        if path.is_dir():
            last_active = max(last_active, _last_written(path))
        if last_active > cutoff:
            report.kept.append((rel, "an import in progress, or younger than the grace "
                                     "period"))
            continue
        size = _size(path) if path.is_dir() else 0
        if not dry_run:
            with vault.catalog.session() as session:
                session.execute(sql_delete(Fileset).where(
                    Fileset.id == fileset_id, Fileset.state == FilesetState.IMPORTING))
            vault.managed.remove_fileset(PurePosixPath(directory))
            vault.memos.forget(path)
            log.info("cleanse removed interrupted import %s", rel)
        report.removed.append((rel, size, "interrupted import (fileset "
                                          f"{fileset_id} never finished)"))
