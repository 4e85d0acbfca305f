"""Rendered tiles and planes kept in memory, by ETag, for the viewers that ask for the
same tile with the same settings (a class looking at one slide, a figure reloaded).

The key is the answer's ETag within one repository. The ETag already names everything
the bytes depend on (image, pixels version, pyramid levels built, settings, region,
format, quality, flip), and it is what a 304 vouches for, so a cached answer can only
be served where a 304 would have been: a change to the image or its settings makes a
new key, and the old entry ages out. The permission check runs before the lookup, on
every request; nothing here decides who may see what.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class TileCache:
    """Least recently used bytes within a budget, per process (each server process has
    its own; they need no coordination because keys never go stale, they only go
    unused)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, repository: str, etag: str) -> bytes | None:
        with self._lock:
            found = self._entries.get((repository, etag))
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end((repository, etag))
            self.hits += 1
            return found

    def put(self, repository: str, etag: str, data: bytes, budget: int) -> None:
        """Keep ``data`` unless it would take over a quarter of ``budget`` (one huge
        plane must not push out every tile); 0 keeps nothing."""
        if len(data) * 4 > budget:
            return
        key = (repository, etag)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._entries[key] = data
            self._size += len(data)
            while self._size > budget:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    @property
    def size(self) -> int:
        return self._size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0


TILES = TileCache()
