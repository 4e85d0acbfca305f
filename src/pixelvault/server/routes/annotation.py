"""Annotations and attachments of projects, datasets and images; file downloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pixelvault.catalog import Actor
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId
from pixelvault.server.ranges import UnsatisfiableRangeError, parse_range
from pixelvault.server.streaming import pump
from pixelvault.services.objects import annotation, files

router = APIRouter(prefix="/api/v1", tags=["annotations"], route_class=JsonBodyRoute)
SPOOL = 1 << 20  # hand the disk 1 MiB at a time, not each network packet
# Attachments stream to disk, so their size is bounded by the space checks, not
# by memory; this only lifts the server's 4 MiB cap on request bodies.
MAX_ATTACHMENT = 1 << 40
PLURALS = {"projects": "project", "datasets": "dataset", "images": "image"}


class FileOut(BaseModel):
    id: int
    name: str
    size: int
    mimetype: str
    hasher: str
    hash: str


class AnnotationOut(BaseModel):
    id: int
    type: str
    text: str
    namespace: str
    owner_id: int
    group_id: int
    created_at: datetime
    values: list[tuple[str, str]]
    file: FileOut | None


class NewAnnotation(BaseModel):
    type: Annotated[str, Field(description="comment, tag or map")]
    text: Annotated[str, Field(max_length=annotation.MAX_TEXT)] = ""
    values: Annotated[list[tuple[str, str]], Field(max_length=annotation.MAX_ENTRIES)] = []
    namespace: Annotated[str, Field(max_length=255)] = ""


def _out(info: annotation.AnnotationInfo) -> AnnotationOut:
    return AnnotationOut(
        id=info.id, type=info.type, text=info.text, namespace=info.namespace,
        owner_id=info.owner_id, group_id=info.group_id, created_at=info.created_at,
        values=info.values, file=FileOut(**info.file.__dict__) if info.file else None)


def _routes(plural: str) -> None:
    kind = PLURALS[plural]

    @router.get(f"/{plural}/{{object_id}}/annotations", response_model=list[AnnotationOut],
                name=f"list_{kind}_annotations")
    def list_(object_id: PathId, actor: ActorDep, request: Request) -> list[AnnotationOut]:
        return [_out(a) for a in annotation.list_annotations(
            vault_of(request).catalog, actor, kind, object_id)]

    @router.post(f"/{plural}/{{object_id}}/annotations", response_model=AnnotationOut,
                 status_code=201, name=f"annotate_{kind}")
    def add(object_id: PathId, body: NewAnnotation, actor: ActorDep,
            request: Request) -> AnnotationOut:
        return _out(annotation.annotate(vault_of(request).catalog, actor, kind, object_id,
                                         type=body.type, text=body.text, values=body.values,
                                         namespace=body.namespace))

    @router.post(f"/{plural}/{{object_id}}/attachments", response_model=AnnotationOut,
                 status_code=201, name=f"attach_to_{kind}", max_body_size=MAX_ATTACHMENT)
    async def attach(object_id: PathId, request: Request, actor: ActorDep,
                     name: Annotated[str, Query(min_length=1, max_length=1024)]
                     ) -> AnnotationOut:
        """Send the file's bytes as the request body (streamed; any size)."""
        return await _receive(request, actor, kind, object_id, name)


async def _receive(request: Request, actor: Actor, kind: str, object_id: int,
                   name: str) -> AnnotationOut:
    vault = vault_of(request)
    declared = request.headers.get("content-type", "").split(";")[0].strip()
    mimetype = None if declared in ("", "application/octet-stream") else declared[:255]
    try:
        size = max(int(request.headers.get("content-length", "0")), 0)
    except ValueError:
        size = 0
    pending = await run_in_threadpool(
        annotation.begin_attachment, vault, actor, kind, object_id, name=name,
        mimetype=mimetype, expected_size=size)
    try:
        await pump(request, pending.write, SPOOL)
    except BaseException:
        pending.abort()
        raise
    info = await run_in_threadpool(annotation.finish_attachment, pending, actor, kind,
                                   object_id)
    return _out(info)


for _plural in PLURALS:
    _routes(_plural)


@router.get("/annotations/{annotation_id}", response_model=AnnotationOut)
def get(annotation_id: PathId, actor: ActorDep, request: Request) -> AnnotationOut:
    return _out(annotation.get_annotation(vault_of(request).catalog, actor, annotation_id))


class NewValues(BaseModel):
    values: Annotated[list[tuple[str, str]],
                      Field(min_length=1, max_length=annotation.MAX_ENTRIES)]


@router.put("/annotations/{annotation_id}/values", response_model=AnnotationOut)
def replace_values(annotation_id: PathId, body: NewValues, actor: ActorDep,
                   request: Request) -> AnnotationOut:
    """A key-value map's pairs, all replaced in their order (a table edited in place);
    who may edit the annotation only (its owner, and as the group's level allows)."""
    return _out(annotation.replace_values(vault_of(request).catalog, actor, annotation_id,
                                          body.values))


@router.delete("/annotations/{annotation_id}", status_code=204)
def remove(annotation_id: PathId, actor: ActorDep, request: Request) -> None:
    annotation.remove_annotation(vault_of(request), actor, annotation_id)


@router.get("/files/{file_id}", tags=["files"], response_class=StreamingResponse)
def download(file_id: PathId, actor: ActorDep, request: Request) -> Response:
    """The bytes of a file you may read; honours `Range: bytes=START-END`."""
    vault = vault_of(request)
    row = files.get_file(vault, actor, file_id)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{row.hasher}:{row.hash}"',
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.name, safe='')}",
        "X-Content-Type-Options": "nosniff",
    }
    try:
        wanted = parse_range(request.headers.get("range"), row.size)
    except UnsatisfiableRangeError:
        return Response(status_code=416, headers={**headers,
                                                  "Content-Range": f"bytes */{row.size}"})
    start, end = wanted or (0, row.size)
    chunks = files.original_bytes(vault, row, start, end)
    headers["Content-Length"] = str(end - start)
    media_type = _served_type(row.mimetype)
    if wanted is None:
        return StreamingResponse(chunks, media_type=media_type, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{row.size}"
    return StreamingResponse(chunks, status_code=206, media_type=media_type, headers=headers)


def _served_type(declared: str) -> str:
    """The uploader's type, but never one a browser would run as script: with nosniff, a
    user's file can then never be loaded as a script by a page of this server's origin."""
    lowered = declared.lower()
    if "javascript" in lowered or "ecmascript" in lowered or "jscript" in lowered:
        return "application/octet-stream"
    return declared
