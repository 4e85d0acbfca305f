"""BioFormatsCache: memo files that spare readers the parse of files they opened before.

A memo sits at ``BioFormatsCache/<the original's path in the repository>/
.<name>.pvmemo`` (OMERO's place for its ``.bfmemo`` files) and holds JSON:
the key it is valid for (the original's size and modification time, the
reader's name and version) and the reader's state. A memo whose key does not
match, or that cannot be read, is simply not used: it is rebuilt, never an
error, and a read never waits for it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from pixelvault.errors import PixelvaultError
from pixelvault.repository.atomic import write_bytes_atomic
from pixelvault.repository.files import ensure_parents, remove_empty_parents
from pixelvault.repository.layout import Layout, Store

log = logging.getLogger(__name__)
SUFFIX = ".pvmemo"
MAX_MEMO = 256 << 20


class MemoStore:
    store = Store.BIOFORMATS_CACHE

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.root = layout.store(self.store)

    def path(self, original: Path) -> Path:
        relative = Path(os.path.abspath(original)).relative_to(self.layout.root)
        return self.root / relative.parent / f".{relative.name}{SUFFIX}"

    @staticmethod
    def _key(original: Path, reader: str, version: str) -> dict[str, Any]:
        info = original.stat()
        return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "reader": reader,
                "version": version}

    def load(self, original: Path, reader: str, version: str) -> dict[str, Any] | None:
        """The state stored for this original and reader, or None (missing, stale, foreign
        or damaged: all mean "parse it")."""
        try:
            memo = self.path(original)
            if memo.stat().st_size > MAX_MEMO:
                return None
            data = json.loads(memo.read_bytes())
            if not isinstance(data, dict) or data.get("key") != self._key(original, reader,
                                                                           version):
                return None
            state = data.get("state")
            return state if isinstance(state, dict) else None
        except (OSError, ValueError):
            return None

    def save(self, original: Path, reader: str, version: str, state: dict[str, Any]) -> bool:
        """Store the state; a failure (a full or read-only disk) is logged, not raised."""
        try:
            memo = self.path(original)
            ensure_parents(self.root, memo)  # never creates the store root itself
            payload = json.dumps({"key": self._key(original, reader, version),
                                  "state": state}, separators=(",", ":"))
            write_bytes_atomic(memo, payload.encode("utf-8"))
            return True
        except (OSError, ValueError, PixelvaultError) as exc:
            log.warning("memo for %s not written: %s", original, exc)
            return False

    def original_of(self, memo: Path) -> Path:
        relative = memo.relative_to(self.root)
        name = relative.name[1:-len(SUFFIX)]
        return self.layout.root / relative.parent / name

    def forget(self, directory: Path) -> None:
        """Drop the memos of everything below ``directory`` (a repository path)."""
        target = self.root / Path(os.path.abspath(directory)).relative_to(self.layout.root)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        remove_empty_parents(target, self.root)

    def orphans(self) -> list[Path]:
        """Memos whose original file is gone."""
        found = []
        for memo in self.root.rglob(f".*{SUFFIX}"):
            if not memo.is_symlink() and not self.original_of(memo).exists():
                found.append(memo)
        return found
