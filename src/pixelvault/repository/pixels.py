"""The Pixels store: pixel data that is not an original file, by Pixels id.

Names as OMERO's, at OMERO's Dir-NNN paths:

- ``<id>``: the pixels of an image created through the API (an OME-Zarr 0.5
  directory), or an OMERO raw Pixels file (headerless, big-endian) adopted from
  an OMERO repository;
- ``<id>_pyramid``: a generated pyramid (OME-Zarr 0.5, every level);
- ``.<id>_pyramid.pyr_lock``: held (POSIX lock) while a pyramid is built;
- ``.<id>_pyramid<random>.tmp``: a pyramid being written, renamed into place
  only when complete, so no half pyramid ever carries the real name.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pixelvault.errors import LockHeldError
from pixelvault.repository.atomic import fsync_dir, translate_os_error
from pixelvault.repository.files import ensure_parents
from pixelvault.repository.guard import WriteGuard
from pixelvault.repository.layout import Store

_NAME = re.compile(r"^(\d+)(_pyramid)?$")
_TEMP = re.compile(r"^\.(\d+)_pyramid[0-9a-f]+\.tmp$")
_LOCK = re.compile(r"^\.(\d+)_pyramid\.pyr_lock$")
_BUILDING_HERE: set[Path] = set()  # pyramids this process's threads are building
_IN_PROCESS_LOCK = threading.Lock()


@dataclass
class _SharedLock:
    """This process's hold of a pyramid's lock file while its threads write parts:
    one descriptor (closing any other would let the process's locks go)."""

    fd: int
    parts: set[int] = field(default_factory=set)


_SHARED_HERE: dict[Path, _SharedLock] = {}  # pyramids this process writes parts of


@dataclass(frozen=True)
class PixelsEntry:
    """One thing in the store, as cleanse sees it."""

    path: Path
    kind: str  # "pixels", "pyramid", "temp", "lock" or "unknown"
    pixels_id: int | None
    mtime: float


class PixelsStore:
    store = Store.PIXELS

    def __init__(self, guard: WriteGuard) -> None:
        self.guard = guard
        self.layout = guard.layout
        self.root = self.layout.store(self.store)

    def path(self, pixels_id: int) -> Path:
        return self.layout.object_path(self.store, pixels_id)

    def pyramid(self, pixels_id: int) -> Path:
        base = self.path(pixels_id)
        return base.with_name(f"{base.name}_pyramid")

    def lock_path(self, pixels_id: int) -> Path:
        base = self.path(pixels_id)
        return base.with_name(f".{base.name}_pyramid.pyr_lock")

    def new_temp(self, pixels_id: int) -> Path:
        """A fresh temporary name beside the pyramid's, its parents created."""
        self.guard.check()
        base = self.path(pixels_id)
        ensure_parents(self.root, base)
        return base.with_name(f".{base.name}_pyramid{secrets.token_hex(6)}.tmp")

    def temp_named(self, pixels_id: int, name: str) -> Path:
        """The temporary pyramid of this name (one ``new_temp`` gave); ValueError for a
        name that is not one, so a name read back can never point elsewhere."""
        base = self.path(pixels_id)
        match = _TEMP.match(name)
        if match is None or match[1] != base.name:
            raise ValueError(f"{name!r} is not a temporary pyramid of pixels {pixels_id}")
        return base.with_name(name)

    def remove_temps(self, pixels_id: int) -> int:
        """Remove the temporary pyramids a killed builder left (call while holding the
        pyramid's lock, so none of them is being written); how many."""
        base = self.path(pixels_id)
        if not base.parent.is_dir():
            return 0
        found = [p for p in base.parent.glob(f".{base.name}_pyramid*.tmp")
                 if (m := _TEMP.match(p.name)) and m[1] == base.name]
        for path in found:
            remove_path(path)
        return len(found)

    def prepare(self, pixels_id: int) -> Path:
        """The path of an image's own pixels, its parents created (for a new image)."""
        self.guard.check()
        final = self.path(pixels_id)
        ensure_parents(self.root, final)
        return final

    def publish(self, temp: Path, final: Path) -> None:
        """Rename a finished directory into place, durably; an older one there is
        replaced (a pyramid rebuilt after its pixels changed)."""
        self.guard.check_identity()
        fsync_tree(temp)
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}{secrets.token_hex(6)}.old.tmp")
            os.rename(final, old)
        try:
            os.rename(temp, final)
        except OSError as exc:
            if old is not None:
                os.rename(old, final)
            raise translate_os_error(exc, str(final)) from None
        fsync_dir(final.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    @contextlib.contextmanager
    def building(self, pixels_id: int, *, part: int | None = None) -> Iterator[None]:
        """Hold the pyramid's lock file while building it (another process building the
        same pyramid is refused; a killed builder's lock goes with its process).

        ``part``: one of several writers of the same pyramid, each with its own part
        number. Any number of them hold the lock at once (a shared lock on the file's
        first byte), each part by one writer only (an exclusive lock on a byte of its
        own), and none while a whole build holds the file, as a whole build is
        refused while any part is written."""
        path = self.lock_path(pixels_id)
        with _IN_PROCESS_LOCK:  # POSIX locks are per process: threads need their own
            if path in _BUILDING_HERE or (part is None and path in _SHARED_HERE):
                raise LockHeldError(f"the pyramid of pixels {pixels_id} is being built by "
                                    "another thread of this process")
            if part is None:
                fd = self._lock(path, pixels_id)
                _BUILDING_HERE.add(path)
            else:
                shared = self._lock_part(path, pixels_id, part)
        try:
            yield
        finally:
            with _IN_PROCESS_LOCK:
                if part is None:
                    _BUILDING_HERE.discard(path)
                    with contextlib.suppress(OSError):
                        path.unlink()
                    os.close(fd)
                else:
                    shared.parts.discard(part)
                    fcntl.lockf(shared.fd, fcntl.LOCK_UN, 1, 1 + part)
                    if not shared.parts:  # the file stays: other hosts' writers hold it
                        del _SHARED_HERE[path]
                        os.close(shared.fd)

    def _lock(self, path: Path, pixels_id: int) -> int:
        """An open descriptor of the lock file, locked whole; LockHeldError if any part
        of it is held."""
        ensure_parents(self.root, path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise LockHeldError(f"the pyramid of pixels {pixels_id} is being built "
                                "by another process") from None
        return fd

    def _lock_part(self, path: Path, pixels_id: int, part: int) -> _SharedLock:
        """This process's shared hold of the lock file (taken, or counted once more),
        with ``part``'s own byte locked (call under ``_IN_PROCESS_LOCK``)."""
        shared = _SHARED_HERE.get(path)
        if shared is not None and part in shared.parts:
            raise LockHeldError(f"part {part} of the pyramid of pixels {pixels_id} is "
                                "being written by another thread of this process")
        if shared is None:
            ensure_parents(self.root, path)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 0)
            except OSError:
                os.close(fd)
                raise LockHeldError(f"the pyramid of pixels {pixels_id} is being built "
                                    "whole by another process") from None
            shared = _SharedLock(fd)
        try:
            fcntl.lockf(shared.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 1 + part)
        except OSError:
            if not shared.parts:
                os.close(shared.fd)
            raise LockHeldError(f"part {part} of the pyramid of pixels {pixels_id} is "
                                "being written by another process") from None
        shared.parts.add(part)
        _SHARED_HERE[path] = shared
        return shared

    def is_building(self, pixels_id: int) -> bool:
        """Whether a live process holds the pyramid's lock."""
        path = self.lock_path(pixels_id)
        # This process's own locks never conflict with the probe, and closing any of its
        # descriptors of the file would let them go: they are answered from memory, and
        # no thread takes or lets go of one meanwhile.
        with _IN_PROCESS_LOCK:
            if path in _BUILDING_HERE or path in _SHARED_HERE:
                return True
            try:
                fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            except OSError:
                return False
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            else:
                fcntl.lockf(fd, fcntl.LOCK_UN)
                return False
            finally:
                os.close(fd)

    def remove(self, pixels_id: int) -> None:
        """An image's pixels and pyramid, after its rows are gone."""
        for path in (self.pyramid(pixels_id), self.path(pixels_id)):
            remove_path(path)

    def remove_pyramid(self, pixels_id: int) -> None:
        remove_path(self.pyramid(pixels_id))

    def scan(self) -> Iterator[PixelsEntry]:
        """Every top-level entry of the store's Dir-NNN tree, classified."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            names = list(filenames) + [d for d in dirnames if not d.startswith("Dir-")]
            dirnames[:] = [d for d in dirnames if d.startswith("Dir-")]
            for name in names:
                path = here / name
                try:
                    mtime = path.lstat().st_mtime
                except FileNotFoundError:
                    continue
                if (match := _NAME.match(name)) and self.path(int(match[1])).parent == here:
                    kind = "pyramid" if match[2] else "pixels"
                    yield PixelsEntry(path, kind, int(match[1]), mtime)
                elif match := _TEMP.match(name) or _LOCK.match(name):
                    kind = "temp" if name.endswith(".tmp") else "lock"
                    yield PixelsEntry(path, kind, int(match[1]), mtime)
                elif name.startswith(".") and name.endswith(".old.tmp"):
                    yield PixelsEntry(path, "temp", None, mtime)
                else:
                    yield PixelsEntry(path, "unknown", None, mtime)


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def fsync_tree(root: Path) -> None:
    """fsync every file and directory below ``root`` (a finished pyramid)."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))
