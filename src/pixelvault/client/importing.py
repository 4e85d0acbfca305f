"""Importing through a server: files are grouped into filesets here, by the same readers
the server uses, hashed, announced, sent (resuming after a dropped connection where the
server's copy ends) and finished; the server re-checks every checksum."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from pixelvault import errors
from pixelvault.repository.checksums import (
    DEFAULT_ALGORITHM,
    canonical,
    digest_file,
    new_hasher,
)

if TYPE_CHECKING:
    from pixelvault.client.http import Http
    from pixelvault.services.imports.plan import Plan

CHUNK = 4 << 20
errors_log = logging.getLogger(__name__)
Progress = Callable[[int], None]  # bytes sent since the last call


class _Hashing:
    """A file's checksum, made from the bytes as they are sent (one read of the file).
    After a dropped connection the server may hold fewer bytes than were hashed: the
    hash then starts again from the file's beginning."""

    def __init__(self, algorithm: str, path: Path) -> None:
        self.algorithm = algorithm
        self.path = path
        self.hasher = new_hasher(algorithm)
        self.covered = 0

    def catch_up(self, offset: int) -> None:
        """Hash the file up to ``offset``, where sending resumes."""
        if offset < self.covered:
            self.hasher, self.covered = new_hasher(self.algorithm), 0
        if offset > self.covered:
            with self.path.open("rb") as handle:
                handle.seek(self.covered)
                while self.covered < offset and (chunk := handle.read(
                        min(CHUNK, offset - self.covered))):
                    self.hasher.update(chunk)
                    self.covered += len(chunk)

    def chunks(self, offset: int, progress: Progress | None) -> Iterator[bytes]:
        self.catch_up(offset)
        with self.path.open("rb") as handle:
            handle.seek(offset)
            while chunk := handle.read(CHUNK):
                self.hasher.update(chunk)
                self.covered += len(chunk)
                if progress is not None:
                    progress(len(chunk))
                yield chunk

    def hexdigest(self, size: int) -> str:
        self.catch_up(size)
        return self.hasher.hexdigest()


def _send(conn: Http, upload_id: int, index: int, path: Path, size: int,
          progress: Progress | None, retries: int, hashing: _Hashing) -> None:
    """Send one file, resuming where the server's copy ends after a dropped connection."""
    attempt = 0
    while True:
        status = conn.request("GET", f"/api/v1/imports/{upload_id}")
        offset = int(status["files"][index]["received"])
        if offset >= size:
            return
        try:
            conn.request("PUT", f"/api/v1/imports/{upload_id}/files/{index}",
                         params={"offset": offset}, content=hashing.chunks(offset, progress),
                         headers={"Content-Length": str(size - offset),
                                  "Content-Type": "application/octet-stream"})
            return
        except (errors.ServerNotRunningError, httpx.HTTPError):
            attempt += 1
            if attempt > retries:
                raise
            time.sleep(min(2 ** attempt * 0.25, 10))


def _token(answer: dict[str, Any]) -> str:
    """The token the server wrote for an in-place import, read where this machine sees
    it: the proof that client and server see the same files at the same paths."""
    where = Path(str(answer["token_path"]))
    try:
        return where.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise errors.InvalidInputError(
            f"this machine does not see the server's repository ({where.parent} is not "
            "here), so it cannot import in place; use --transfer upload") from None


