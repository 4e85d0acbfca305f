"""Where things live inside a data dir: the six stores and OMERO's id -> path scheme."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pixelvault.errors import InvalidInputError


class Store(StrEnum):
    """The six stores of an OMERO repository, named as OMERO names them."""

    PIXELS = "Pixels"
    FILES = "Files"
    THUMBNAILS = "Thumbnails"
    FULLTEXT = "FullText"
    MANAGED = "ManagedRepository"
    BIOFORMATS_CACHE = "BioFormatsCache"


STORES: tuple[Store, ...] = tuple(Store)
IDENTITY_DIR = Path(".omero") / "repository"
MARKER_NAME = "repo_uuid"


def id_to_relpath(object_id: int) -> Path:
    """OMERO's id -> path rule, with integer division (omero-py's float port is wrong).

    Every full thousand adds one ``Dir-NNN`` level, so no directory holds more than
    a thousand entries: 123456 -> ``Dir-123/123456``, 1234567 ->
    ``Dir-001/Dir-234/1234567``.
    """
    if isinstance(object_id, bool) or not isinstance(object_id, int) or object_id < 0:
        raise InvalidInputError(f"{object_id!r} is not a valid object id (a whole number >= 0)")
    parts: list[str] = []
    remaining = object_id
    while remaining > 999:
        remaining //= 1000
        if remaining > 0:
            parts.insert(0, f"Dir-{remaining % 1000:03d}")
    return Path(*parts, str(object_id))


@dataclass(frozen=True)
class Layout:
    """Paths of one repository rooted at ``root`` (the configured data dir)."""

    root: Path

    def store(self, store: Store) -> Path:
        return self.root / store.value

    def object_path(self, store: Store, object_id: int) -> Path:
        return self.store(store) / id_to_relpath(object_id)

    @property
    def identity_root(self) -> Path:
        return self.root / IDENTITY_DIR

    def identity_dir(self, uuid: str) -> Path:
        return self.identity_root / uuid

    def marker(self, uuid: str) -> Path:
        return self.identity_dir(uuid) / MARKER_NAME

    def lock_file(self, uuid: str) -> Path:
        return self.identity_dir(uuid) / ".lock"

    def relative(self, path: Path) -> Path:
        """A path inside the repository as the catalog stores it (relative to root)."""
        return path.relative_to(self.root)
