"""Importing through a server: files are grouped into filesets here, by the same readers
the server uses, hashed, announced, sent (resuming after a dropped connection where the
server's copy ends) and finished; the server re-checks every checksum."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from pixelvault import errors
from pixelvault.repository.checksums import DEFAULT_ALGORITHM, canonical, digest_file

if TYPE_CHECKING:
    from pixelvault.client.connection import Connection
    from pixelvault.services.imports.plan import Plan

CHUNK = 4 << 20
Progress = Callable[[int], None]  # bytes sent since the last call


def _from(path: Path, offset: int, progress: Progress | None) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(offset)
        while chunk := handle.read(CHUNK):
            if progress is not None:
                progress(len(chunk))
            yield chunk


def _send(conn: Connection, upload_id: int, index: int, path: Path, size: int,
          progress: Progress | None, retries: int) -> None:
    """Send one file, resuming where the server's copy ends after a dropped connection."""
    attempt = 0
    while True:
        status = conn.request("GET", f"/api/v1/imports/{upload_id}")
        offset = int(status["files"][index]["received"])
        if offset >= size:
            return
        try:
            conn.request("PUT", f"/api/v1/imports/{upload_id}/files/{index}",
                         params={"offset": offset}, content=_from(path, offset, progress),
                         headers={"Content-Length": str(size - offset),
                                  "Content-Type": "application/octet-stream"})
            return
        except (errors.ServerNotRunningError, httpx.HTTPError):
            attempt += 1
            if attempt > retries:
                raise
            time.sleep(min(2 ** attempt * 0.25, 10))


def import_fileset(conn: Connection, files: Sequence[Path], *, algorithm: str,
                   options: dict[str, Any], progress: Progress | None = None,
                   retries: int = 5, entry_depth: int = 0) -> dict[str, Any]:
    sizes = [p.stat().st_size for p in files]
    announced = [{"client_path": str(Path(os.path.abspath(p))), "size": size,
                  "checksum": digest_file(algorithm, p)} for p, size in zip(files, sizes,
                                                                            strict=True)]
    upload = conn.request("POST", "/api/v1/imports", json={
        "files": announced, "checksum_algorithm": algorithm, "entry_depth": entry_depth,
        **options})
    upload_id = int(upload["id"])
    try:
        for index, (path, size) in enumerate(zip(files, sizes, strict=True)):
            _send(conn, upload_id, index, path, size, progress, retries)
        answer: dict[str, Any] = conn.request("POST",
                                              f"/api/v1/imports/{upload_id}/finish")
        return answer
    except BaseException:
        # Best effort: the server removes abandoned uploads itself (`admin cleanse`).
        with contextlib.suppress(errors.PixelvaultError, httpx.HTTPError):
            conn.request("DELETE", f"/api/v1/imports/{upload_id}")
        raise


def import_paths(conn: Connection, paths: Sequence[str | Path], *,
                 dataset: str | int | None = None, name: str | None = None,
                 description: str | None = None, minmax: bool = True,
                 algorithm: str = DEFAULT_ALGORITHM, progress: Progress | None = None,
                 retries: int = 5) -> dict[str, Any]:
    """Import files and directories; returns what was imported, failed and skipped."""
    from pixelvault.services.imports.plan import plan

    return import_plan(conn, plan([Path(p).expanduser() for p in paths]), dataset=dataset,
                       name=name, description=description, minmax=minmax,
                       algorithm=algorithm, progress=progress, retries=retries)


def import_plan(conn: Connection, found: Plan, *, dataset: str | int | None = None,
                name: str | None = None, description: str | None = None, minmax: bool = True,
                algorithm: str = DEFAULT_ALGORITHM, progress: Progress | None = None,
                retries: int = 5) -> dict[str, Any]:
    """Import the filesets of a plan made here (``services.imports.plan``)."""
    algorithm = canonical(algorithm)
    options = {"dataset": None if dataset is None else str(dataset), "name": name,
               "description": description, "minmax": minmax}
    outcome: dict[str, Any] = {
        "imported": [], "failed": [],
        "skipped": [{"path": str(s.path), "reason": s.reason} for s in found.skipped]}
    for fileset in found.filesets:
        try:
            outcome["imported"].append(import_fileset(
                conn, fileset.files, algorithm=algorithm, options=options, progress=progress,
                retries=retries, entry_depth=fileset.entry_depth))
        except errors.PixelvaultError as exc:
            outcome["failed"].append({"path": str(fileset.files[0]), "reason": exc.message})
    return outcome
