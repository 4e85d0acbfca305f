"""Original files in the Files store: bytes first, catalog second.

The id is allocated (and committed) first, the bytes are written and fsynced
under that id, and only then is the OriginalFile row committed. Deletion runs
the other way: row first, bytes after the commit. A crash in between leaves a
file without a row for `admin cleanse`, never a row without its file.
"""

from __future__ import annotations

import logging
import mimetypes
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

from pixelvault.catalog import Actor
from pixelvault.catalog import files as file_rows
from pixelvault.catalog.models import OriginalFile
from pixelvault.errors import NotFoundError
from pixelvault.repository import Store
from pixelvault.repository.checksums import DEFAULT_ALGORITHM, canonical
from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
MAX_NAME = 255


def safe_name(name: str) -> str:
    """A display name that cannot act as a path: last component, no control chars.

    The bytes' location comes from the id alone, so a name can never place a
    file; this keeps names harmless when echoed to a shell or a download.
    """
    name = name.replace("\\", "/")
    leaf = PurePosixPath(name).name if name else ""
    cleaned = "".join(
        "_" if unicodedata.category(ch).startswith("C") else ch for ch in leaf
    ).strip()
    if cleaned in ("", ".", ".."):
        cleaned = "unnamed"
    return cleaned[:MAX_NAME]


def guess_mimetype(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def put_file(vault: Vault, actor: Actor, chunks: Iterable[bytes], *, name: str,
             mimetype: str | None = None, algorithm: str = DEFAULT_ALGORITHM,
             group_id: int | None = None, expected_size: int = 0) -> OriginalFile:
    algorithm = canonical(algorithm)
    name = safe_name(name)
    vault.guard.check(expected_size)
    with vault.catalog.session() as session:
        file_id = file_rows.allocate_id(session)
    stored = vault.files.write(file_id, chunks, [algorithm], expected_size)
    row = OriginalFile(
        id=file_id, store=Store.FILES.value, path=str(stored.relpath), name=name,
        size=stored.size, mimetype=mimetype or guess_mimetype(name), hasher=algorithm,
        hash=stored.hashes[algorithm], owner_id=actor.user_id,
        group_id=actor.group_id if group_id is None else group_id,
    )
    try:
        with vault.catalog.session() as session:
            session.add(row)
    except BaseException:
        # The row never existed: the bytes are an orphan, remove them now.
        vault.files.delete(file_id)
        raise
    return row


def get_file(vault: Vault, actor: Actor, file_id: int) -> OriginalFile:
    with vault.catalog.session() as session:
        row = file_rows.get(session, actor, file_id)
    if row is None:
        raise NotFoundError(f"no file with id {file_id}; list files with `pixelvault files ls`")
    return row


def read_file(vault: Vault, actor: Actor, file_id: int, start: int = 0,
              end: int | None = None) -> Iterator[bytes]:
    get_file(vault, actor, file_id)
    return vault.files.read_range(file_id, start, end)


def list_files(vault: Vault, actor: Actor, offset: int = 0,
               limit: int = 200) -> tuple[list[OriginalFile], int]:
    with vault.catalog.session() as session:
        return file_rows.listing(session, actor, offset=offset, limit=limit)


def delete_file(vault: Vault, actor: Actor, file_id: int) -> OriginalFile:
    with vault.catalog.session() as session:
        row = file_rows.remove(session, actor, file_id)
    if row is None:
        raise NotFoundError(f"no file with id {file_id}; list files with `pixelvault files ls`")
    try:
        vault.files.delete(file_id)
    except OSError as exc:
        log.warning("file %s: row deleted, bytes left for cleanse: %s", file_id, exc)
    return row


def verify_file(vault: Vault, actor: Actor, file_id: int) -> tuple[OriginalFile, str]:
    """Re-hash the bytes on disk; returns the row and the hash found now."""
    from pixelvault.repository.checksums import new_hasher

    row = get_file(vault, actor, file_id)
    hasher = new_hasher(row.hasher)
    for chunk in vault.files.read_range(file_id):
        hasher.update(chunk)
    return row, hasher.hexdigest()
