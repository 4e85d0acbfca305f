"""Pixels over HTTP for analysis: raw regions at any level (npy or raw bytes), images
created from arrays plane by plane, exports, and the pyramid jobs."""

from __future__ import annotations

import io
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from pixelvault.errors import InvalidInputError
from pixelvault.formats import PIXEL_TYPES
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.heavy import run_heavy
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import BodyId, PathId
from pixelvault.services.objects import containers
from pixelvault.services.pixels import access, create, export, pyramids

router = APIRouter(prefix="/api/v1", tags=["pixels"], route_class=JsonBodyRoute)
Coordinate = Annotated[int, Query(ge=0, le=1 << 30)]
Extent = Annotated[int | None, Query(ge=0, le=1 << 30)]


class PixelFormat(StrEnum):
    npy = "npy"
    raw = "raw"


class ByteOrder(StrEnum):
    little = "little"
    big = "big"


def _region(buffer: Any, level: int, x: int, y: int, w: int | None,
            h: int | None) -> tuple[int, int]:
    size_x, size_y = buffer.level_size(level)
    return (size_x - x if w is None else w), (size_y - y if h is None else h)


@router.get("/images/{image_id}/pixels/info")
def info(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Sizes, type, resolution levels (built or being built) and the pyramid's job."""
    vault = vault_of(request)
    buffer = access.open_buffer(vault, actor, image_id)
    job = pyramids.job_for_image(vault, actor, image_id)
    return {"image": image_id, "size_x": buffer.size_x, "size_y": buffer.size_y,
            "size_z": buffer.size_z, "size_c": buffer.size_c, "size_t": buffer.size_t,
            "pixel_type": buffer.pixel_type, "byte_width": buffer.byte_width,
            "signed": buffer.signed, "tile_size": list(buffer.tile_size),
            "levels": [list(level) for level in buffer.levels],
            "levels_ready": len(buffer.backend.levels),
            "pyramid": None if job is None else _job(job)}


@router.get("/images/{image_id}/pixels")
def read(image_id: PathId, actor: ActorDep, request: Request,
         z: Coordinate = 0, c: Coordinate = 0, t: Coordinate = 0,
         x: Coordinate = 0, y: Coordinate = 0, w: Extent = None, h: Extent = None,
         level: Annotated[int, Query(ge=0, le=64)] = 0,
         format: PixelFormat = PixelFormat.npy,
         order: ByteOrder = ByteOrder.little) -> Response:
    """A region of one plane (level 0 is full resolution). ``npy``: a NumPy file;
    ``raw``: the bytes, with their type and shape in the X-Pixels-* headers."""
    buffer = access.open_buffer(vault_of(request), actor, image_id)
    width, height = _region(buffer, level, x, y, w, h)
    region = buffer.get_region(z, c, t, x, y, width, height, level, order.value)
    headers = {"X-Pixels-Type": buffer.pixel_type, "X-Pixels-Dtype": region.dtype.str,
               "X-Pixels-Shape": f"{height},{width}", "Cache-Control": "private, max-age=0"}
    if format is PixelFormat.raw:
        return Response(region.tobytes(), media_type="application/octet-stream",
                        headers=headers)
    out = io.BytesIO()
    np.save(out, region, allow_pickle=False)
    return Response(out.getvalue(), media_type="application/octet-stream", headers={
        **headers, "Content-Disposition": f'attachment; filename="image-{image_id}.npy"'})


class NewImageBody(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=1024)]
    description: Annotated[str, Field(max_length=100_000)] = ""
    size_x: Annotated[int, Field(ge=1, le=create.MAX_SIDE)]
    size_y: Annotated[int, Field(ge=1, le=create.MAX_SIDE)]
    size_z: Annotated[int, Field(ge=1, le=create.MAX_PLANES)] = 1
    size_c: Annotated[int, Field(ge=1, le=10_000)] = 1
    size_t: Annotated[int, Field(ge=1, le=create.MAX_PLANES)] = 1
    pixel_type: Annotated[str, Field(max_length=16)] = "uint16"
    channel_names: Annotated[list[Annotated[str, Field(max_length=255)]],
                             Field(max_length=10_000)] = []
    physical_size_x: Annotated[float | None, Field(gt=0)] = None
    physical_size_y: Annotated[float | None, Field(gt=0)] = None
    physical_size_z: Annotated[float | None, Field(gt=0)] = None
    time_increment: Annotated[float | None, Field(gt=0)] = None
    dataset: BodyId | None = None


@router.post("/images", status_code=201)
def create_image(body: NewImageBody, actor: ActorDep, request: Request) -> dict[str, Any]:
    """An empty image (zeros) to write with PUT .../pixels, then POST .../pixels/finish."""
    vault = vault_of(request)
    new = create.NewImage(
        name=body.name, description=body.description, size_x=body.size_x,
        size_y=body.size_y, size_z=body.size_z, size_c=body.size_c, size_t=body.size_t,
        pixel_type=body.pixel_type, channel_names=tuple(body.channel_names),
        physical_size_x=body.physical_size_x, physical_size_y=body.physical_size_y,
        physical_size_z=body.physical_size_z, time_increment=body.time_increment)
    image_id = create.create(vault, actor, new, body.dataset)
    row = containers.get(vault.catalog, actor, "image", image_id)
    return {"id": image_id, "name": row.name, "owner_id": row.owner_id,
            "group_id": row.group_id}


