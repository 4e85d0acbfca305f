"""OMERO.web's rendered-image URLs (``/webgateway/...``), same paths, parameters and
semantics, so OMERO viewers and scripts work by changing only the host."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from pixelvault.errors import InvalidInputError
from pixelvault.server import rendered
from pixelvault.server.auth import ActorDep, current_caller, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId
from pixelvault.services.rendering import images, thumbnails

router = APIRouter(tags=["omero-web"], route_class=JsonBodyRoute)
Coordinate = Annotated[int, Query(ge=0, le=1 << 30)]


@router.get("/webgateway/render_image_region/{image_id}/{z}/{t}/")
async def render_image_region(image_id: PathId, z: PathId, t: PathId,
                              request: Request) -> Response:
    """A tile (``tile=level,tx,ty[,w,h]``) or region (``region=x,y,w,h``) as JPEG, PNG
    or TIFF, with OMERO's ``c=``, ``m=``, ``p=``, ``q=``, ``maps=``, ``flip=``.

    The hot route of every viewer: the session check and the rendering run in one
    worker-thread hop (FastAPI would give a dependency a hop of its own)."""
    def work() -> Response:
        return rendered.region(request, current_caller(request).actor, image_id, z, t)

    return await run_in_threadpool(work)


@router.get("/webgateway/render_image/{image_id}/")
def render_image(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    return rendered.plane(request, actor, image_id, None, None)


@router.get("/webgateway/render_image/{image_id}/{z}/")
def render_image_z(image_id: PathId, z: PathId, actor: ActorDep, request: Request) -> Response:
    return rendered.plane(request, actor, image_id, z, None)


@router.get("/webgateway/render_image/{image_id}/{z}/{t}/")
def render_image_zt(image_id: PathId, z: PathId, t: PathId, actor: ActorDep,
                    request: Request) -> Response:
    """The whole plane (a large one from the first resolution level that fits)."""
    return rendered.plane(request, actor, image_id, z, t)


@router.get("/webgateway/render_thumbnail/{image_id}/")
async def render_thumbnail(image_id: PathId, request: Request) -> Response:
    """A JPEG thumbnail, 96 pixels on its longest side (OMERO's default)."""
    def work() -> Response:
        return rendered.thumbnail(request, current_caller(request).actor, image_id, None, None)

    return await run_in_threadpool(work)


@router.get("/webgateway/render_thumbnail/{image_id}/{width}/")
def render_thumbnail_w(image_id: PathId, width: PathId, actor: ActorDep,
                       request: Request) -> Response:
    return rendered.thumbnail(request, actor, image_id, width, None)


@router.get("/webgateway/render_thumbnail/{image_id}/{width}/{height}/")
def render_thumbnail_wh(image_id: PathId, width: PathId, height: PathId, actor: ActorDep,
                        request: Request) -> Response:
    return rendered.thumbnail(request, actor, image_id, width, height)


@router.get("/webgateway/get_thumbnails/")
def get_thumbnails(actor: ActorDep, request: Request) -> dict[int, str | None]:
    """Thumbnails of many images as base64 JPEG data URLs; one that fails is null."""
    return thumbnails.batch(vault_of(request), actor, rendered.image_ids(request))


@router.get("/webgateway/get_thumbnails/{size}/")
def get_thumbnails_sized(size: PathId, actor: ActorDep,
                         request: Request) -> dict[int, str | None]:
    if not 1 <= size <= thumbnails.MAX_SIZE:
        raise InvalidInputError(f"a thumbnail size of {size}: use 1..{thumbnails.MAX_SIZE}")
    return thumbnails.batch(vault_of(request), actor, rendered.image_ids(request), size)


@router.get("/webgateway/imgData/{image_id}/")
def img_data(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Dimensions, pixel range, channels with windows and colours, tiles and levels."""
    return images.image_data(vault_of(request), actor, image_id)


@router.get("/webgateway/histogram_json/{image_id}/channel/{c}/")
def histogram_json(image_id: PathId, c: PathId, actor: ActorDep, request: Request,
                   theZ: Coordinate = 0, theT: Coordinate = 0,  # noqa: N803 - OMERO's names
                   bins: Annotated[int, Query(ge=1, le=4096)] = 256) -> dict[str, Any]:
    return images.histogram(vault_of(request), actor, image_id, c, theZ, theT, bins)
