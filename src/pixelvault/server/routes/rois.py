"""ROIs in pixelvault's own API: pages of an image's ROIs filtered by plane and by a box
(a viewer's viewport), one ROI, removal, and GeoJSON in and out (streamed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from pixelvault.errors import InvalidInputError
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import MAX_ID, Offset, PathId
from pixelvault.server.streaming import pump
from pixelvault.services.objects import roi_files, rois
from pixelvault.services.rendering.images import INFO

router = APIRouter(prefix="/api/v1", tags=["ROIs"], route_class=JsonBodyRoute)
Plane = Annotated[int | None, Query(ge=0, le=MAX_ID)]


def _box(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInputError("bbox= is x0,y0,x1,y1 in image pixels") from None
    if not all(abs(v) < 1e12 for v in (x0, y0, x1, y1)) or x1 < x0 or y1 < y0:
        raise InvalidInputError("bbox= is x0,y0,x1,y1 with x0 <= x1 and y0 <= y1")
    return x0, y0, x1, y1


@router.get("/images/{image_id}/rois")
def image_rois(image_id: PathId, actor: ActorDep, request: Request, offset: Offset = 0,
               limit: Annotated[int, Query(ge=1, le=rois.MAX_PAGE)] = 100, z: Plane = None,
               t: Plane = None,
               bbox: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    """A page of the image's ROIs by id. ``z``/``t``: those with a shape on that plane (a
    shape on every plane counts); ``bbox=x0,y0,x1,y1``: with a shape overlapping it. Only
    the shapes that match are listed."""
    vault = vault_of(request)
    INFO.get(vault, actor, image_id)
    window = rois.Window(z, t, _box(bbox))
    with vault.catalog.session() as session:
        found, total = rois.page(session, actor, image_id=image_id, window=window,
                                 offset=offset, limit=limit)
    return {"total": total, "offset": offset, "limit": limit,
            "rois": [roi_files.native(r) for r in found]}


@router.get("/rois/{roi_id}")
def get_roi(roi_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        return roi_files.native(rois.get(session, actor, roi_id))


@router.delete("/rois/{roi_id}", status_code=204)
def delete_roi(roi_id: PathId, actor: ActorDep, request: Request) -> Response:
    with vault_of(request).catalog.session() as session:
        rois.remove(session, actor, [roi_id])
    return Response(status_code=204)


@router.get("/images/{image_id}/rois.geojson")
def export_geojson(image_id: PathId, actor: ActorDep, request: Request) -> StreamingResponse:
    """Every ROI of the image you may see, as a GeoJSON FeatureCollection."""
    chunks = roi_files.export_geojson(vault_of(request), actor, image_id)
    return StreamingResponse(chunks, media_type="application/geo+json", headers={
        "Content-Disposition": f'attachment; filename="image-{image_id}-rois.geojson"'})


@router.post("/images/{image_id}/rois.geojson", status_code=201,
             max_body_size=roi_files.MAX_GEOJSON)
async def import_geojson(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, int]:
    """A GeoJSON file (the body) added as ROIs: all its features, or none if one is bad."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > roi_files.MAX_GEOJSON:
        raise InvalidInputError(f"the GeoJSON file is {declared} bytes; at most "
                                f"{roi_files.MAX_GEOJSON >> 20} MiB at a time")
    vault = vault_of(request)
    await run_in_threadpool(INFO.get, vault, actor, image_id)
    folder = vault.settings.state_dir if vault.settings.state_dir.is_dir() else None
    handle, name = tempfile.mkstemp(prefix="pixelvault-rois-", suffix=".geojson", dir=folder)
    path = Path(name)
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            def write(piece: bytes) -> None:
                nonlocal written
                written += len(piece)
                if written > roi_files.MAX_GEOJSON:
                    raise InvalidInputError(f"the GeoJSON file is over "
                                            f"{roi_files.MAX_GEOJSON >> 20} MiB")
                out.write(piece)

            await pump(request, write, spool=1 << 20)
        return await run_in_threadpool(roi_files.import_geojson, vault, actor, image_id, path)
    finally:
        path.unlink(missing_ok=True)
