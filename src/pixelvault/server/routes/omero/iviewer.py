"""OMERO.iviewer's own data routes (``/iviewer/...``), answered as its Django views
answer them, so the published viewer runs against pixelvault: an image's data with
the keys iviewer adds to imgData, time offsets and pixel values under the pointer.
Its ROI routes are in ``rois.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from pixelvault.errors import InvalidInputError
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import MAX_ID, PathId, QueryId
from pixelvault.services.objects import rois
from pixelvault.services.rendering import image_data, images
from pixelvault.services.rendering import projection as projection_service

router = APIRouter(tags=["omero-iviewer"], route_class=JsonBodyRoute)
ImageId = Annotated[int, Query(ge=0, le=MAX_ID)]
Place = Annotated[float, Query(ge=0, le=1 << 30)]  # iviewer may send 12.0 for 12


@router.get("/iviewer/image_data/{image_id}/")
def iviewer_image_data(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """imgData, with pixel sizes in a readable unit (``unit_x``, ``symbol_x``,
    ``unit_id_x``), ``roi_count``, ``import_date``, ``acquisition_date``, ``families``."""
    vault = vault_of(request)
    with vault.catalog.session() as session:
        count = rois.count(session, actor, image_id)
    return image_data.for_iviewer(vault, actor, image_id, roi_count=count)


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

