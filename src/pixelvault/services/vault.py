"""A configured repository and its catalog, opened together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pixelvault.catalog import Actor, Catalog, migrate
from pixelvault.catalog import identity as catalog_identity
from pixelvault.catalog.engine import check_connection
from pixelvault.catalog.principals import ROOT_USER, actor_for
from pixelvault.config import Settings
from pixelvault.errors import RepositoryError
from pixelvault.formats.decoding import budget
from pixelvault.repository import FilesStore, Layout, LockMode, RepositoryLock, WriteGuard
from pixelvault.repository.managed import ManagedStore
from pixelvault.repository.memo import MemoStore
from pixelvault.repository.pixels import PixelsStore
from pixelvault.repository.thumbnails import ThumbnailStore
from pixelvault.services.access import passwords
from pixelvault.services.handles import HandleCache
from pixelvault.services.operations.move_journal import recover_interrupted_move


def open_catalog(settings: Settings, *, create_empty: bool = False) -> Catalog:
    """Connect, and bring the embedded default's schema up to date by itself.

    A configured database (PostgreSQL in production) is only upgraded by
    `pixelvault admin db upgrade`, so an upgrade never surprises its DBA; an
    empty one gets its schema from `admin init` (``create_empty``).
    """
    catalog = Catalog(settings.db_url)
    try:
        check_connection(catalog.engine)
        empty = migrate.current_revision(catalog.engine) is None
        if settings.db_is_embedded_default or (create_empty and empty):
            migrate.upgrade(catalog.engine)
        else:
            migrate.require_current(catalog.engine)
    except BaseException:
        catalog.dispose()
        raise
    return catalog


@dataclass
class Vault:
    settings: Settings
    catalog: Catalog
    uuid: str

    @property
    def layout(self) -> Layout:
        return Layout(self.settings.data_dir)

    @cached_property
    def guard(self) -> WriteGuard:
        return WriteGuard(self.layout, self.uuid, self.settings.space_warn,
                          self.settings.space_critical)

    @cached_property
    def files(self) -> FilesStore:
        return FilesStore(self.guard)

    @cached_property
    def managed(self) -> ManagedStore:
        return ManagedStore(self.guard)

    @cached_property
    def memos(self) -> MemoStore:
        return MemoStore(self.layout)

    @cached_property
    def pixels(self) -> PixelsStore:
        return PixelsStore(self.guard)

    @cached_property
    def thumbnails(self) -> ThumbnailStore:
        return ThumbnailStore(self.guard)

    @cached_property
    def handles(self) -> HandleCache:
        """Open readers and pixel stores of this repository (see services.handles)."""
        return HandleCache(self.settings.open_files)

    def local_admin(self) -> Actor:
        """The actor of commands run directly on the repository's machine.

        Whoever can read the data dir and catalog on disk already has every file,
        so local commands act as OMERO's root administrator.
        """
        with self.catalog.session() as session:
            actor = actor_for(session, ROOT_USER)
        if actor is None:
            raise RepositoryError("the catalog has no root user; run `pixelvault admin init`")
        return actor

    def lock(self, mode: LockMode, purpose: str) -> RepositoryLock:
        """The repository lock, after checking that the data dir is ours.

        Opening the lock file of a vanished share would otherwise be the first
        (and a confusing) error.
        """
        self.guard.check_identity()
        return RepositoryLock(self.layout.lock_file(self.uuid), mode, purpose)

    def close(self) -> None:
        if "handles" in self.__dict__:
            self.handles.clear()
        self.catalog.dispose()


def open_vault(settings: Settings) -> Vault:
    """Open the catalog and learn its repository uuid; does not touch the data dir."""
    settings = recover_interrupted_move(settings)
    catalog = open_catalog(settings)
    with catalog.session() as session:
        uuid = catalog_identity.repository_uuid(session)
    if uuid is None:
        catalog.dispose()
        raise RepositoryError(
            f"no repository has been created for the catalog at "
            f"{catalog.engine.url.render_as_string(hide_password=True)}; "
            "run `pixelvault admin init`"
        )
    passwords.use_profile(settings.password_profile)
    budget.use_limits(settings.import_limits)
    return Vault(settings, catalog, uuid)
