"""`admin move NEW`: relocate the data dir without ever losing the old one.

Same filesystem: one atomic rename, bracketed by a journal in pixelvault's home
so that a kill between the rename and the config switch is finished by the next
command. Another filesystem: copy every file, fsync, re-read it from disk and
compare checksums, and only then write the identity marker at the destination
(the commit point: a partial copy carries no marker, so nothing ever uses it)
and switch data.dir. The source is removed only with --remove-source.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pixelvault import config
from pixelvault.config import Settings
from pixelvault.errors import ConfigError, IntegrityError, InvalidInputError, RepositoryError
from pixelvault.repository import STORES, Layout, LockMode
from pixelvault.repository import identity as disk_identity
from pixelvault.repository.atomic import fsync_dir, translate_os_error, write_bytes_atomic
from pixelvault.repository.checksums import new_hasher
from pixelvault.repository.layout import IDENTITY_DIR
from pixelvault.repository.locking import holder_name
from pixelvault.services.operations.move_journal import journal_path
from pixelvault.services.vault import open_vault

log = logging.getLogger(__name__)
PARTIAL = ".pixelvault-move-partial"
VERIFY_ALGORITHM = "BLAKE3-256"
CHUNK = 4 << 20
Progress = Callable[[int, int, str], None]  # bytes done, bytes total, current file


@dataclass(frozen=True)
class MoveResult:
    source: Path
    destination: Path
    method: str  # "rename" or "copy"
    files: int
    bytes: int
    source_removed: bool


def _entries(path: Path) -> set[str]:
    return set(os.listdir(path)) - {"lost+found"}


def _is_mountpoint(path: Path) -> bool:
    return os.path.ismount(path)


def _clear_partial(destination: Path) -> None:
    """Remove what an interrupted copy of ours left (only names we write)."""
    for name in [*(s.value for s in STORES), ".omero", PARTIAL]:
        target = destination / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()


def _prepare_destination(destination: Path, uuid: str) -> None:
    if not destination.exists():
        return
    if not destination.is_dir():
        raise InvalidInputError(f"{destination} exists and is not a directory")
    entries = _entries(destination)
    partial = destination / PARTIAL
    ours = (partial.is_file() and partial.read_text(encoding="ascii").strip() == uuid)
    if ours:
        log.warning("clearing an interrupted copy at %s", destination)
        _clear_partial(destination)
    elif entries:
        raise InvalidInputError(
            f"{destination} is not empty; move into a new or empty directory"
        )


def _copy_file(src: Path, dst: Path) -> tuple[int, str]:
    hasher = new_hasher(VERIFY_ALGORITHM)
    size = 0
    with src.open("rb") as reader:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as writer:
            while chunk := reader.read(CHUNK):
                writer.write(chunk)
                hasher.update(chunk)
                size += len(chunk)
            writer.flush()
            os.fsync(writer.fileno())
            # Drop the cached pages so that verification reads from the disk.
            os.posix_fadvise(writer.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return size, hasher.hexdigest()


def _hash_file(path: Path) -> str:
    hasher = new_hasher(VERIFY_ALGORITHM)
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _skip(rel: Path, uuid: str) -> bool:
    """Per-host lock state and the marker are not copied (the marker comes last)."""
    identity = IDENTITY_DIR / uuid
    if rel.parent == identity and (rel.name in {"repo_uuid", ".lock"}
                                   or rel.name.startswith((".lock-probe", ".write-probe"))):
        return True
    return identity / "holders" in rel.parents or rel == identity / "holders"


def _copy_tree(source: Path, destination: Path, uuid: str,
               progress: Progress | None) -> tuple[int, int]:
    plan: list[tuple[Path, os.stat_result]] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(source):
        base = Path(dirpath)
        for name in sorted(dirnames) + sorted(filenames):
            path = base / name
            rel = path.relative_to(source)
            if _skip(rel, uuid):
                continue
            info = path.lstat()
            plan.append((rel, info))
            if os.path.isfile(path) and not path.is_symlink():
                total += info.st_size
    done, files = 0, 0
    hashes: dict[Path, str] = {}
    links: dict[tuple[int, int], Path] = {}
    for rel, info in plan:
        src, dst = source / rel, destination / rel
        if stat.S_ISDIR(info.st_mode):
            dst.mkdir(exist_ok=True)
        elif stat.S_ISLNK(info.st_mode):
            os.symlink(os.readlink(src), dst)
        elif (info.st_dev, info.st_ino) in links:
            os.link(links[(info.st_dev, info.st_ino)], dst)  # keep `ln` transfers linked
        else:
            size, digest = _copy_file(src, dst)
            if size != info.st_size:
                raise IntegrityError(f"{src} changed while it was copied; run the move again")
            hashes[rel] = digest
            if info.st_nlink > 1:
                links[(info.st_dev, info.st_ino)] = dst
            done += size
            files += 1
            if progress:
                progress(done, total, str(rel))
    for rel, digest in hashes.items():
        if _hash_file(destination / rel) != digest:
            raise IntegrityError(
                f"copy of {rel} does not match the original; the move was stopped and the "
                "old repository is still in use; check the destination disk"
            )
    for rel, info in reversed(plan):  # modes and times last: read-only files were written
        if not stat.S_ISLNK(info.st_mode):
            os.chmod(destination / rel, info.st_mode & 0o7777)
            os.utime(destination / rel, ns=(info.st_atime_ns, info.st_mtime_ns))
    fsync_dir(destination)
    return files, done


def _remove_source(source: Path) -> None:
    for name in [*(s.value for s in STORES), ".omero"]:
        target = source / name
        if target.exists():
            shutil.rmtree(target)
    if not _entries(source):
        with contextlib.suppress(OSError):  # a mount point stays
            source.rmdir()


def move_repository(settings: Settings, destination: Path, *, remove_source: bool = False,
                    progress: Progress | None = None) -> MoveResult:
    if settings.values["data.dir"].source == "env":
        raise ConfigError(
            "data.dir is set by the environment variable PIXELVAULT_DATA_DIR, which a move "
            "cannot change; unset it, run the move, then set it to the new place"
        )
    vault = open_vault(settings)
    try:
        source = vault.layout.root.resolve()
        destination = Path(os.path.abspath(destination.expanduser()))
        uuid = vault.uuid
        disk_identity.verify(vault.layout, uuid)
        if destination == source:
            raise InvalidInputError(f"the repository is already at {source}")
        if source in destination.parents or destination in source.parents:
            raise InvalidInputError(
                f"cannot move {source} into {destination}: one holds the other"
            )
        with vault.lock(LockMode.EXCLUSIVE, "admin move"):
            _prepare_destination(destination, uuid)
            anchor = destination if destination.exists() else destination.parent
            if not anchor.exists():
                try:
                    anchor.mkdir(parents=True)
                except OSError as exc:
                    raise translate_os_error(exc, str(anchor)) from None
            same_fs = os.stat(source).st_dev == os.stat(anchor).st_dev
            if same_fs and not (destination.exists() and _is_mountpoint(destination)):
                return _rename(settings, source, destination, uuid)
            return _copy(settings, source, destination, uuid, remove_source, progress)
    finally:
        vault.close()


def _rename(settings: Settings, source: Path, destination: Path, uuid: str) -> MoveResult:
    journal = journal_path(settings)
    journal.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(journal, json.dumps(
        {"uuid": uuid, "from": str(source), "to": str(destination)}).encode())
    try:
        os.rename(source, destination)
    except OSError as exc:
        journal.unlink(missing_ok=True)
        raise RepositoryError(f"cannot rename {source} to {destination}: {exc.strerror}") from None
    fsync_dir(destination.parent)
    fsync_dir(source.parent)
    # Our holder note travelled with the directory; it would outlive our lock there.
    stale = Layout(destination).identity_dir(uuid) / "holders" / holder_name()
    stale.unlink(missing_ok=True)
    config.set_value("data.dir", str(destination), settings.env)
    journal.unlink(missing_ok=True)
    return MoveResult(source, destination, "rename", 0, 0, source_removed=True)


def _copy(settings: Settings, source: Path, destination: Path, uuid: str,
          remove_source: bool, progress: Progress | None) -> MoveResult:
    try:
        destination.mkdir(exist_ok=True)
        write_bytes_atomic(destination / PARTIAL, uuid.encode("ascii"))
        files, size = _copy_tree(source, destination, uuid, progress)
        disk_identity.write_marker(Layout(destination), uuid)
        (destination / PARTIAL).unlink()
        fsync_dir(destination)
    except BaseException as exc:
        # The old repository is untouched and still configured; leave no half copy.
        try:
            _clear_partial(destination)
        except OSError:
            log.warning("could not clear the partial copy at %s", destination)
        if isinstance(exc, OSError):
            raise translate_os_error(exc, str(destination)) from None
        raise
    config.set_value("data.dir", str(destination), settings.env)
    if remove_source:
        _remove_source(source)
    return MoveResult(source, destination, "copy", files, size, source_removed=remove_source)
