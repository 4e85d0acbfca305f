"""Crash-safe writes: temporary name in the same directory, fsync, rename, fsync dir.

A crash leaves at worst a dot-named ``.tmp`` file that ``admin cleanse`` removes,
never a half-written file under a real name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from pixelvault.errors import (
    OutOfSpaceError,
    PixelvaultError,
    RepositoryError,
    RepositoryPermissionError,
)

TMP_SUFFIX = ".tmp"


def temp_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.{secrets.token_hex(6)}{TMP_SUFFIX}")


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DirSync:
    """Files and directories whose bytes and entries must reach the disk before a
    commit point.

    A fileset creates a handful of directories and files; fsyncing each as it is
    written costs one journal commit each. Collected here and synced once, just
    before the catalog records the fileset, the first fsync commits them all and
    the others find little left to write (POSIX still gets its fsync per file and
    directory). A file may already carry its real name by then: nothing refers to
    it until the catalog commits, and a crash before that leaves a fileset in
    state ``importing`` that ``admin cleanse`` removes whole.
    """

    def __init__(self) -> None:
        self.pending: set[Path] = set()
        self.files: list[Path] = []

    def add(self, directory: Path) -> None:
        self.pending.add(directory)

    def add_file(self, path: Path) -> None:
        self.files.append(path)

    def flush(self) -> None:
        for path in self.files:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise translate_os_error(exc, str(path)) from None
        self.files.clear()
        for directory in sorted(self.pending, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(FileNotFoundError):
                fsync_dir(directory)
        self.pending.clear()


def sync_dir(directory: Path, later: DirSync | None) -> None:
    """fsync ``directory`` now, or note it for ``later``."""
    if later is None:
        fsync_dir(directory)
    else:
        later.add(directory)


def translate_os_error(exc: OSError, what: str) -> PixelvaultError:
    """Turn a low-level write failure into an error that says what to do."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutOfSpaceError(
            f"disk full while writing {what}; nothing was kept. Free space on that "
            "filesystem or move the repository (`pixelvault admin move NEW_DIR`)"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return RepositoryPermissionError(
            f"cannot write {what}: {exc.strerror}; make the data dir writable by the "
            "user running pixelvault (see `pixelvault admin diagnostics`)"
        )
    return RepositoryError(f"cannot write {what}: {exc.strerror or exc}")


def write_bytes_atomic(final: Path, data: bytes, *, durable: bool = True) -> None:
    """Small files (markers, journals, config): replaced whole, never half-written.

    ``durable=False`` skips the two fsyncs, for files a crash may lose without harm
    (an import's log, written by the thousand): they still never appear half-written.
    """
    tmp = temp_name(final)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, final)
        if durable:
            fsync_dir(final.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise translate_os_error(exc, str(final)) from None
