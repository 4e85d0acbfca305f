"""ManagedRepository: each import's original files, kept as the user had them (OMERO.fs).

A fileset lives in its own directory, named by the path template
(``fs.repo.path``, OMERO's ``%user%_%userId%//%year%-%month%/%day%/%time%``),
with the client's last directories kept below it and the import log beside it.
Imported files are written once, atomically, and made read-only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from pixelvault.config import TEMPLATE_TOKEN, check_template
from pixelvault.errors import InvalidInputError, NotFoundError
from pixelvault.repository.atomic import (
    DirSync,
    sync_dir,
    temp_name,
    translate_os_error,
    write_bytes_atomic,
)
from pixelvault.repository.files import (
    FileWriter,
    ensure_parents,
    read_range,
    remove_empty_parents,
)
from pixelvault.repository.guard import WriteGuard
from pixelvault.repository.layout import Store

KEPT_PARENTS = 3  # the client's directories kept above each file, as OMERO does
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def safe_part(name: str) -> str:
    """One path component from a client, made harmless: no separators, controls, . or .."""
    cleaned = _UNSAFE.sub("_", name).strip()
    if cleaned in ("", ".", ".."):
        return "_" if cleaned == "" else cleaned.replace(".", "_")
    return cleaned[:255]


@dataclass(frozen=True)
class TemplateValues:
    user: str
    user_id: int
    group: str
    group_id: int
    perms: str
    when: datetime
    session: str = "local"
    institution: str = ""


def expand(template: str, values: TemplateValues, increment: int = 1) -> PurePosixPath:
    when = values.when
    table = {
        "user": values.user, "userId": str(values.user_id), "group": values.group,
        "groupId": str(values.group_id), "year": f"{when.year:04d}",
        "month": f"{when.month:02d}", "monthname": when.strftime("%B"),
        "day": f"{when.day:02d}",
        "time": when.strftime("%H-%M-%S.") + f"{when.microsecond // 1000:03d}",
        "session": values.session, "perms": values.perms, "institution": values.institution,
        "hash": secrets.token_hex(4), "increment": str(increment),
    }
    # Each value is one path component: a user called "../x" cannot add levels.
    text = TEMPLATE_TOKEN.sub(lambda m: safe_part(table.get(m.group(1), m.group(0))),
                              check_template(template))
    parts = [safe_part(p) for p in text.split("/") if p]
    return PurePosixPath(*parts)


def kept_paths(paths: Sequence[Sequence[str]]) -> list[PurePosixPath]:
    """Where each of a fileset's files goes below its directory, from the names along
    each file's path: the path below the files' common directory, plus up to three of
    that directory's own last names, every name made harmless."""
    cleaned = [[safe_part(part) for part in parts] for parts in paths]
    common = cleaned[0][:-1]
    for parts in cleaned[1:]:
        shared = 0
        while shared < min(len(common), len(parts) - 1) and common[shared] == parts[shared]:
            shared += 1
        common = common[:shared]
    kept = common[-KEPT_PARENTS:]
    return [PurePosixPath(*kept, *parts[len(common):]) for parts in cleaned]


def client_paths(paths: Sequence[Path]) -> list[PurePosixPath]:
    """:func:`kept_paths` for files on this machine."""
    return kept_paths([Path(os.path.abspath(p)).parts[1:] for p in paths])


def _gone_is_fine(_function: object, _path: str, error: Any) -> None:
    """rmtree's error handler: what another remover took first is not an error."""
    if not isinstance(error[1], FileNotFoundError):
        raise error[1]


