"""Imports over HTTP: announce a fileset, send each file's bytes (resumable), finish."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pixelvault.errors import InvalidInputError
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.heavy import run_heavy
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId
from pixelvault.server.streaming import pump
from pixelvault.services import imports
from pixelvault.services.imports import inplace, upload

router = APIRouter(prefix="/api/v1", tags=["imports"], route_class=JsonBodyRoute)
MAX_FILE = 1 << 44  # 16 TiB: bounded by the space checks, not by memory
SPOOL = 4 << 20


class AnnouncedFile(BaseModel):
    client_path: Annotated[str, Field(min_length=1, max_length=upload.MAX_PATH)]
    size: Annotated[int, Field(ge=0, le=MAX_FILE)]
    checksum: Annotated[str, Field(max_length=128, description=(
        "The file's checksum; empty to give it with the finish (hashing while sending)"))]


class NewImport(BaseModel):
    files: Annotated[list[AnnouncedFile], Field(min_length=1, max_length=upload.MAX_FILES)]
    checksum_algorithm: str = "SHA1-160"
    dataset: Annotated[str | None, Field(max_length=1024,
                                         description="Dataset id, or a name (created)")] = None
    name: Annotated[str | None, Field(max_length=1024)] = None
    description: Annotated[str | None, Field(max_length=100_000)] = None
    minmax: bool = True
    thumbnails: bool = True
    entry_depth: Annotated[int, Field(ge=0, le=64, description=(
        "What the reader opens: the first file (0) or the directory that many levels "
        "above it (an OME-Zarr image)"))] = 0
    transfer: Annotated[str, Field(max_length=16, description=(
        "upload (the bytes come in PUTs), or in place for administrators whose files the "
        "server sees: cp, cp_rm, ln, ln_rm, ln_s (client_path is then the file's absolute "
        "path on the server)"))] = "upload"


class Finish(BaseModel):
    token: Annotated[str | None, Field(max_length=128, description=(
        "In-place imports: the contents of the token file the server wrote"))] = None
    checksums: Annotated[list[Annotated[str, Field(max_length=128)]] | None, Field(
        max_length=upload.MAX_FILES, description=(
            "Uploads: each file's checksum, in the order announced, for files announced "
            "without one"))] = None


@router.post("/imports", status_code=201)
def start(body: NewImport, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Announce a fileset's files (path, size, checksum); then PUT each, then finish.

    In place (``transfer`` other than upload): no PUTs; read the token file named by
    ``token_path`` and finish with its contents."""
    vault = vault_of(request)
    announced = [upload.Announced(f.client_path, f.size, f.checksum) for f in body.files]
    if body.transfer != "upload":
        inplace.check_allowed(actor, body.transfer)
    options = imports.ImportOptions(
        algorithm=body.checksum_algorithm, minmax=body.minmax, transfer=body.transfer,
        thumbnails=body.thumbnails,
        dataset_id=imports.resolve_dataset(vault.catalog, actor, body.dataset),
        name=body.name, description=body.description)
    if body.transfer != "upload":
        fileset_id, token = inplace.start(vault, actor, announced, options, body.entry_depth)
        return {"id": fileset_id, "state": "in-place", "transfer": body.transfer,
                "token_path": str(token)}
    fileset_id, _, _ = upload.start(vault, actor, announced, options, body.entry_depth)
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
async def finish(fileset_id: PathId, actor: ActorDep, request: Request,
                 body: Finish | None = None) -> dict[str, Any]:
    """Check every file's size and checksum, then read them and record the images
    (on the heavy-work pool: a burst of finishes never starves other requests)."""
    vault = vault_of(request)

    def work() -> dict[str, Any]:
        if inplace.is_in_place(vault, actor, fileset_id):
            if body is None or body.token is None:
                raise InvalidInputError("an in-place import finishes with the token the "
                                        "server wrote: {\"token\": \"...\"}")
            return imports.describe(inplace.finish(vault, actor, fileset_id, body.token))
        return imports.describe(upload.finish(vault, actor, fileset_id,
                                              body.checksums if body is not None else None))

    return await run_heavy(request, work)


@router.delete("/imports/{fileset_id}", status_code=204)
def abort(fileset_id: PathId, actor: ActorDep, request: Request) -> None:
    """Give up an import: its bytes and rows go."""
    vault = vault_of(request)
    if inplace.is_in_place(vault, actor, fileset_id):
        inplace.abort(vault, actor, fileset_id)
    else:
        upload.abort(vault, actor, fileset_id)

