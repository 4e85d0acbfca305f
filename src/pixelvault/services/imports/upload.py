"""Imports over HTTP: announce the files, send their bytes in any number of requests
(resuming after a dropped connection where the server's copy ends), then finish.

The client hashes each file as it reads it and gives the checksum, with the
announcement or (hashing while it sends, so each file is read once) at the
finish; at the
finish the server re-hashes what it has on disk and compares, so a byte
damaged on the way fails the fileset, naming the file, and nothing stays.
While an upload is open its fileset is ``importing`` (invisible, and removed by
`admin cleanse` if abandoned); its manifest, in the catalog, says what is
expected, and the bytes received so far are the partial files on disk.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select

from pixelvault.catalog import Actor
from pixelvault.catalog import files as file_rows
from pixelvault.catalog.models import Fileset, FilesetState
from pixelvault.errors import (
    IntegrityError,
    InvalidInputError,
    LockHeldError,
    NotFoundError,
)
from pixelvault.repository.atomic import fsync_dir, translate_os_error
from pixelvault.repository.checksums import canonical, digest_file, new_hasher
from pixelvault.repository.files import ensure_parents
from pixelvault.repository.managed import kept_paths
from pixelvault.repository.memo import SUFFIX as MEMO_SUFFIX
from pixelvault.services.imports.fileset import (
    CopiedFile,
    ImportedFileset,
    ImportOptions,
    begin,
    complete,
    undo,
)
from pixelvault.services.vault import Vault

MAX_FILES = 10_000
MAX_PATH = 4096
NAME_MAX = 255  # bytes, on every filesystem a repository lives on (ext4, XFS, NFS, ZFS)


@dataclass(frozen=True)
class Announced:
    client_path: str
    size: int
    checksum: str


@dataclass
class Expected:
    client_path: str
    relpath: str
    size: int
    checksum: str
    file_id: int


def _relpaths(client_paths: list[str]) -> list[PurePosixPath]:
    """Where each announced file goes, as a local import would put it; the client's
    paths are only ever names here."""
    split = [[p for p in text.replace("\\", "/").split("/") if p] for text in client_paths]
    for text, parts in zip(client_paths, split, strict=True):
        if not parts:
            raise InvalidInputError(f"{text!r} is not a file path")
    paths = kept_paths(split)
    for text, path in zip(client_paths, paths, strict=True):
        if path.name.startswith(".") and path.name.endswith(".part"):
            raise InvalidInputError(f"{text!r}: names like .NAME.part are the server's own "
                                    "partial files; rename the file")
    if len(set(paths)) != len(paths):
        raise InvalidInputError("two files of the fileset would land on the same path; "
                                "send files with distinct names")
    files = dict(zip(paths, client_paths, strict=True))
    for text, path in zip(client_paths, paths, strict=True):
        clash = next((files[p] for p in path.parents if p in files), None)
        if clash is not None:
            raise InvalidInputError(f"{clash!r} is a file and also a directory above "
                                    f"{text!r}; a fileset holds only one of the two: rename "
                                    "the file or the directory")
    return paths


def _check_name_lengths(paths: list[PurePosixPath], client_paths: list[str],
                        name_max: int) -> None:
    """Every name fits the filesystem (``name_max`` bytes), a file's with room for the
    server's own names made from it (``.NAME.part`` while it arrives, ``.NAME.pvmemo``
    in BioFormatsCache): refused at the announcement, not when the bytes arrive."""
    room = len(b".") + len(MEMO_SUFFIX.encode())
    for text, path in zip(client_paths, paths, strict=True):
        for index, part in enumerate(path.parts):
            is_file = index == len(path.parts) - 1
            limit = name_max - room if is_file else name_max
            if len(part.encode("utf-8", "surrogateescape")) > limit:
                why = (f"the filesystem's {name_max} less room for the server's "
                       "partial and cache files" if is_file else "the filesystem's limit")
                raise InvalidInputError(
                    f"{text[:100]!r}: a {'file' if is_file else 'directory'} name may be at "
                    f"most {limit} bytes ({why}); shorten the name")


def _name_max(vault: Vault) -> int:
    """The longest file name, in bytes, the managed repository's filesystem takes; never
    more than 255, so that the repository can move to any other filesystem."""
    try:
        return min(os.pathconf(vault.managed.root, "PC_NAME_MAX"), NAME_MAX)
    except (OSError, ValueError):
        return NAME_MAX


def check_checksum(client_path: str, checksum: str, algorithm: str) -> None:
    width = len(new_hasher(algorithm).hexdigest())
    if len(checksum) != width or any(ch not in "0123456789abcdef" for ch in checksum.lower()):
        raise InvalidInputError(f"{client_path}: the checksum must be the file's "
                                f"{algorithm} as {width} hex digits")


def check_announced(files: list[Announced], algorithm: str, later: bool = False) -> None:
    """Sizes, path lengths and checksums as the algorithm writes them; with ``later``,
    a checksum may be left empty, to come with the finish."""
    for item in files:
        if item.size < 0 or len(item.client_path) > MAX_PATH:
            raise InvalidInputError(f"{item.client_path[:100]!r}: a size of 0 or more and a "
                                    f"path of at most {MAX_PATH} characters")
        if not (later and item.checksum == ""):
            check_checksum(item.client_path, item.checksum, algorithm)


def start(vault: Vault, actor: Actor, files: list[Announced], options: ImportOptions,
          entry_depth: int = 0) -> tuple[int, PurePosixPath, list[Expected]]:
    """Open an upload: check the announcement, reserve ids, create the fileset.

    ``entry_depth`` says what the reader opens: the first file (0), or the directory
    that many levels above it (an OME-Zarr image)."""
    if not 0 < len(files) <= MAX_FILES:
        raise InvalidInputError(f"announce 1 to {MAX_FILES} files")
    algorithm = canonical(options.algorithm)
    check_announced(files, algorithm, later=True)
    relpaths = _relpaths([f.client_path for f in files])
    _check_name_lengths(relpaths, [f.client_path for f in files], _name_max(vault))
    if not 0 <= entry_depth < len(relpaths[0].parts):
        raise InvalidInputError(f"entry_depth {entry_depth} is outside the first file's path")
    vault.guard.check(sum(f.size for f in files))
    with vault.catalog.session() as session:
        ids = [file_rows.allocate_id(session) for _ in files]
    expected = [Expected(f.client_path, str(rel), f.size, f.checksum.lower(), file_id)
                for f, rel, file_id in zip(files, relpaths, ids, strict=True)]
    manifest = json.dumps({"options": asdict(options), "files": [asdict(e) for e in expected],
                           "started": time.time(), "entry_depth": entry_depth})
    fileset_id, directory = begin(vault, actor, format_name="", transfer="upload",
                                  manifest=manifest)
    return fileset_id, directory, expected


@dataclass(frozen=True)
class OpenUpload:
    """An upload under way, as its manifest in the catalog describes it."""

    fileset_id: int
    directory: PurePosixPath
    expected: list[Expected]
    options: ImportOptions
    started: float
    entry_depth: int

    def final(self, vault: Vault, item: Expected) -> Path:
        return vault.managed.path(self.directory / item.relpath)

    def received(self, vault: Vault) -> list[int]:
        """Bytes the server holds of each announced file (where to resume)."""
        sizes = []
        for item in self.expected:
            try:
                sizes.append(_part(self.final(vault, item)).stat().st_size)
            except FileNotFoundError:
                sizes.append(0)
        return sizes


def _open(vault: Vault, actor: Actor, fileset_id: int) -> OpenUpload:
    """The actor's open upload; 404 for anyone else's, finished or unknown ones."""
    with vault.catalog.session() as session:
        row = session.scalar(select(Fileset).where(
            Fileset.id == fileset_id, Fileset.owner_id == actor.user_id,
            Fileset.state == FilesetState.IMPORTING, Fileset.transfer == "upload"))
        if row is None:
            raise NotFoundError(f"no open upload with id {fileset_id}")
        manifest: dict[str, Any] = json.loads(row.manifest)
        directory = PurePosixPath(row.directory)
    return OpenUpload(fileset_id, directory, [Expected(**f) for f in manifest["files"]],
                      ImportOptions(**manifest["options"]),
                      float(manifest.get("started", time.time())),
                      int(manifest.get("entry_depth", 0)))


def _part(final: Path) -> Path:
    return final.with_name(f".{final.name}.part")


class PartWriter:
    """Appends to one announced file where the server's copy ends, under a lock, so two
    requests never interleave; a failed request leaves the copy as it was."""

    def __init__(self, vault: Vault, actor: Actor, fileset_id: int, index: int,
                 offset: int) -> None:
        upload = _open(vault, actor, fileset_id)
        if not 0 <= index < len(upload.expected):
            raise NotFoundError(f"upload {fileset_id} has no file {index}")
        self.item = upload.expected[index]
        final = upload.final(vault, self.item)
        ensure_parents(vault.managed.path(upload.directory), final)
        self.part = _part(final)
        vault.guard.check(max(self.item.size - offset, 0))
        try:
            fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise translate_os_error(exc, str(self.part)) from None
        self._handle = os.fdopen(fd, "wb")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise LockHeldError(f"file {index} of upload {fileset_id} is being sent by "
                                "another request; wait for it, then resume") from None
        self.start = os.fstat(fd).st_size
        if offset != self.start:
            self._handle.close()
            raise LockHeldError(f"the server holds {self.start} bytes of file {index}; "
                                f"resume at offset {self.start}")
        self._handle.seek(self.start)
        self.total = self.start

    def write(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.total > self.item.size:
            raise InvalidInputError(f"{self.item.client_path} was announced with "
                                    f"{self.item.size} bytes; more were sent")
        try:
            self._handle.write(chunk)
        except OSError as exc:
            raise translate_os_error(exc, str(self.part)) from None

    def commit(self) -> int:
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            self.abort()
            raise translate_os_error(exc, str(self.part)) from None
        self._handle.close()
        return self.total

    def abort(self) -> None:
        """Keep only what was there before this request: the client resumes from it."""
        with contextlib.suppress(OSError):
            self._handle.flush()
        with contextlib.suppress(OSError):
            os.truncate(self.part, self.start)
        with contextlib.suppress(OSError):
            self._handle.close()


def status(vault: Vault, actor: Actor, fileset_id: int) -> dict[str, Any]:
    """The upload's files and how much of each the server holds."""
    upload = _open(vault, actor, fileset_id)
    have = upload.received(vault)
    return {"id": fileset_id, "state": "uploading", "started": upload.started,
            "bytes": sum(e.size for e in upload.expected), "received": sum(have),
            "files": [{"index": i, "client_path": e.client_path, "path": e.relpath,
                       "size": e.size, "received": r}
                      for i, (e, r) in enumerate(zip(upload.expected, have, strict=True))]}


