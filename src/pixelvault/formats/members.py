"""The files a reader may open: the members of one fileset, and nothing else.

A file names other files from inside (an OME-TIFF's ``UUID FileName``, a
companion's TiffData, an OME-Zarr's group paths, a Leica container's frames).
Those names are user input: followed blindly, ``../../alice_7/.../secret.tif``
or ``/etc/shadow`` makes another user's data, or the server's, the pixels of
an attacker's image (OMERO's CVE-2019-9944). Every reader therefore receives a
:class:`Members` and opens files only through it: a name from inside a file is
resolved lexically (symbolic links are never followed to decide) and must land
on a member of the same fileset. Libraries that open files by name are handed
streams without a directory, so they cannot look beside them on their own.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pixelvault.errors import CorruptFileError


class ForeignFileError(CorruptFileError):
    """A file names a file outside its fileset: crafted, or moved away from its set."""


def _normal(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


class _Stream(io.BufferedReader):
    """A member opened for a library: it reads like a file but has no descriptor to
    hand out, so a library (tifffile) treats it as a stream and never goes looking for
    files beside it on its own."""

    def fileno(self) -> int:
        raise io.UnsupportedOperation("a fileset member is read as a stream")


def _shown(name: str) -> str:
    """A name from inside a file, as a message may quote it (it can be of any length)."""
    return repr(name if len(name) <= 160 else name[:80] + "..." + name[-60:])


@dataclass(frozen=True)
class Members:
    """A fileset's files (``files``), and directories whose whole tree belongs to it
    (``trees``: an OME-Zarr image is a directory)."""

    files: frozenset[str]
    trees: tuple[str, ...] = ()

    @classmethod
    def of(cls, paths: Iterable[str | os.PathLike[str]]) -> Members:
        """The members named: files, and directories that count with everything below."""
        files: set[str] = set()
        trees: list[str] = []
        for path in paths:
            normal = _normal(path)
            if os.path.isdir(normal) and not os.path.islink(normal):
                trees.append(normal)
            else:
                files.add(normal)
        return cls(frozenset(files), tuple(sorted(trees)))

    @classmethod
    def beside(cls, path: str | os.PathLike[str]) -> Members:
        """For a file opened on its own, outside any import (tests, tools): the regular
        files of its own directory, or the tree of a directory."""
        normal = _normal(path)
        if os.path.isdir(normal) and not os.path.islink(normal):
            return cls(frozenset(), (normal,))
        folder = os.path.dirname(normal)
        try:
            names = os.listdir(folder)
        except OSError:
            names = []
        files = {os.path.join(folder, name) for name in names
                 if os.path.isfile(os.path.join(folder, name))
                 and not os.path.islink(os.path.join(folder, name))}
        return cls(frozenset(files | {normal}))

    def contains(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is a member: named as one, or inside a member tree through
        real directories only (a symbolic link below a tree is never followed)."""
        normal = _normal(path)
        if normal in self.files:
            return True
        for tree in self.trees:
            if normal == tree:
                return True
            if normal.startswith(tree + os.sep):
                return self._no_links_below(tree, normal)
        return False

    @staticmethod
    def _no_links_below(tree: str, normal: str) -> bool:
        current = tree
        for part in Path(normal).relative_to(tree).parts:
            current = os.path.join(current, part)
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    return False
            except FileNotFoundError:
                return True  # not there: whoever opens it says it is missing
            except OSError:
                return False
        return True

    def resolve(self, referrer: Path, name: str, what: str = "a file",
                by: str | None = None) -> Path:
        """The member that ``name``, written inside ``referrer``, stands for; a
        :class:`ForeignFileError` for anything else (other directories, absolute paths,
        ``..`` out of the set, control characters)."""
        by = by or referrer.name
        text = str(name).replace("\\", "/")
        if not text or any(ord(ch) < 32 for ch in text):
            raise ForeignFileError(f"{by} names {what} with an empty or unprintable "
                                   "name; the file is damaged")
        target = Path(_normal(os.path.join(os.path.dirname(_normal(referrer)), text)))
        if not self.contains(target):
            if target.parent == Path(_normal(referrer)).parent and not os.path.lexists(target):
                # beside the referrer: a part of the set is missing (saying so elsewhere
                # would tell an attacker which files exist on the server)
                raise ForeignFileError(f"{by}: needs {target.name}, which is missing")
            raise ForeignFileError(
                f"{by} names {what} {_shown(name)}, which is not one of the files "
                "imported with it; a file may only refer to files of its own fileset "
                "(import the whole set together)")
        return target

    def check(self, path: Path) -> Path:
        """``path`` itself, if it is a member (what a reader is asked to open)."""
        if not self.contains(path):
            raise ForeignFileError(f"{path.name} is not one of the files of this fileset")
        return path

    def open(self, path: Path) -> io.BufferedReader:
        """A member, opened for reading as a stream (see :class:`_Stream`)."""
        self.check(path)
        return _Stream(io.FileIO(os.fspath(path), "r"))
