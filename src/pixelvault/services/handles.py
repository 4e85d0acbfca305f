"""Open files kept per repository: opening costs two to three times a tile read here.

A bounded LRU of open readers and stores, keyed by what would change if the
file did (path, size and modification time, or the pixels' version); entries
pushed out, dropped or left when the repository closes are closed.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class HandleCache:
    """A bounded LRU of open backends; evicted ones are closed."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        made = make()
        evicted: list[Any] = []
        with self._lock:
            if key in self._items:  # another thread opened it meanwhile
                evicted.append(made)
                made = self._items[key]
            else:
                self._items[key] = made
            while len(self._items) > self.size:
                evicted.append(self._items.popitem(last=False)[1])
        for item in evicted:
            _close(item)
        return made

    def drop(self, match: Callable[[tuple[Any, ...]], bool]) -> None:
        with self._lock:
            gone = [k for k in self._items if match(k)]
            items = [self._items.pop(k) for k in gone]
        for item in items:
            _close(item)

    def clear(self) -> None:
        self.drop(lambda _key: True)


def _close(item: Any) -> None:
    try:
        item.close()
    except Exception as exc:  # closing a damaged file must not fail whoever evicts it
        log.info("closing %r: %s", item, exc)
