"""In-place imports through a server (OMERO's ln, ln_s, cp and their *_rm forms): the
server links or copies files it reads on its own filesystem, named by the client.

A server that reads any path a user names is how OMERO's CVE-2019-9944 let users
import other people's files, so only administrators may ask for it. And the
server must really see the client's files where the client sees them: it
writes a random token into the new fileset's directory, and the client proves
it read that token at the same absolute path (OMERO writes a token too). Each
file is then checked against the size and checksum the client announced, so a
path that names other bytes on the server fails that file by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select

from pixelvault.catalog import Actor
from pixelvault.catalog import files as file_rows
from pixelvault.catalog.models import Fileset, FilesetState
from pixelvault.errors import ForbiddenError, IntegrityError, InvalidInputError, NotFoundError
from pixelvault.repository.atomic import write_bytes_atomic
from pixelvault.repository.checksums import canonical
from pixelvault.repository.managed import client_paths
from pixelvault.services.imports.fileset import (
    LOCAL_TRANSFERS,
    CopiedFile,
    ImportedFileset,
    ImportOptions,
    begin,
    complete,
    place,
    undo,
)
from pixelvault.services.imports.upload import MAX_FILES, Announced, check_announced
from pixelvault.services.vault import Vault

TOKEN_NAME = ".pixelvault-in-place-token"  # noqa: S105 - a file name, not a secret


def token_path(vault: Vault, directory: PurePosixPath) -> Path:
    return vault.managed.path(directory) / TOKEN_NAME


def _source(text: str) -> Path:
    """A path the server will read: absolute, plain, no parent steps or NULs."""
    if "\x00" in text or not text.startswith("/"):
        raise InvalidInputError(f"{text[:200]!r}: in-place imports name files by their "
                                "absolute path on the server")
    path = PurePosixPath(text)
    if ".." in path.parts or str(path) != text.rstrip("/"):
        raise InvalidInputError(f"{text[:200]!r}: give the file's plain absolute path "
                                "(no '..', no doubled or trailing slashes)")
    return Path(text)


def check_allowed(actor: Actor, transfer: str) -> None:
    """Refuse before anything is created (a dataset named by the request, say)."""
    if transfer not in LOCAL_TRANSFERS:
        raise InvalidInputError(f"transfer {transfer!r} is not one of "
                                f"{', '.join(LOCAL_TRANSFERS)}")
    if not actor.is_admin:
        raise ForbiddenError(f"--transfer {transfer} through a server is for "
                             "administrators (the server reads the paths you name); use "
                             "--transfer upload, or import on the server's machine")


def start(vault: Vault, actor: Actor, files: list[Announced], options: ImportOptions,
          entry_depth: int = 0) -> tuple[int, Path]:
    """Open an in-place import; its id and the token file the client must read."""
    check_allowed(actor, options.transfer)
    if not 0 < len(files) <= MAX_FILES:
        raise InvalidInputError(f"announce 1 to {MAX_FILES} files")
    check_announced(files, canonical(options.algorithm))
    sources = [_source(f.client_path) for f in files]
    if len(set(sources)) != len(sources):
        raise InvalidInputError("a file is announced twice")
    relpaths = client_paths(sources)
    if not 0 <= entry_depth < len(relpaths[0].parts):
        raise InvalidInputError(f"entry_depth {entry_depth} is outside the first file's path")
    vault.guard.check()
    with vault.catalog.session() as session:
        ids = [file_rows.allocate_id(session) for _ in files]
    token = secrets.token_hex(32)
    manifest = json.dumps({
        "options": asdict(options), "entry_depth": entry_depth, "started": time.time(),
        "token": token, "files": [{**asdict(f), "file_id": i, "relpath": str(r)}
                                  for f, i, r in zip(files, ids, relpaths, strict=True)]})
    fileset_id, directory = begin(vault, actor, format_name="", transfer=options.transfer,
                                  manifest=manifest)
    where = token_path(vault, directory)
    try:
        write_bytes_atomic(where, token.encode("ascii"))
        os.chmod(where, 0o444)
    except BaseException:
        undo(vault, fileset_id, directory, [])
        raise
    return fileset_id, where


def _open(vault: Vault, actor: Actor, fileset_id: int) -> tuple[PurePosixPath, dict[str, Any]]:
    with vault.catalog.session() as session:
        row = session.scalar(select(Fileset).where(
            Fileset.id == fileset_id, Fileset.owner_id == actor.user_id,
            Fileset.state == FilesetState.IMPORTING,
            Fileset.transfer.in_(LOCAL_TRANSFERS)))
        if row is None:
            raise NotFoundError(f"no open in-place import with id {fileset_id}")
        return PurePosixPath(row.directory), json.loads(row.manifest)


def is_in_place(vault: Vault, actor: Actor, fileset_id: int) -> bool:
    try:
        _open(vault, actor, fileset_id)
    except NotFoundError:
        return False
    return True


def finish(vault: Vault, actor: Actor, fileset_id: int, token: str) -> ImportedFileset:
    """Check the token, then link or copy each file, compare it with what the client
    announced, and record the images. Any failure leaves nothing."""
    directory, manifest = _open(vault, actor, fileset_id)
    if not secrets.compare_digest(token.encode(), str(manifest["token"]).encode()):
        raise ForbiddenError(
            "the token does not match the one the server wrote: the client does not see "
            "the server's repository at the same path; use --transfer upload")
    options = ImportOptions(**manifest["options"])
    algorithm = canonical(options.algorithm)
    timings = {"upload": 0.0}
    began = time.monotonic()
    copied: list[CopiedFile] = []
    try:
        with contextlib.suppress(FileNotFoundError):
            token_path(vault, directory).unlink()
        for item in manifest["files"]:
            source = _source(item["client_path"])
            try:
                size = source.stat().st_size
            except OSError as exc:
                raise InvalidInputError(f"{source}: the server cannot read it "
                                        f"({exc.strerror}); use --transfer upload") from None
            if size != item["size"]:
                raise IntegrityError(f"{source} has {size} bytes on the server, the client "
                                     f"announced {item['size']}; it is not the same file")
            placed = place(vault, item["file_id"], directory, source,
                           PurePosixPath(item["relpath"]), algorithm, options.transfer)
            copied.append(placed)
            if placed.hash != item["checksum"].lower():
                raise IntegrityError(
                    f"{source} on the server does not match the client's file ({algorithm} "
                    f"{placed.hash} != {item['checksum']}); it is not the same file")
        timings["upload"] = time.monotonic() - began
        return complete(vault, actor, fileset_id, directory, copied, options, timings,
                        entry_depth=int(manifest.get("entry_depth", 0)))
    except BaseException:
        undo(vault, fileset_id, directory, [])
        raise


def abort(vault: Vault, actor: Actor, fileset_id: int) -> None:
    directory, _ = _open(vault, actor, fileset_id)
    with contextlib.suppress(NotFoundError):
        undo(vault, fileset_id, directory, [])
