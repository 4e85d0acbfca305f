"""The Thumbnails store: rendered thumbnails by thumbnail id, at OMERO's Dir-NNN paths.

A thumbnail can always be made again from the pixels, so it is written whole
(temporary name, rename) but not fsynced: one lost in a crash is found missing
and regenerated, never served half-written.
"""

from __future__ import annotations

from pathlib import Path

from pixelvault.repository.atomic import write_bytes_atomic
from pixelvault.repository.files import IdStore, ensure_parents
from pixelvault.repository.guard import WriteGuard
from pixelvault.repository.layout import Store


class ThumbnailStore(IdStore):
    store = Store.THUMBNAILS

    def __init__(self, guard: WriteGuard) -> None:
        self.guard = guard
        self.layout = guard.layout
        self.root = self.layout.store(self.store)

    def path(self, thumbnail_id: int) -> Path:
        return self.layout.object_path(self.store, thumbnail_id)

    def write(self, thumbnail_id: int, data: bytes) -> None:
        self.guard.check(len(data))
        final = self.path(thumbnail_id)
        ensure_parents(self.root, final)
        write_bytes_atomic(final, data, durable=False)

    def read(self, thumbnail_id: int) -> bytes | None:
        try:
            return self.path(thumbnail_id).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def remove(self, thumbnail_id: int) -> None:
        self.path(thumbnail_id).unlink(missing_ok=True)
