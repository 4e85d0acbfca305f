"""The FullText store: the search index's directories, which one is live, and how far
through the catalog's event log it has got.

``FullText/CURRENT`` names the live index directory (``index-<n>``); a reindex
builds ``index-<n+1>`` beside it while searches go on, then replaces
``CURRENT`` in one atomic rename. ``<index>/POSITION`` holds the last event the
index has seen, written after each commit of the index (an event applied twice
is harmless: documents are replaced by key).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from pixelvault.repository.atomic import write_bytes_atomic
from pixelvault.repository.guard import WriteGuard
from pixelvault.repository.layout import Store

_INDEX = re.compile(r"^index-(\d+)$")


class FullTextStore:
    store = Store.FULLTEXT

    def __init__(self, guard: WriteGuard) -> None:
        self.guard = guard
        self.root = guard.layout.store(self.store)

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    def current(self) -> Path | None:
        """The live index directory, or None when there is none (or it is gone)."""
        try:
            name = self.current_file.read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not _INDEX.match(name):
            return None
        path = self.root / name
        return path if path.is_dir() else None

    def new_index_dir(self) -> Path:
        """An empty directory for a new index, numbered after every existing one."""
        self.guard.check()
        numbers = [int(m[1]) for p in self.root.iterdir() if (m := _INDEX.match(p.name))] \
            if self.root.is_dir() else []
        path = self.root / f"index-{max(numbers, default=0) + 1}"
        path.mkdir()
        return path

    def make_current(self, index: Path) -> None:
        """Switch searches to ``index`` (atomically), then remove the older ones."""
        self.guard.check_identity()
        write_bytes_atomic(self.current_file, (index.name + "\n").encode("ascii"))
        for other in self.root.iterdir():
            if _INDEX.match(other.name) and other != index and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)

    def discard(self, index: Path) -> None:
        shutil.rmtree(index, ignore_errors=True)

    @staticmethod
    def position(index: Path) -> int:
        try:
            return int((index / "POSITION").read_text("ascii").strip())
        except (OSError, ValueError):
            return 0

    def set_position(self, index: Path, event_id: int) -> None:
        write_bytes_atomic(index / "POSITION", f"{event_id}\n".encode("ascii"))

    @property
    def _reindex_file(self) -> Path:
        return self.root / "REINDEX"

    def mark_reindex(self, start_event: int) -> None:
        """A reindex under way from this event: events after it are kept for it."""
        write_bytes_atomic(self._reindex_file, f"{start_event}\n".encode("ascii"))

    def clear_reindex(self) -> None:
        self._reindex_file.unlink(missing_ok=True)

    def reindex_floor(self) -> int | None:
        try:
            return int(self._reindex_file.read_text("ascii").strip())
        except (OSError, ValueError):
            return None
