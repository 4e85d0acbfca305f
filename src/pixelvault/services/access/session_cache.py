"""A few seconds' memory of checked sessions, so a request does not pay three queries.

Every API call checks its session token and loads the caller's groups and
rights. Under load most calls come from the same few sessions, so the answer
is kept for ``TTL`` seconds. Whatever any server process changes about sessions,
users, groups or memberships empties it at once (logout is immediate; see
coherence); a change made by a command-line tool on the catalog directly shows
within ``TTL``.
The deadlines of the session itself are checked on every hit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from pixelvault.catalog import Actor
from pixelvault.services import coherence

TTL = 2.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class CachedSession:
    actor: Actor
    session_id: int
    expires_at: datetime  # absolute deadline
    idle_deadline: datetime  # last use in the catalog + idle timeout
    checked_at: float  # time.monotonic() of the catalog check
    generation: int = -1  # coherence.generation() before that check


class SessionCache:
    def __init__(self, ttl: float = TTL, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], CachedSession] = {}
        self._lock = threading.Lock()

    def get(self, catalog_key: str, token_hash: str, now: datetime) -> CachedSession | None:
        key = (catalog_key, token_hash)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry.checked_at > self.ttl or now >= entry.expires_at \
                    or now >= entry.idle_deadline or entry.generation != coherence.generation():
                del self._entries[key]
                return None
            return entry

    def put(self, catalog_key: str, token_hash: str, entry: CachedSession) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # rare: a burst of distinct sessions; start afresh
            self._entries[(catalog_key, token_hash)] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


SESSIONS = SessionCache()