class ManagedStore:
    store = Store.MANAGED

    def __init__(self, guard: WriteGuard) -> None:
        self.guard = guard
        self.layout = guard.layout
        self.root = self.layout.store(self.store)

    @cached_property
    def _real_root(self) -> Path:
        return self.root.resolve()

    def path(self, relpath: PurePosixPath | str) -> Path:
        """An absolute path for a catalog path, which must stay inside the store."""
        path = self.root / str(relpath)
        if ".." in PurePosixPath(str(relpath)).parts:
            raise InvalidInputError(f"{relpath} leaves ManagedRepository")
        # The last component may be an in-place symbolic link to the user's file; every
        # directory above it must be inside the store.
        resolved = path.parent.resolve()
        root = self._real_root
        if path != self.root and resolved != root and root not in resolved.parents:
            raise InvalidInputError(f"{relpath} leaves ManagedRepository")
        return path

    def create_fileset_dir(self, template: str, values: TemplateValues,
                           later: DirSync | None = None) -> PurePosixPath:
        """A new, empty directory for one fileset; a taken name gets a numbered twin.
        With ``later``, the directories are fsynced when it is flushed, not now."""
        self.guard.check()
        for attempt in range(1, 1000):
            relpath = expand(template, values, attempt)
            if attempt > 1:
                relpath = relpath.with_name(f"{relpath.name}-{attempt}")
            final = self.path(relpath)
            ensure_parents(self.root, final, later)
            try:
                final.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise translate_os_error(exc, str(final)) from None
            sync_dir(final.parent, later)
            return relpath
        raise InvalidInputError(f"no free directory name for {relpath}; check fs.repo.path")

    def open_writer(self, fileset_dir: PurePosixPath, relpath: PurePosixPath, object_id: int,
                    algorithms: Sequence[str], expected_size: int = 0,
                    later: DirSync | None = None) -> FileWriter:
        """A read-only-once-written file at ``fileset_dir/relpath``."""
        self.guard.check(expected_size)
        final = self.path(fileset_dir / relpath)
        ensure_parents(self.path(fileset_dir), final, later)
        return FileWriter(final, self.layout.relative(final), object_id, algorithms,
                          self.guard, mode=0o444, later=later)

    def link(self, fileset_dir: PurePosixPath, relpath: PurePosixPath, source: Path, *,
             symbolic: bool, later: DirSync | None = None) -> Path:
        """Put ``source`` in the fileset without copying it: a hard link (same file, same
        filesystem) or a symbolic link to its absolute path (in-place import)."""
        self.guard.check()
        final = self.path(fileset_dir / relpath)
        ensure_parents(self.path(fileset_dir), final, later)
        tmp = temp_name(final)
        try:
            if symbolic:
                os.symlink(os.path.abspath(source), tmp)
            else:
                os.link(source, tmp, follow_symlinks=True)
            os.rename(tmp, final)
            sync_dir(final.parent, later)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if exc.errno == errno.EXDEV:
                raise InvalidInputError(
                    f"{source} is on another filesystem than the repository, so it cannot be "
                    "hard-linked; use --transfer cp or ln_s") from None
            raise translate_os_error(exc, str(final)) from None
        return final

    def file(self, repo_path: str) -> Path:
        """A fileset file from its catalog path (``ManagedRepository/...``)."""
        prefix = self.store.value + "/"
        if not repo_path.startswith(prefix):
            raise InvalidInputError(f"{repo_path} is not in ManagedRepository")
        return self.path(repo_path[len(prefix):])

    def read_range(self, repo_path: str, start: int = 0, end: int | None = None
                   ) -> Iterator[bytes]:
        path = self.file(repo_path)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            self.guard.require_available("nothing was read")
            raise NotFoundError(f"{repo_path} is missing from the repository; restore it from "
                                "backup or run `pixelvault admin diagnostics`") from None
        return read_range(path, size, start, end, what=repo_path)

    def log_path(self, fileset_dir: PurePosixPath) -> Path:
        directory = self.path(fileset_dir)
        return directory.with_name(directory.name + ".log")

    def write_log(self, fileset_dir: PurePosixPath, text: str) -> None:
        """The import log: a record for people, written after the catalog commit, so a
        crash that loses it loses nothing else; not worth two fsyncs per fileset."""
        write_bytes_atomic(self.log_path(fileset_dir), text.encode("utf-8"), durable=False)

    def remove_fileset(self, fileset_dir: PurePosixPath,
                       expect: Sequence[int] | None = None) -> bool:
        """Remove a fileset's directory and log (read-only files included); False when
        there was nothing to remove, or (``expect``) not the directory expected.

        ``expect``: the directory's (inode, change time) when its fileset was deleted,
        for a removal that runs later. The directory is first renamed to a tombstone
        named by that inode, which a retry finishes: the name is free from then on,
        and a new import's directory under it (another inode or change time; its
        ``mkdir`` cannot take a name that still exists) is never touched.
        """
        directory = self.path(fileset_dir)
        if directory == self.root or not PurePosixPath(str(fileset_dir)).parts:
            raise InvalidInputError(f"{str(fileset_dir)!r} is not a fileset's directory")
        doomed = directory
        if expect is not None:
            doomed = directory.with_name(f"{directory.name}.removing-{expect[0]}")
            if not doomed.is_dir():
                try:
                    found = os.lstat(directory)
                except FileNotFoundError:
                    return False
                if [found.st_ino, found.st_ctime_ns] != list(expect):
                    return False
                os.rename(directory, doomed)
        if doomed.is_dir() and not doomed.is_symlink():
            for dirpath, _dirs, _files in os.walk(doomed):
                with contextlib.suppress(OSError):
                    os.chmod(dirpath, stat.S_IRWXU)
            shutil.rmtree(doomed, onerror=_gone_is_fine)
        self.log_path(fileset_dir).unlink(missing_ok=True)
        remove_empty_parents(directory, self.root)  # template levels left empty go too
        return True
