"""The FastAPI application; the caller (`pixelvault serve`) owns the vault and the lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pixelvault import __version__
from pixelvault.repository import RepositoryLock
from pixelvault.server import errors
from pixelvault.server.cors import Cors
from pixelvault.server.headers import SecurityHeaders
from pixelvault.server.heavy import make_pool
from pixelvault.server.monitor import RepositoryMonitor
from pixelvault.server.params import MAX_BODY
from pixelvault.server.routes import (
    annotation,
    containers,
    filesets,
    graph,
    health,
    images,
    imports,
    pixels,
    principals,
    rendering,
    rois,
    search,
    sessions,
    webapp,
    zarr,
)
from pixelvault.server.routes.omero import api as omero_api
from pixelvault.server.routes.omero import (
    figure,
    iviewer,
    pixel_buffer,
    rdefs,
    webclient,
    webclient_pages,
    webclient_writes,
    webgateway,
)
from pixelvault.server.routes.omero import plates as omero_plates
from pixelvault.server.routes.omero import principals as omero_principals
from pixelvault.server.routes.omero import rois as omero_rois
from pixelvault.services import coherence
from pixelvault.services.access.auth import LoginLimiter
from pixelvault.services.vault import Vault

HOT_ROUTERS = (webgateway.router, zarr.router, pixel_buffer.router, pixels.router)


def create_app(vault: Vault, lock: RepositoryLock, *, pyramid_workers: int | None = None,
               process: int | None = None) -> FastAPI:
    """The server's application; ``process``: its number among several server processes
    (each answer says it in ``X-Pixelvault-Process``)."""
    from pixelvault.services.jobs.worker import background
    from pixelvault.services.search.index import Indexer

    monitor = RepositoryMonitor(vault, lock, process)
    workers = background(vault, vault.settings.pyramid_workers if pyramid_workers is None
                         else pyramid_workers)
    indexer = Indexer(vault) if vault.settings.search_indexer else None
    heavy_pool = make_pool(vault.settings.import_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        listening = coherence.start(vault)
        monitor.start()
        workers.start()
        if indexer is not None:
            indexer.start()
        try:
            yield
        finally:
            if indexer is not None:
                indexer.stop()
            workers.stop()
            monitor.stop()
            heavy_pool.shutdown(wait=True, cancel_futures=True)
            for source in listening:
                coherence.uninstall(source)

    app = FastAPI(title="pixelvault", version=__version__, lifespan=lifespan,
                  max_body_size=MAX_BODY)
    app.state.vault = vault
    app.state.monitor = monitor
    app.state.limiter = LoginLimiter(catalog=vault.catalog)
    app.state.heavy_pool = heavy_pool
    if vault.settings.cors_origins:
        app.add_middleware(Cors, origins=vault.settings.cors_origins)
    app.add_middleware(SecurityHeaders, process=process)  # outermost: preflights carry it
    errors.install(app)
    # Routes are tried in order, each a regular expression: the viewers' hot paths
    # (tiles, thumbnails, Zarr chunks, raw pixels) come first, sparing every tile the
    # scan of some 200 others. tests/server/test_routes.py checks that no path of theirs
    # is also a path of another router, so the order changes no answer.
    for router in HOT_ROUTERS:
        app.include_router(router)
    app.include_router(health.router)
    app.include_router(sessions.router)
    app.include_router(webclient.router)
    app.include_router(webclient_pages.router)
    app.include_router(webclient_writes.router)
    app.include_router(principals.router)
    app.include_router(containers.router)
    app.include_router(annotation.router)
    app.include_router(graph.router)
    app.include_router(filesets.router)
    app.include_router(imports.router)
    app.include_router(images.router)
    app.include_router(rdefs.router)
    app.include_router(iviewer.router)
    app.include_router(omero_rois.router)
    app.include_router(omero_plates.router)
    app.include_router(figure.router)
    app.include_router(rendering.router)
    app.include_router(search.router)
    app.include_router(rois.router)
    app.include_router(omero_api.router)
    app.include_router(omero_principals.router)
    app.include_router(webapp.router)
    return app
