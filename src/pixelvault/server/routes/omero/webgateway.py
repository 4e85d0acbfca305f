"""OMERO.web's rendered-image URLs (``/webgateway/...``), same paths, parameters and
semantics, so OMERO viewers and scripts work by changing only the host. The
webclient serves most of them under its own prefix too (``/webclient/imgData/...``,
``/webclient/render_thumbnail/...``, which iviewer's thumbnail strip asks for), and
so does pixelvault."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from pixelvault.errors import InvalidInputError
from pixelvault.server import jsonp, rendered
from pixelvault.server.auth import ActorDep, current_caller, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId
from pixelvault.services.rendering import image_data, images, lookup_tables, thumbnails

router = APIRouter(tags=["omero-web"], route_class=JsonBodyRoute)
Coordinate = Annotated[int, Query(ge=0, le=1 << 30)]


@router.get("/webgateway/render_image_region/{image_id}/{z}/{t}/")
@router.get("/webclient/render_image_region/{image_id}/{z}/{t}/")
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
@router.get("/webclient/render_image/{image_id}/")
def render_image(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    return rendered.plane(request, actor, image_id, None, None)


@router.get("/webgateway/render_image/{image_id}/{z}/")
@router.get("/webclient/render_image/{image_id}/{z}/")
def render_image_z(image_id: PathId, z: PathId, actor: ActorDep, request: Request) -> Response:
    return rendered.plane(request, actor, image_id, z, None)


@router.get("/webgateway/render_image/{image_id}/{z}/{t}/")
@router.get("/webclient/render_image/{image_id}/{z}/{t}/")
def render_image_zt(image_id: PathId, z: PathId, t: PathId, actor: ActorDep,
                    request: Request) -> Response:
    """The whole plane (a large one from the first resolution level that fits)."""
    return rendered.plane(request, actor, image_id, z, t)


@router.get("/webgateway/render_thumbnail/{image_id}/")
@router.get("/webclient/render_thumbnail/{image_id}/")
async def render_thumbnail(image_id: PathId, request: Request) -> Response:
    """A JPEG thumbnail, 96 pixels on its longest side (OMERO's default)."""
    def work() -> Response:
        return rendered.thumbnail(request, current_caller(request).actor, image_id, None, None)

    return await run_in_threadpool(work)


@router.get("/webgateway/render_thumbnail/{image_id}/{width}/")
def render_thumbnail_w(image_id: PathId, width: PathId, actor: ActorDep,
                       request: Request) -> Response:
    return rendered.thumbnail(request, actor, image_id, width, None)


@router.get("/webclient/render_thumbnail/size/{width}/{image_id}/")
def render_thumbnail_sized(image_id: PathId, width: PathId, actor: ActorDep,
                           request: Request) -> Response:
    """The webclient's spelling: the size first."""
    return rendered.thumbnail(request, actor, image_id, width, None)


@router.get("/webgateway/render_thumbnail/{image_id}/{width}/{height}/")
def render_thumbnail_wh(image_id: PathId, width: PathId, height: PathId, actor: ActorDep,
                        request: Request) -> Response:
    return rendered.thumbnail(request, actor, image_id, width, height)


@router.get("/webgateway/get_thumbnails/")
@router.get("/webclient/get_thumbnails/")
def get_thumbnails(actor: ActorDep, request: Request) -> dict[int, str | None]:
    """Thumbnails of many images as base64 JPEG data URLs; one that fails is null."""
    return thumbnails.batch(vault_of(request), actor, rendered.image_ids(request))


@router.get("/webgateway/get_thumbnails/{size}/")
def get_thumbnails_sized(size: PathId, actor: ActorDep,
                         request: Request) -> dict[int, str | None]:
    if not 1 <= size <= thumbnails.MAX_SIZE:
        raise InvalidInputError(f"a thumbnail size of {size}: use 1..{thumbnails.MAX_SIZE}")
    return thumbnails.batch(vault_of(request), actor, rendered.image_ids(request), size)


def _img_data(request: Request, actor: Any, image_id: int, key: str | None) -> Response:
    defaults = request.query_params.get("getDefaults", "").lower() == "true"
    found: Any = image_data.image_data(vault_of(request), actor, image_id, defaults=defaults)
    for part in (key.split(".") if key else []):
        found = found.get(part) if isinstance(found, dict) else None
    return jsonp.answer(request, found)


@router.get("/webgateway/imgData/{image_id}/")
@router.get("/webclient/imgData/{image_id}/")
def img_data(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    """Dimensions, pixel range, channels with windows and colours, tiles and levels, the
    parents and permissions (``getDefaults=true``: the settings a reset would give;
    ``callback=``: JSONP)."""
    return _img_data(request, actor, image_id, None)


@router.get("/webgateway/imgData/{image_id}/{key}/")
def img_data_key(image_id: PathId, key: Annotated[str, Path(max_length=256)], actor: ActorDep,
                 request: Request) -> Response:
    """One part of imgData by its dotted name (``meta.imageName``, ``rdefs``); null if
    there is none."""
    return _img_data(request, actor, image_id, key)


@router.get("/webgateway/get_thumbnail/{image_id}/")
@router.get("/webclient/get_thumbnail/{image_id}/")
def get_thumbnail(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    """The thumbnail as a JSON string holding a JPEG data URL."""
    return _data_url(request, actor, image_id, None, None)


@router.get("/webgateway/get_thumbnail/{image_id}/{width}/")
def get_thumbnail_w(image_id: PathId, width: PathId, actor: ActorDep,
                    request: Request) -> Response:
    return _data_url(request, actor, image_id, width, None)


@router.get("/webgateway/get_thumbnail/{image_id}/{width}/{height}/")
def get_thumbnail_wh(image_id: PathId, width: PathId, height: PathId, actor: ActorDep,
                     request: Request) -> Response:
    return _data_url(request, actor, image_id, width, height)


def _data_url(request: Request, actor: Any, image_id: int, width: int | None,
              height: int | None) -> Response:
    data = thumbnails.get(vault_of(request), actor, image_id, width, height)
    return jsonp.answer(request, "data:image/jpeg;base64," + base64.b64encode(data).decode())


@router.get("/webgateway/render_birds_eye_view/{image_id}/")
@router.get("/webclient/render_birds_eye_view/{image_id}/")
def render_birds_eye_view(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    """An overview of the whole image: its thumbnail (OMERO.web's own choice)."""
    return rendered.thumbnail(request, actor, image_id, None, None)


@router.get("/webgateway/render_birds_eye_view/{image_id}/{size}/")
@router.get("/webclient/render_birds_eye_view/{image_id}/{size}/")
def render_birds_eye_view_sized(image_id: PathId, size: PathId, actor: ActorDep,
                                request: Request) -> Response:
    if not 1 <= size <= thumbnails.MAX_SIZE:
        raise InvalidInputError(f"a size of {size}: use 1..{thumbnails.MAX_SIZE}")
    return rendered.thumbnail(request, actor, image_id, size, None)


@router.get("/webgateway/render_split_channel/{image_id}/{z}/{t}/")
@router.get("/webclient/render_split_channel/{image_id}/{z}/{t}/")
def render_split_channel(image_id: PathId, z: PathId, t: PathId, actor: ActorDep,
                         request: Request) -> Response:
    """Each channel in its own panel, then all of them merged, on a white grid with 2
    pixel borders (greyscale panels with ``m=g``), labelled as OMERO labels them."""
    return rendered.answer(images.split_channels(
        vault_of(request), actor, image_id, z, t, rendered.query_of(request),
        vault_of(request).settings.max_region, request.headers.get("if-none-match")))


@router.get("/webgateway/luts/")
@router.get("/webclient/luts/")
def luts_json(actor: ActorDep, request: Request) -> Response:
    """The lookup tables, named and ordered as OMERO lists them; ``png_index_new`` is
    each one's row in ``luts_png``; ``rgb=true`` adds their 256 colours."""
    return jsonp.answer(request, lookup_tables.listing(
        request.query_params.get("rgb", "").lower() == "true"))


@router.get("/webgateway/luts_png/")
def luts_png(actor: ActorDep) -> Response:
    """Every table as a 10-pixel row of a 256-pixel-wide PNG, then the slider gradient."""
    return Response(lookup_tables.png(), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get("/webgateway/open_with/")
def open_with(actor: ActorDep, request: Request) -> Response:
    """The viewers a webclient offers for an object: none are registered here."""
    return jsonp.answer(request, {"open_with_options": []})


@router.get("/webgateway/histogram_json/{image_id}/channel/{c}/")
def histogram_json(image_id: PathId, c: PathId, actor: ActorDep, request: Request,
                   theZ: Coordinate = 0, theT: Coordinate = 0,  # noqa: N803 - OMERO's names
                   bins: Annotated[int, Query(ge=1, le=4096)] = 256) -> dict[str, Any]:
    return images.histogram(vault_of(request), actor, image_id, c, theZ, theT, bins)