def import_fileset(conn: Http, files: Sequence[Path], *, algorithm: str,
                   options: dict[str, Any], progress: Progress | None = None,
                   retries: int = 5, entry_depth: int = 0,
                   transfer: str = "upload") -> dict[str, Any]:
    """One fileset: announced with each file's size, then sent (upload: each file hashed
    while it is sent, the checksums given with the finish) or linked or copied by the
    server from where both see it (in place: hashed first, announced with the files)."""
    stats = [p.stat() for p in files]
    sizes = [info.st_size for info in stats]
    announced = [{"client_path": str(Path(os.path.abspath(p))), "size": size,
                  "checksum": digest_file(algorithm, p, progress)
                  if transfer != "upload" else ""}
                 for p, size in zip(files, sizes, strict=True)]
    upload = conn.request("POST", "/api/v1/imports", json={
        "files": announced, "checksum_algorithm": algorithm, "entry_depth": entry_depth,
        "transfer": transfer, **options})
    upload_id = int(upload["id"])
    try:
        if transfer != "upload":
            done: dict[str, Any] = conn.request(
                "POST", f"/api/v1/imports/{upload_id}/finish", json={"token": _token(upload)})
            if transfer.endswith("_rm"):
                _remove_sources(files)
            return done
        checksums = []
        for index, (path, size) in enumerate(zip(files, sizes, strict=True)):
            hashing = _Hashing(algorithm, path)
            _send(conn, upload_id, index, path, size, progress, retries, hashing)
            checksums.append(hashing.hexdigest(size))
            now = path.stat()
            if (now.st_size, now.st_mtime_ns) != (size, stats[index].st_mtime_ns):
                raise errors.IntegrityError(f"{path.name} changed while it was sent; import "
                                            "it again once whatever writes it has finished")
        answer: dict[str, Any] = conn.request(
            "POST", f"/api/v1/imports/{upload_id}/finish", json={"checksums": checksums})
        return answer
    except BaseException:
        # Best effort: the server removes abandoned uploads itself (`admin cleanse`).
        with contextlib.suppress(errors.PixelvaultError, httpx.HTTPError):
            conn.request("DELETE", f"/api/v1/imports/{upload_id}")
        raise


def _remove_sources(files: Sequence[Path]) -> None:
    """cp_rm and ln_rm: the sources go only once the server has committed the import."""
    for path in files:
        try:
            path.unlink()
        except OSError as exc:
            errors_log.warning("imported, but %s could not be removed: %s", path,
                               exc.strerror)


def import_paths(conn: Http, paths: Sequence[str | Path], *,
                 dataset: str | int | None = None, name: str | None = None,
                 description: str | None = None, minmax: bool = True,
                 algorithm: str = DEFAULT_ALGORITHM, progress: Progress | None = None,
                 retries: int = 5, transfer: str = "upload",
                 thumbnails: bool = True) -> dict[str, Any]:
    """Import files and directories; returns what was imported, failed and skipped."""
    from pixelvault.services.imports.plan import plan

    return import_plan(conn, plan([Path(p).expanduser() for p in paths]), dataset=dataset,
                       name=name, description=description, minmax=minmax,
                       algorithm=algorithm, progress=progress, retries=retries,
                       transfer=transfer, thumbnails=thumbnails)


def import_plan(conn: Http, found: Plan, *, dataset: str | int | None = None,
                name: str | None = None, description: str | None = None, minmax: bool = True,
                algorithm: str = DEFAULT_ALGORITHM, progress: Progress | None = None,
                retries: int = 5, transfer: str = "upload",
                thumbnails: bool = True) -> dict[str, Any]:
    """Import the filesets of a plan made here (``services.imports.plan``); ``transfer``
    other than upload (cp, cp_rm, ln, ln_rm, ln_s) asks an administrator's server to
    take the files in place, from a filesystem both see."""
    algorithm = canonical(algorithm)
    options = {"dataset": None if dataset is None else str(dataset), "name": name,
               "description": description, "minmax": minmax, "thumbnails": thumbnails}
    outcome: dict[str, Any] = {
        "imported": [], "failed": [],
        "skipped": [{"path": str(s.path), "reason": s.reason} for s in found.skipped]}
    for fileset in found.filesets:
        try:
            outcome["imported"].append(import_fileset(
                conn, fileset.files, algorithm=algorithm, options=options, progress=progress,
                retries=retries, entry_depth=fileset.entry_depth, transfer=transfer))
        except errors.PixelvaultError as exc:
            outcome["failed"].append({"path": str(fileset.files[0]), "reason": exc.message})
    return outcome
