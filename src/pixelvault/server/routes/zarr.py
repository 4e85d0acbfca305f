"""``/zarr/image/{id}.zarr/``: every image as read-only OME-Zarr 0.5 over HTTP, for
zarr-python, napari, vizarr and neuroglancer, with ETags (304 when unchanged)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from pixelvault.errors import NotFoundError
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.services.pixels import zarr_http

router = APIRouter(prefix="/zarr", tags=["zarr"], route_class=JsonBodyRoute)
CACHE_CONTROL = "private, no-cache"
Image = Annotated[str, Path(pattern=r"^\d{1,10}\.zarr$")]
Index = Annotated[int, Path(ge=0, le=1 << 30)]


def _image_id(name: str) -> int:
    return int(name.removesuffix(".zarr"))


def _json(request: Request, data: object, etag: str) -> Response:
    headers = {"ETag": f'"{etag}"', "Cache-Control": CACHE_CONTROL}
    if f'"{etag}"' in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return Response(json.dumps(data), media_type="application/json", headers=headers)


@router.get("/image/{image}/zarr.json")
def group(image: Image, actor: ActorDep, request: Request) -> Response:
    vault = vault_of(request)
    image_id = _image_id(image)
    etag = zarr_http.version(vault, actor, image_id)
    return _json(request, zarr_http.group(vault, actor, image_id), f"g-{etag}")


@router.get("/image/{image}/{level:int}/zarr.json")
def array(image: Image, level: Index, actor: ActorDep, request: Request) -> Response:
    vault = vault_of(request)
    image_id = _image_id(image)
    etag = zarr_http.version(vault, actor, image_id)
    return _json(request, zarr_http.array(vault, actor, image_id, level), f"a{level}-{etag}")


@router.get("/image/{image}/{level:int}/c/{t:int}/{c:int}/{z:int}/{y:int}/{x:int}")
def chunk(image: Image, level: Index, t: Index, c: Index, z: Index, y: Index, x: Index,
          actor: ActorDep, request: Request) -> Response:
    vault = vault_of(request)
    image_id = _image_id(image)
    etag = f'"c{level}-{t}-{c}-{z}-{y}-{x}-{zarr_http.version(vault, actor, image_id)}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    data = zarr_http.chunk(vault, actor, image_id, level, (t, c, z, y, x))
    if data is None:
        raise NotFoundError(f"no chunk {t}/{c}/{z}/{y}/{x} at level {level} (read it as "
                            "the fill value)")
    return Response(data, media_type="application/octet-stream", headers=headers)


@router.get("/image/{image}/{rest:path}")
def elsewhere(image: Image, rest: str, actor: ActorDep) -> Response:
    """Anything else a Zarr client probes for (labels, Zarr v2 metadata): not there."""
    raise NotFoundError(f"{image}/{rest[:200]} is not part of this image")
