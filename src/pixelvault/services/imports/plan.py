"""What an import will create: the files found, grouped into filesets by their readers.

Directories are walked recursively, hidden files skipped. A file that another
file's reader uses (a multi-file OME-TIFF's parts) joins that fileset. Each
file that cannot be imported is reported with its reason, and the rest go on.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pixelvault.errors import InvalidInputError, PixelvaultError
from pixelvault.formats import Members, Series, open_reader
from pixelvault.formats.omezarr import OmeZarrReader
from pixelvault.services.imports.unreadable import unreadable


@dataclass
class PlannedFileset:
    files: list[Path]  # absolute
    format: str
    series: list[Series] = field(default_factory=list)
    entry: Path | None = None  # what the reader opens, if not the first file (a directory)

    @property
    def entry_depth(self) -> int:
        """How many levels above the first file the reader's entry is (0: the file)."""
        if self.entry is None or self.entry == self.files[0]:
            return 0
        return len(self.files[0].relative_to(self.entry).parts)

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.files)


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class Plan:
    filesets: list[PlannedFileset]
    skipped: list[Skipped]


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _candidates(paths: Sequence[Path], skipped: list[Skipped]) -> list[Path]:
    roots = [Path(os.path.realpath(p)) for p in paths]
    found: list[Path] = []
    for given in paths:
        path = Path(os.path.abspath(given))
        if not os.path.lexists(path):
            skipped.append(Skipped(path, "no such file or directory"))
        elif path.is_dir() and not path.is_symlink():
            if OmeZarrReader.claims_directory(path):
                found.append(path)  # one image, however many files
                continue
            for dirpath, dirnames, filenames in os.walk(path):
                images = [d for d in dirnames if not d.startswith(".")
                          and OmeZarrReader.claims_directory(Path(dirpath) / d)]
                found.extend(Path(dirpath) / d for d in sorted(images))
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                     and d not in images)
                found.extend(Path(dirpath) / name for name in sorted(filenames)
                             if not name.startswith("."))
        else:
            found.append(path)
    kept: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        if path.is_symlink():
            target = Path(os.path.realpath(path))
            if not _inside(target, roots):
                skipped.append(Skipped(path, f"a symbolic link to {target}, outside what "
                                             "is imported; import the target itself"))
                continue
            if not target.is_file():
                skipped.append(Skipped(path, "a symbolic link to something not a file"))
                continue
        elif path.is_dir():
            pass  # an OME-Zarr image
        elif not path.is_file():
            skipped.append(Skipped(path, "not a regular file"))
            continue
        if path not in seen:
            seen.add(path)
            kept.append(path)
    return kept


def plan(paths: Sequence[Path]) -> Plan:
    """Filesets for ``paths`` (files and directories), and what was skipped and why."""
    if not paths:
        raise InvalidInputError("name at least one file or directory to import")
    skipped: list[Skipped] = []
    filesets: list[PlannedFileset] = []
    claimed: dict[Path, PlannedFileset] = {}
    candidates = _candidates(paths, skipped)
    # What readers may open: the files and OME-Zarr directories being imported, never a
    # file one of them names from elsewhere.
    members = Members.of(candidates)
    for path in candidates:
        if path in claimed:
            continue
        try:
            reader = open_reader(path, members)
        except PixelvaultError as exc:
            skipped.append(Skipped(path, exc.message))
            continue
        except Exception as exc:  # a reader's surprise fails this file, not the import
            skipped.append(Skipped(path, unreadable(path, exc).message))
            continue
        try:
            used = [Path(os.path.abspath(p)) for p in reader.used_files()]
            missing = [p for p in used if not p.is_file()]
            if missing:
                skipped.append(Skipped(path, f"needs {missing[0].name}, which is missing"))
                continue
            planned = PlannedFileset(used, type(reader).format_name,
                                     list(reader.metadata().series),
                                     entry=path if path.is_dir() else None)
            if not used:
                skipped.append(Skipped(path, "an image without any file"))
                continue
        except PixelvaultError as exc:
            skipped.append(Skipped(path, exc.message))
            continue
        except Exception as exc:
            skipped.append(Skipped(path, unreadable(path, exc).message))
            continue
        finally:
            with contextlib.suppress(Exception):  # a reader that failed may fail to close
                reader.close()
        for other in {id(claimed[p]): claimed[p] for p in used if p in claimed}.values():
            filesets.remove(other)  # a part opened first; the whole set replaces it
        filesets.append(planned)
        for used_path in used:
            claimed[used_path] = planned
    # A part seen alone first (a TIFF of a companion set) is not skipped once its set is in.
    return Plan(filesets, [s for s in skipped if s.path not in claimed])