def list_uploads(vault: Vault, actor: Actor) -> list[dict[str, Any]]:
    """Open uploads (import jobs): your own; administrators see everyone's."""
    query = select(Fileset.id, Fileset.owner_id).where(
        Fileset.state == FilesetState.IMPORTING, Fileset.transfer == "upload")
    if not actor.is_admin:
        query = query.where(Fileset.owner_id == actor.user_id)
    with vault.catalog.session() as session:
        rows = session.execute(query.order_by(Fileset.id)).all()
    found = []
    for fileset_id, owner_id in rows:
        owner = replace(actor, user_id=owner_id)  # admins look as the owner would
        try:
            item = status(vault, owner, fileset_id)
        except NotFoundError:
            continue  # finished or abandoned meanwhile
        item.pop("files")
        found.append({**item, "owner_id": owner_id})
    return found


def finish(vault: Vault, actor: Actor, fileset_id: int,
           checksums: list[str] | None = None) -> ImportedFileset:
    """Check every file against its size and checksum (announced, or given now in file
    order, for files announced without one), then import them."""
    upload = _open(vault, actor, fileset_id)
    if checksums is not None:
        if len(checksums) != len(upload.expected):
            raise InvalidInputError(f"give {len(upload.expected)} checksums, one per file in "
                                    "the order announced")
        algorithm = canonical(upload.options.algorithm)
        filled = []
        for item, checksum in zip(upload.expected, checksums, strict=True):
            check_checksum(item.client_path, checksum, algorithm)
            if item.checksum and item.checksum != checksum.lower():
                raise IntegrityError(f"{item.client_path}: the checksum at the finish is not "
                                     "the one announced; the file changed while it was sent")
            filled.append(replace(item, checksum=checksum.lower()))
        upload = replace(upload, expected=filled)
    missing = [item.client_path for item in upload.expected if not item.checksum]
    if missing:
        raise InvalidInputError(f"{missing[0]} was announced without a checksum; give the "
                                "checksums with the finish: {\"checksums\": [...]}")
    with _finishing(vault, fileset_id, upload.directory):
        return _finish(vault, actor, upload)


