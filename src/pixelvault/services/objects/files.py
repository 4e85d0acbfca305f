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
from collections.abc import Callable, Iterable, Iterator
from pathlib import PurePosixPath

from sqlalchemy.orm import Session

from pixelvault.catalog import Actor
from pixelvault.catalog import files as file_rows
from pixelvault.catalog.models import OriginalFile
from pixelvault.errors import InvalidInputError, NotFoundError
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


class PendingFile:
    """A file being stored: bytes stream in, then commit() records the row.

    The id is allocated and committed first, the bytes written and fsynced under
    it, and the OriginalFile row committed last.
    """

    def __init__(self, vault: Vault, actor: Actor, *, name: str, mimetype: str | None,
                 algorithm: str, group_id: int | None, expected_size: int) -> None:
        self.vault = vault
        self.actor = actor
        self.name = safe_name(name)
        self.mimetype = mimetype or guess_mimetype(self.name)
        self.algorithm = canonical(algorithm)
        self.group_id = actor.group_id if group_id is None else group_id
        vault.guard.check(expected_size)
        with vault.catalog.session() as session:
            self.file_id = file_rows.allocate_id(session)
        self.writer = vault.files.open_writer(self.file_id, [self.algorithm], expected_size)

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    def abort(self) -> None:
        self.writer.abort()

    def commit(self, session_hook: Callable[[Session, OriginalFile], None] | None = None
               ) -> OriginalFile:
        """Make the bytes visible, then record them (and, in the same transaction,
        whatever ``session_hook`` adds, such as an attachment's annotation)."""
        stored = self.writer.commit()
        row = OriginalFile(
            id=self.file_id, store=Store.FILES.value, path=str(stored.relpath), name=self.name,
            size=stored.size, mimetype=self.mimetype, hasher=self.algorithm,
            hash=stored.hashes[self.algorithm], owner_id=self.actor.user_id,
            group_id=self.group_id,
        )
        try:
            with self.vault.catalog.session() as session:
                session.add(row)
                session.flush()
                if session_hook is not None:
                    session_hook(session, row)
        except BaseException:
            # The row never existed: the bytes are an orphan, remove them now.
            self.vault.files.delete(self.file_id)
            raise
        return row


def put_file(vault: Vault, actor: Actor, chunks: Iterable[bytes], *, name: str,
             mimetype: str | None = None, algorithm: str = DEFAULT_ALGORITHM,
             group_id: int | None = None, expected_size: int = 0) -> OriginalFile:
    pending = PendingFile(vault, actor, name=name, mimetype=mimetype, algorithm=algorithm,
                          group_id=group_id, expected_size=expected_size)
    try:
        for chunk in chunks:
            pending.write(chunk)
    except BaseException:
        pending.abort()
        raise
    return pending.commit()


def get_file(vault: Vault, actor: Actor, file_id: int) -> OriginalFile:
    with vault.catalog.session() as session:
        row = file_rows.get(session, actor, file_id)
    if row is None:
        raise NotFoundError(f"no file with id {file_id}")
    return row


def read_file(vault: Vault, actor: Actor, file_id: int, start: int = 0,
              end: int | None = None) -> Iterator[bytes]:
    return original_bytes(vault, get_file(vault, actor, file_id), start, end)


def original_bytes(vault: Vault, row: OriginalFile, start: int = 0,
                   end: int | None = None) -> Iterator[bytes]:
    """The bytes of a file the caller already may read, from whichever store holds them."""
    vault.guard.require_available("nothing was read")  # never another share's bytes
    if row.store == Store.MANAGED.value:
        return vault.managed.read_range(row.path, start, end)
    return vault.files.read_range(row.id, start, end)


def list_files(vault: Vault, actor: Actor, offset: int = 0,
               limit: int = 200) -> tuple[list[OriginalFile], int]:
    with vault.catalog.session() as session:
        return file_rows.listing(session, actor, offset=offset, limit=limit)


def delete_file(vault: Vault, actor: Actor, file_id: int) -> OriginalFile:
    if get_file(vault, actor, file_id).store != Store.FILES.value:
        raise InvalidInputError(f"file {file_id} belongs to an imported fileset; delete the "
                                "fileset's images instead")
    vault.guard.require_available("nothing was deleted")
    with vault.catalog.session() as session:
        row = file_rows.remove(session, actor, file_id)
    if row is None:
        raise NotFoundError(f"no file with id {file_id}")
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
    for chunk in original_bytes(vault, row):
        hasher.update(chunk)
    return row, hasher.hexdigest()
