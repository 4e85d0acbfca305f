"""Creating a repository, which only `admin init` (and `make run` on defaults) does."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pixelvault.catalog import identity as catalog_identity
from pixelvault.catalog.principals import ensure_builtin_principals
from pixelvault.config import Settings
from pixelvault.errors import RepositoryError, RepositoryIdentityError
from pixelvault.repository import STORES, Layout, LockMode, RepositoryLock
from pixelvault.repository import identity as disk_identity
from pixelvault.repository.atomic import translate_os_error
from pixelvault.services.vault import open_catalog

# Entries a freshly made filesystem carries; a data dir holding only these is empty.
_FRESH_FS_ENTRIES = {"lost+found"}


@dataclass(frozen=True)
class InitResult:
    uuid: str
    data_dir: Path
    created: bool
    repaired: list[str]


def _create_stores(layout: Layout) -> list[str]:
    made = []
    for store in STORES:
        path = layout.store(store)
        if not path.is_dir():
            try:
                path.mkdir()
            except OSError as exc:
                raise translate_os_error(exc, str(path)) from None
            made.append(store.value)
    return made


def init_repository(settings: Settings, *, allow_nonempty: bool = False) -> InitResult:
    """Create the six stores and the identity marker, and record the uuid.

    On an existing repository of this catalog it only recreates missing stores,
    under the exclusive lock, so it refuses while a server runs.
    """
    layout = Layout(settings.data_dir)
    catalog = open_catalog(settings, create_empty=True)
    try:
        with catalog.session() as session:
            known = catalog_identity.repository_uuid(session)
            ensure_builtin_principals(session)
        if known is not None:
            if disk_identity.read_marker(layout, known) != known:
                others = disk_identity.markers_present(layout)
                where = f"it holds repository {', '.join(others)}" if others else "no marker"
                raise RepositoryIdentityError(
                    f"this catalog already belongs to repository {known}, which is not at "
                    f"{layout.root} ({where}); if you moved it, point data.dir at it "
                    "(`pixelvault config set data.dir PATH`), or use a new catalog (db.url)"
                )
            with RepositoryLock(layout.lock_file(known), LockMode.EXCLUSIVE, "admin init"):
                repaired = _create_stores(layout)
            return InitResult(known, layout.root, created=False, repaired=repaired)

        foreign = disk_identity.markers_present(layout)
        if foreign:
            raise RepositoryIdentityError(
                f"{layout.root} already holds repository {', '.join(foreign)} of another "
                "catalog; point db.url at that catalog, or choose another data.dir"
            )
        if layout.root.exists():
            if not layout.root.is_dir():
                raise RepositoryError(f"{layout.root} exists and is not a directory")
            leftovers = set(os.listdir(layout.root)) - _FRESH_FS_ENTRIES
            if leftovers and not allow_nonempty:
                shown = ", ".join(sorted(leftovers)[:5])
                raise RepositoryError(
                    f"{layout.root} is not empty ({shown}); choose an empty directory, "
                    "or pass --allow-nonempty if it really is meant to hold the repository"
                )
        try:
            layout.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise translate_os_error(exc, str(layout.root)) from None
        uuid = disk_identity.new_uuid()
        _create_stores(layout)
        disk_identity.write_marker(layout, uuid)
        with catalog.session() as session:
            catalog_identity.record_repository(session, uuid)
        return InitResult(uuid, layout.root, created=True, repaired=[])
    finally:
        catalog.dispose()


def needs_first_init(settings: Settings) -> bool:
    """True on the embedded defaults while the default data dir does not exist yet.

    If the catalog already knows a repository, init then refuses (the data dir
    vanished), rather than silently starting an empty one.
    """
    return (
        settings.db_is_embedded_default
        and settings.data_dir_is_default
        and not settings.data_dir.exists()
    )
