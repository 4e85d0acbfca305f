"""Rendered images under the native API: OMERO.web's rendering with plainer names
(``/api/v1/images/{id}/render``, ``.../thumbnail``, ``.../histogram``) and the
rendering settings each user keeps for an image."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from pixelvault.errors import InvalidInputError
from pixelvault.server import rendered
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import BodyId, PathId
from pixelvault.services.rendering import images, thumbnails
from pixelvault.services.rendering import settings as rendering

router = APIRouter(tags=["rendering"], route_class=JsonBodyRoute)
Coordinate = Annotated[int, Query(ge=0, le=1 << 30)]
Size = Annotated[int, Query(ge=1, le=thumbnails.MAX_SIZE)]


@router.get("/api/v1/images/{image_id}/render")
def render(image_id: PathId, actor: ActorDep, request: Request,
           z: Annotated[int | None, Query(ge=0)] = None,
           t: Annotated[int | None, Query(ge=0)] = None) -> Response:
    """A tile (``tile=``), region (``region=``) or the whole plane, rendered with the
    settings in effect changed by ``c=``, ``m=``, ``p=``, ``q=``, ``maps=``, ``flip=``,
    ``format=``."""
    query = rendered.query_of(request)
    if "tile" in query or "region" in query:
        return rendered.region(request, actor, image_id, z, t)
    return rendered.plane(request, actor, image_id, z, t)


@router.get("/api/v1/images/{image_id}/thumbnail")
def thumbnail(image_id: PathId, actor: ActorDep, request: Request, size: Size | None = None,
              width: Size | None = None, height: Size | None = None) -> Response:
    if size is not None and (width or height):
        raise InvalidInputError("give size (the longest side) or width and height")
    return rendered.thumbnail(request, actor, image_id, width or size, height)


@router.get("/api/v1/thumbnails")
def thumbnails_batch(actor: ActorDep, request: Request,
                     size: Size | None = None) -> dict[int, str | None]:
    return thumbnails.batch(vault_of(request), actor, rendered.image_ids(request), size)


@router.get("/api/v1/images/{image_id}/histogram")
def native_histogram(image_id: PathId, actor: ActorDep, request: Request, c: Coordinate = 0,
                     z: Coordinate = 0, t: Coordinate = 0,
                     bins: Annotated[int, Query(ge=1, le=4096)] = 256) -> dict[str, Any]:
    return images.histogram(vault_of(request), actor, image_id, c, z, t, bins)


@router.get("/api/v1/images/{image_id}/rendering")
def get_rendering(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """The settings you see for the image, and whose they are."""
    found = rendering.effective(vault_of(request), actor, image_id)
    return rendered.effective_json(found)


@router.put("/api/v1/images/{image_id}/rendering")
def put_rendering(image_id: PathId, body: dict[str, Any], actor: ActorDep,
                  request: Request) -> dict[str, Any]:
    """Save your own settings (any field left out keeps what you see now); thumbnails
    follow."""
    vault = vault_of(request)
    current = rendering.effective(vault, actor, image_id).settings
    found = rendering.set_settings(vault, actor, image_id, rendering.from_json(body, current))
    images.clear_caches()
    return rendered.effective_json(found)


@router.delete("/api/v1/images/{image_id}/rendering")
def reset_rendering(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Your settings back to the defaults."""
    found = rendering.reset(vault_of(request), actor, image_id)
    images.clear_caches()
    return rendered.effective_json(found)


class CopyRendering(BaseModel):
    source: BodyId
    targets: Annotated[list[BodyId], Field(min_length=1, max_length=10_000)]


@router.post("/api/v1/rendering/copy")
def copy_rendering(body: CopyRendering, actor: ActorDep, request: Request) -> dict[str, Any]:
    """The settings you see on ``source``, saved as yours on every target."""
    done = rendering.copy(vault_of(request), actor, body.source, body.targets)
    images.clear_caches()
    return {"source": body.source, "targets": done}