@router.put("/images/{image_id}/pixels", max_body_size=1 << 40)
async def write(image_id: PathId, actor: ActorDep, request: Request,
                z: Coordinate = 0, c: Coordinate = 0, t: Coordinate = 0,
                x: Coordinate = 0, y: Coordinate = 0, w: Extent = None, h: Extent = None,
                order: ByteOrder = ByteOrder.little) -> dict[str, Any]:
    """Write a region of one plane from the request body: its raw pixels, row by row,
    ``w`` x ``h`` (the rest of the plane from x, y when left out)."""
    vault = vault_of(request)
    buffer, _ = await run_in_threadpool(create.writable, vault, actor, image_id)
    width, height = _region(buffer, 0, x, y, w, h)
    buffer.check(0, z, c, t, x, y, width, height)
    expected = width * height * buffer.byte_width
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > expected:
            break
    if len(body) != expected:
        raise InvalidInputError(f"{width}x{height} {buffer.pixel_type} pixels are {expected} "
                                f"bytes; the body has {len(body)}" +
                                ("+" if len(body) > expected else ""))
    dtype = PIXEL_TYPES[buffer.pixel_type].newbyteorder("<" if order is ByteOrder.little
                                                        else ">")
    data = np.frombuffer(bytes(body), dtype=dtype).reshape(height, width)
    await run_in_threadpool(create.write, vault, actor, image_id, z, c, t, x, y, data)
    return {"image": image_id, "z": z, "c": c, "t": t, "x": x, "y": y, "w": width,
            "h": height}


@router.post("/images/{image_id}/pixels/finish")
async def finish(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Done writing: channel statistics now, or a pyramid queued for a large image
    (on the heavy-work pool, as an import's finish)."""
    vault = vault_of(request)
    return await run_heavy(request, lambda: create.finish(vault, actor, image_id))


class ExportFormat(StrEnum):
    ome_tiff = "ome-tiff"
    ome_zarr = "ome-zarr"


@router.get("/images/{image_id}/export")
def export_image(image_id: PathId, actor: ActorDep, request: Request,
                 format: ExportFormat = ExportFormat.ome_tiff) -> Response:
    """The image as a pyramidal OME-TIFF, or as OME-Zarr 0.5 in a zip archive (what
    zarr's ZipStore and `pixelvault export` open)."""
    vault = vault_of(request)
    work = Path(tempfile.mkdtemp(prefix="pixelvault-export-",
                                 dir=vault.settings.state_dir if vault.settings.state_dir.is_dir()
                                 else None))
    cleanup = BackgroundTask(shutil.rmtree, work, ignore_errors=True)
    try:
        if format is ExportFormat.ome_tiff:
            path = export.export(vault, actor, image_id, "ome-tiff",
                                 work / f"image-{image_id}.ome.tif")
            return FileResponse(path, media_type="image/tiff", filename=path.name,
                                background=cleanup)
        folder = export.export(vault, actor, image_id, "ome-zarr",
                               work / f"image-{image_id}.ome.zarr")
        archive = shutil.make_archive(str(work / f"image-{image_id}.ome.zarr"), "zip",
                                      root_dir=folder)
        return FileResponse(archive, media_type="application/zip",
                            filename=f"image-{image_id}.ome.zarr.zip", background=cleanup)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


@router.get("/plates/{plate_id}/export")
def export_plate(plate_id: PathId, actor: ActorDep, request: Request) -> Response:
    """The plate as an OME-Zarr 0.5 plate in a zip archive (what zarr's ZipStore and
    `pixelvault export Plate:ID` open)."""
    vault = vault_of(request)
    work = Path(tempfile.mkdtemp(prefix="pixelvault-export-",
                                 dir=vault.settings.state_dir if vault.settings.state_dir.is_dir()
                                 else None))
    cleanup = BackgroundTask(shutil.rmtree, work, ignore_errors=True)
    try:
        folder = export.export_plate(vault, actor, plate_id, work / f"plate-{plate_id}.ome.zarr")
        archive = shutil.make_archive(str(folder), "zip", root_dir=folder)
        return FileResponse(archive, media_type="application/zip",
                            filename=f"plate-{plate_id}.ome.zarr.zip", background=cleanup)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _job(job: pyramids.JobInfo) -> dict[str, Any]:
    return {"id": job.id, "kind": "pyramid", "image": job.image_id, "name": job.image_name,
            "state": job.state, "progress": round(job.progress, 4), "reason": job.reason,
            "attempts": job.attempts, "worker": job.worker,
            "created_at": job.created_at.isoformat() if job.created_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


@router.get("/jobs")
def jobs(actor: ActorDep, request: Request,
         state: Annotated[list[str] | None, Query(max_length=4)] = None) -> list[dict[str, Any]]:
    """Pyramid jobs of the images you may read (administrators: all)."""
    return [_job(j) for j in pyramids.list_jobs(vault_of(request), actor, state)]


@router.post("/jobs/{job_id}/retry", status_code=202)
def retry(job_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Queue a failed (or finished) pyramid job again; administrators only."""
    pyramids.retry(vault_of(request), actor, job_id)
    return {"id": job_id, "state": "pending"}


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Stop a pending or running pyramid job (the image's owner, or an administrator);
    a running build stops within a second and removes what it wrote."""
    was = pyramids.cancel(vault_of(request), actor, job_id)
    return {"id": job_id, "state": "cancelled", "was": was}
