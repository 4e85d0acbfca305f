"""Imports over HTTP: announce a fileset, send each file's bytes (resumable), finish."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.params import PathId
from pixelvault.server.streaming import pump
from pixelvault.services import imports
from pixelvault.services.imports import upload

router = APIRouter(prefix="/api/v1", tags=["imports"])
MAX_FILE = 1 << 44  # 16 TiB: bounded by the space checks, not by memory
SPOOL = 4 << 20


class AnnouncedFile(BaseModel):
    client_path: Annotated[str, Field(min_length=1, max_length=upload.MAX_PATH)]
    size: Annotated[int, Field(ge=0, le=MAX_FILE)]
    checksum: Annotated[str, Field(min_length=1, max_length=128)]


class NewImport(BaseModel):
    files: Annotated[list[AnnouncedFile], Field(min_length=1, max_length=upload.MAX_FILES)]
    checksum_algorithm: str = "SHA1-160"
    dataset: Annotated[str | None, Field(max_length=1024,
                                         description="Dataset id, or a name (created)")] = None
    name: Annotated[str | None, Field(max_length=1024)] = None
    description: Annotated[str | None, Field(max_length=100_000)] = None
    minmax: bool = True
    entry_depth: Annotated[int, Field(ge=0, le=64, description=(
        "What the reader opens: the first file (0) or the directory that many levels "
        "above it (an OME-Zarr image)"))] = 0


@router.post("/imports", status_code=201)
def start(body: NewImport, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Announce a fileset's files (path, size, checksum); then PUT each, then finish."""
    vault = vault_of(request)
    options = imports.ImportOptions(
        algorithm=body.checksum_algorithm, minmax=body.minmax,
        dataset_id=imports.resolve_dataset(vault.catalog, actor, body.dataset),
        name=body.name, description=body.description)
    fileset_id, _, _ = upload.start(vault, actor, [
        upload.Announced(f.client_path, f.size, f.checksum) for f in body.files], options,
        body.entry_depth)
    return upload.status(vault, actor, fileset_id)


@router.get("/imports")
def list_(actor: ActorDep, request: Request) -> list[dict[str, Any]]:
    """Imports under way (yours; administrators: everyone's), with bytes received."""
    return upload.list_uploads(vault_of(request), actor)


@router.get("/imports/{fileset_id}")
def status(fileset_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """How many bytes of each file the server holds: where to resume."""
    return upload.status(vault_of(request), actor, fileset_id)


@router.put("/imports/{fileset_id}/files/{index}", max_body_size=MAX_FILE)
async def send(fileset_id: PathId, index: PathId, request: Request, actor: ActorDep,
               offset: Annotated[int, Query(ge=0, le=MAX_FILE)] = 0) -> dict[str, Any]:
    """The file's bytes from ``offset`` on, as the request body (streamed)."""
    writer = await run_in_threadpool(upload.PartWriter, vault_of(request), actor, fileset_id,
                                     index, offset)
    try:
        await pump(request, writer.write, SPOOL)
    except BaseException:
        await run_in_threadpool(writer.abort)
        raise
    total = await run_in_threadpool(writer.commit)
    return {"index": index, "received": total}


@router.post("/imports/{fileset_id}/finish")
def finish(fileset_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Check every file's size and checksum, then read them and record the images."""
    return imports.describe(upload.finish(vault_of(request), actor, fileset_id))


@router.delete("/imports/{fileset_id}", status_code=204)
def abort(fileset_id: PathId, actor: ActorDep, request: Request) -> None:
    """Give up an upload: its bytes and rows go."""
    upload.abort(vault_of(request), actor, fileset_id)

