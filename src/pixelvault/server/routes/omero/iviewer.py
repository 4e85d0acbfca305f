"""OMERO.iviewer's own data routes (``/iviewer/...``), answered as its Django views
answer them, so the published viewer runs against pixelvault: an image's data with
the keys iviewer adds to imgData, time offsets, pixel values under the pointer, and
the ROI routes.

There are no ROIs in the catalog yet: every image has none, so the ROI routes
answer empty lists and zero counts, and saving ROIs answers an error the viewer
shows, never a silent success.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pixelvault.errors import InvalidInputError
from pixelvault.server import jsonbody
from pixelvault.server.auth import ActorDep, current_caller, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import MAX_ID, PathId, QueryId
from pixelvault.services.pixels.access import PixelsInfo
from pixelvault.services.rendering import image_data, images
from pixelvault.services.rendering import projection as projection_service

router = APIRouter(tags=["omero-iviewer"], route_class=JsonBodyRoute)
ImageId = Annotated[int, Query(ge=0, le=MAX_ID)]
Place = Annotated[float, Query(ge=0, le=1 << 30)]  # iviewer may send 12.0 for 12
NO_ROIS = "this server keeps no ROIs yet: nothing was saved"


@router.get("/iviewer/image_data/{image_id}/")
def iviewer_image_data(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """imgData, with pixel sizes in a readable unit (``unit_x``, ``symbol_x``,
    ``unit_id_x``), ``roi_count``, ``import_date``, ``acquisition_date``, ``families``."""
    return image_data.for_iviewer(vault_of(request), actor, image_id, roi_count=0)


@router.get("/iviewer/image_data/{image_id}/delta_t/")
def iviewer_delta_t(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Seconds from the first time point to each."""
    return image_data.delta_t_of(vault_of(request), actor, image_id)


@router.get("/iviewer/save_projection/")
def save_projection(actor: ActorDep, request: Request, image: ImageId,
                    projection: Annotated[str, Query(max_length=16)],
                    start: Annotated[int, Query(ge=0, le=1 << 20)] = 0,
                    end: Annotated[int | None, Query(ge=0, le=1 << 20)] = None,
                    dataset: QueryId = None) -> dict[str, Any]:
    """The z-planes ``start`` to ``end`` (from 0) projected (``intmax``, ``intmean``,
    ``intsum``) into a new image, in ``dataset`` if given; answers its id."""
    vault = vault_of(request)
    last = images.INFO.get(vault, actor, image).size_z - 1 if end is None else end
    return {"id": projection_service.save_projection(vault, actor, image, projection, start,
                                                     last, dataset)}


@router.get("/iviewer/get_intensity/")
def get_intensity(actor: ActorDep, request: Request, image: ImageId,
                  x: Place, y: Place, z: Place, t: Place,
                  c: Annotated[str, Query(max_length=4000)]) -> dict[str, Any]:
    """Raw values in a 51x51 window around (x, y), channels ``c=0,2`` (from 0)."""
    try:
        channels = [int(part) for part in c.split(",")]
    except ValueError:
        raise InvalidInputError("c= is a comma-separated list of channels from 0") from None
    return images.intensities(vault_of(request), actor, image, int(z), int(t), int(x), int(y),
                              channels)


def _readable(request: Request, actor: Any, image_id: int) -> PixelsInfo:
    return images.INFO.get(vault_of(request), actor, image_id)


@router.get("/iviewer/plane_shape_counts/{image_id}/")
def plane_shape_counts(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Shapes per plane, ``data[z][t]``: none."""
    info = _readable(request, actor, image_id)
    return {"data": [[0] * info.size_t for _ in range(info.size_z)]}


@router.get("/iviewer/rois_by_plane/{image_id}/{z}/{t}/")
def rois_by_plane(image_id: PathId, z: Annotated[str, Path(max_length=40)], t: PathId,
                  actor: ActorDep, request: Request) -> dict[str, Any]:
    """The ROIs on a plane (``z`` may be a range, START-END): none."""
    _readable(request, actor, image_id)
    return {"data": [], "meta": {"totalCount": 0}}


@router.get("/iviewer/shape_stats/")
def shape_stats(actor: ActorDep, ids: Annotated[str, Query(max_length=4000)] = "",
                ) -> dict[str, Any]:
    """Statistics per shape id (``ids=roi:shape,...``): there are no shapes yet."""
    return {}


@router.get("/iviewer/well_images/")
def well_images(actor: ActorDep, id: QueryId = None) -> dict[str, Any]:
    """The images of a well: there are no plates or wells in the catalog yet."""
    return {"data": [], "meta": {"totalCount": 0}}


@router.get("/webgateway/get_rois_json/{image_id}/")
def get_rois_json(image_id: PathId, actor: ActorDep, request: Request) -> list[Any]:
    """The image's ROIs in webgateway's shape: none."""
    _readable(request, actor, image_id)
    return []


@router.post("/iviewer/persist_rois/")
async def persist_rois(request: Request) -> JSONResponse:
    """Saves ROIs from the viewer's JSON body (sent as text). With nothing to save,
    ``{"ids": {}}``; anything to save is refused in ``errors``, as iviewer reads them."""
    await run_in_threadpool(current_caller, request)
    body = await request.body()
    jsonbody.check_depth(body)
    try:
        sent = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise InvalidInputError("the body is the viewer's JSON: {imageId, rois}") from None
    rois = sent.get("rois") if isinstance(sent, dict) else None
    if not isinstance(rois, dict):
        raise InvalidInputError("the body is the viewer's JSON: {imageId, rois}")
    changes = [rois.get(k) for k in ("new", "modified", "deleted", "empty_rois",
                                     "new_and_deleted")]
    if not any(changes):
        return JSONResponse({"ids": {}})
    return JSONResponse({"ids": {}, "errors": [NO_ROIS]})
