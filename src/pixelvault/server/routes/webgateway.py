"""OMERO.web's rendered-image URLs, same paths, parameters and semantics, so OMERO
viewers and scripts work by changing only the host; and the same under the native
API with plainer names (``/api/v1/images/{id}/render``, ``.../thumbnail``)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pixelvault.errors import InvalidInputError
from pixelvault.server.auth import ActorDep, current_caller, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import BodyId, PathId
from pixelvault.services.rendering import images, thumbnails
from pixelvault.services.rendering import settings as rendering

router = APIRouter(tags=["rendering"], route_class=JsonBodyRoute)
CACHE_CONTROL = "private, no-cache"  # revalidate: the ETag answers 304 when unchanged
Coordinate = Annotated[int, Query(ge=0, le=1 << 30)]
Size = Annotated[int, Query(ge=1, le=thumbnails.MAX_SIZE)]


def _query(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        found.setdefault(key, value)
    return found


def _answer(rendered: images.Rendered) -> Response:
    headers = {"ETag": rendered.etag, "Cache-Control": CACHE_CONTROL}
    if rendered.not_modified:
        return Response(status_code=304, headers=headers)
    return Response(rendered.data, media_type=rendered.media_type, headers=headers)


def _max_region(request: Request) -> int:
    return vault_of(request).settings.max_region


def _region(request: Request, actor: Any, image_id: int, z: int | None,
            t: int | None) -> Response:
    return _answer(images.region(vault_of(request), actor, image_id, z, t, _query(request),
                                 _max_region(request), request.headers.get("if-none-match")))


def _plane(request: Request, actor: Any, image_id: int, z: int | None,
           t: int | None) -> Response:
    return _answer(images.plane(vault_of(request), actor, image_id, z, t, _query(request),
                                _max_region(request), request.headers.get("if-none-match")))


@router.get("/webgateway/render_image_region/{image_id}/{z}/{t}/")
async def render_image_region(image_id: PathId, z: PathId, t: PathId,
                              request: Request) -> Response:
    """A tile (``tile=level,tx,ty[,w,h]``) or region (``region=x,y,w,h``) as JPEG, PNG
    or TIFF, with OMERO's ``c=``, ``m=``, ``p=``, ``q=``, ``maps=``, ``flip=``.

    The hot route of every viewer: the session check and the rendering run in one
    worker-thread hop (FastAPI would give a dependency a hop of its own)."""
    def work() -> Response:
        return _region(request, current_caller(request).actor, image_id, z, t)

    return await run_in_threadpool(work)


@router.get("/webgateway/render_image/{image_id}/")
def render_image(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    return _plane(request, actor, image_id, None, None)


@router.get("/webgateway/render_image/{image_id}/{z}/")
def render_image_z(image_id: PathId, z: PathId, actor: ActorDep, request: Request) -> Response:
    return _plane(request, actor, image_id, z, None)


@router.get("/webgateway/render_image/{image_id}/{z}/{t}/")
def render_image_zt(image_id: PathId, z: PathId, t: PathId, actor: ActorDep,
                    request: Request) -> Response:
    """The whole plane (a large one from the first resolution level that fits)."""
    return _plane(request, actor, image_id, z, t)


def _thumbnail(request: Request, actor: Any, image_id: int, width: int | None,
               height: int | None) -> Response:
    data = thumbnails.get(vault_of(request), actor, image_id, width, height)
    etag = '"' + hashlib.sha1(data, usedforsecurity=False).hexdigest()[:24] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/jpeg", headers=headers)


@router.get("/webgateway/render_thumbnail/{image_id}/")
async def render_thumbnail(image_id: PathId, request: Request) -> Response:
    """A JPEG thumbnail, 96 pixels on its longest side (OMERO's default)."""
    def work() -> Response:
        return _thumbnail(request, current_caller(request).actor, image_id, None, None)

    return await run_in_threadpool(work)


@router.get("/webgateway/render_thumbnail/{image_id}/{width}/")
def render_thumbnail_w(image_id: PathId, width: PathId, actor: ActorDep,
                       request: Request) -> Response:
    return _thumbnail(request, actor, image_id, width, None)


@router.get("/webgateway/render_thumbnail/{image_id}/{width}/{height}/")
def render_thumbnail_wh(image_id: PathId, width: PathId, height: PathId, actor: ActorDep,
                        request: Request) -> Response:
    return _thumbnail(request, actor, image_id, width, height)


def _ids(request: Request) -> list[int]:
    ids = []
    for value in request.query_params.getlist("id"):
        if not value.isdigit() or int(value) > 2**31 - 1:
            raise InvalidInputError(f"id={value!r} is not an image id")
        ids.append(int(value))
    if not ids:
        raise InvalidInputError("name the images: ?id=1&id=2")
    if len(ids) > 500:
        raise InvalidInputError(f"{len(ids)} ids; at most 500 per call")
    return ids


@router.get("/webgateway/get_thumbnails/")
def get_thumbnails(actor: ActorDep, request: Request) -> dict[int, str | None]:
    """Thumbnails of many images as base64 JPEG data URLs; one that fails is null."""
    return thumbnails.batch(vault_of(request), actor, _ids(request))


@router.get("/webgateway/get_thumbnails/{size}/")
def get_thumbnails_sized(size: PathId, actor: ActorDep,
                         request: Request) -> dict[int, str | None]:
    if not 1 <= size <= thumbnails.MAX_SIZE:
        raise InvalidInputError(f"a thumbnail size of {size}: use 1..{thumbnails.MAX_SIZE}")
    return thumbnails.batch(vault_of(request), actor, _ids(request), size)


@router.get("/webgateway/imgData/{image_id}/")
def img_data(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Dimensions, pixel range, channels with windows and colours, tiles and levels."""
    return images.image_data(vault_of(request), actor, image_id)


@router.get("/webgateway/histogram_json/{image_id}/channel/{c}/")
def histogram_json(image_id: PathId, c: PathId, actor: ActorDep, request: Request,
                   theZ: Coordinate = 0, theT: Coordinate = 0,  # noqa: N803 - OMERO's names
                   bins: Annotated[int, Query(ge=1, le=4096)] = 256) -> dict[str, Any]:
    return images.histogram(vault_of(request), actor, image_id, c, theZ, theT, bins)


# The native API: the same answers, plainer names -------------------------------------
@router.get("/api/v1/images/{image_id}/render")
def render(image_id: PathId, actor: ActorDep, request: Request,
           z: Annotated[int | None, Query(ge=0)] = None,
           t: Annotated[int | None, Query(ge=0)] = None) -> Response:
    """A tile (``tile=``), region (``region=``) or the whole plane, rendered with the
    settings in effect changed by ``c=``, ``m=``, ``p=``, ``q=``, ``maps=``, ``flip=``,
    ``format=``."""
    query = _query(request)
    if "tile" in query or "region" in query:
        return _region(request, actor, image_id, z, t)
    return _plane(request, actor, image_id, z, t)


@router.get("/api/v1/images/{image_id}/thumbnail")
def thumbnail(image_id: PathId, actor: ActorDep, request: Request, size: Size | None = None,
              width: Size | None = None, height: Size | None = None) -> Response:
    if size is not None and (width or height):
        raise InvalidInputError("give size (the longest side) or width and height")
    return _thumbnail(request, actor, image_id, width or size, height)


@router.get("/api/v1/thumbnails")
def thumbnails_batch(actor: ActorDep, request: Request,
                     size: Size | None = None) -> dict[int, str | None]:
    return thumbnails.batch(vault_of(request), actor, _ids(request), size)


@router.get("/api/v1/images/{image_id}/histogram")
def native_histogram(image_id: PathId, actor: ActorDep, request: Request, c: Coordinate = 0,
                     z: Coordinate = 0, t: Coordinate = 0,
                     bins: Annotated[int, Query(ge=1, le=4096)] = 256) -> dict[str, Any]:
    return images.histogram(vault_of(request), actor, image_id, c, z, t, bins)


@router.get("/api/v1/images/{image_id}/rendering")
def get_rendering(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """The settings you see for the image, and whose they are."""
    found = rendering.effective(vault_of(request), actor, image_id)
    return _effective(found)


def _effective(found: rendering.Effective) -> dict[str, Any]:
    return {"image": found.image_id, "owner_id": found.owner_id, "version": found.version,
            **rendering.as_json(found.settings)}


@router.put("/api/v1/images/{image_id}/rendering")
def put_rendering(image_id: PathId, body: dict[str, Any], actor: ActorDep,
                  request: Request) -> dict[str, Any]:
    """Save your own settings (any field left out keeps what you see now); thumbnails
    follow."""
    vault = vault_of(request)
    current = rendering.effective(vault, actor, image_id).settings
    found = rendering.set_settings(vault, actor, image_id, rendering.from_json(body, current))
    images.clear_caches()
    return _effective(found)


@router.delete("/api/v1/images/{image_id}/rendering")
def reset_rendering(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Your settings back to the defaults."""
    found = rendering.reset(vault_of(request), actor, image_id)
    images.clear_caches()
    return _effective(found)


class CopyRendering(BaseModel):
    source: BodyId
    targets: Annotated[list[BodyId], Field(min_length=1, max_length=10_000)]


@router.post("/api/v1/rendering/copy")
def copy_rendering(body: CopyRendering, actor: ActorDep, request: Request) -> dict[str, Any]:
    """The settings you see on ``source``, saved as yours on every target."""
    done = rendering.copy(vault_of(request), actor, body.source, body.targets)
    images.clear_caches()
    return {"source": body.source, "targets": done}