@contextlib.contextmanager
def _finishing(vault: Vault, fileset_id: int, directory: PurePosixPath) -> Iterator[None]:
    """One finish at a time per upload (a lock on its directory)."""
    try:
        fd = os.open(vault.managed.path(directory), os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise translate_os_error(exc, str(directory)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeldError(f"upload {fileset_id} is being finished by another "
                                "request") from None
        yield
    finally:
        os.close(fd)


def _finish(vault: Vault, actor: Actor, upload: OpenUpload) -> ImportedFileset:
    algorithm = canonical(upload.options.algorithm)
    for item, size in zip(upload.expected, upload.received(vault), strict=True):
        if size != item.size:
            raise InvalidInputError(f"{item.client_path}: {size} of {item.size} bytes "
                                    "received; send the rest, then finish")
    copied: list[CopiedFile] = []
    timings = {"upload": time.time() - upload.started}
    try:
        for item in upload.expected:
            final = upload.final(vault, item)
            part = _part(final)
            digest = digest_file(algorithm, part)
            if digest != item.checksum:
                raise IntegrityError(
                    f"{item.client_path} arrived damaged: the server's {algorithm} is "
                    f"{digest}, the client's {item.checksum}; import it again")
            os.chmod(part, 0o444)
            os.rename(part, final)
            fsync_dir(final.parent)
            copied.append(CopiedFile(item.file_id, Path(item.client_path),
                                  PurePosixPath(item.relpath), final,
                                  str(vault.layout.relative(final)), item.size,
                                  item.checksum))
        return complete(vault, actor, upload.fileset_id, upload.directory, copied,
                        upload.options, timings, entry_depth=upload.entry_depth)
    except BaseException:
        undo(vault, upload.fileset_id, upload.directory, [])
        raise


def abort(vault: Vault, actor: Actor, fileset_id: int) -> None:
    upload = _open(vault, actor, fileset_id)
    with contextlib.suppress(NotFoundError):
        undo(vault, fileset_id, upload.directory, [])

