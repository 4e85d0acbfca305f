"""The binary repository on disk: layout, identity, locks, safety checks and stores.

Knows nothing of SQL or HTTP: callers pass in the uuid and thresholds they read
from the catalog and the settings.
"""

from pixelvault.repository.files import FilesStore, StoredFile
from pixelvault.repository.guard import WriteGuard
from pixelvault.repository.layout import STORES, Layout, Store, id_to_relpath
from pixelvault.repository.locking import LockMode, RepositoryLock

__all__ = [
    "STORES",
    "FilesStore",
    "Layout",
    "LockMode",
    "RepositoryLock",
    "Store",
    "StoredFile",
    "WriteGuard",
    "id_to_relpath",
]
