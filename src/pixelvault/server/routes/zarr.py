"""``/zarr/image/{id}.zarr/``: every image as read-only OME-Zarr 0.5 over HTTP, for
zarr-python, napari, vizarr and neuroglancer, with ETags (304 when unchanged); and
``/zarr/plate/{id}.zarr/``: every plate in OME-Zarr 0.5's plate layout, each field
served as its image."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from pixelvault.errors import NotFoundError
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.services.pixels import zarr_http

router = APIRouter(prefix="/zarr", tags=["zarr"], route_class=JsonBodyRoute)
CACHE_CONTROL = "private, no-cache"
Image = Annotated[str, Path(pattern=r"^\d{1,10}\.zarr$")]
Index = Annotated[int, Path(ge=0, le=1 << 30)]
Name = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{1,8}$")]


def _image_id(name: str) -> int:
    return int(name.removesuffix(".zarr"))


def _json(request: Request, data: object, etag: str) -> Response:
    headers = {"ETag": f'"{etag}"', "Cache-Control": CACHE_CONTROL}
    if f'"{etag}"' in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return Response(json.dumps(data), media_type="application/json", headers=headers)


def _group(request: Request, actor: Any, image_id: int) -> Response:
    vault = vault_of(request)
    etag = zarr_http.version(vault, actor, image_id)
    return _json(request, zarr_http.group(vault, actor, image_id), f"g-{etag}")


def _array(request: Request, actor: Any, image_id: int, level: int) -> Response:
    vault = vault_of(request)
    etag = zarr_http.version(vault, actor, image_id)
    return _json(request, zarr_http.array(vault, actor, image_id, level), f"a{level}-{etag}")


@router.get("/image/{image}/zarr.json")
def group(image: Image, actor: ActorDep, request: Request) -> Response:
    return _group(request, actor, _image_id(image))


@router.get("/image/{image}/{level:int}/zarr.json")
def array(image: Image, level: Index, actor: ActorDep, request: Request) -> Response:
    return _array(request, actor, _image_id(image), level)


@router.get("/image/{image}/{level:int}/c/{t:int}/{c:int}/{z:int}/{y:int}/{x:int}")
def chunk(image: Image, level: Index, t: Index, c: Index, z: Index, y: Index, x: Index,
          actor: ActorDep, request: Request) -> Response:
    return _chunk(request, actor, _image_id(image), level, (t, c, z, y, x))


def _chunk(request: Request, actor: Any, image_id: int, level: int,
           key: tuple[int, int, int, int, int]) -> Response:
    t, c, z, y, x = key
    vault = vault_of(request)
    etag = f'"c{level}-{t}-{c}-{z}-{y}-{x}-{zarr_http.version(vault, actor, image_id)}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    data = zarr_http.chunk(vault, actor, image_id, level, (t, c, z, y, x))
    if data is None:
        raise NotFoundError(f"no chunk {t}/{c}/{z}/{y}/{x} at level {level} (read it as "
                            "the fill value)")
    return Response(data, media_type="application/octet-stream", headers=headers)


# --- plates: OME-Zarr 0.5's plate layout, each field served as its image -----------------

@router.get("/plate/{plate}/zarr.json")
def plate_group(plate: Image, actor: ActorDep, request: Request) -> Response:
    """The plate's rows, columns, wells and runs (``ome.plate``)."""
    found = zarr_http.plate_group(vault_of(request), actor, _image_id(plate))
    return Response(json.dumps(found), media_type="application/json",
                    headers={"Cache-Control": CACHE_CONTROL})


@router.get("/plate/{plate}/{row}/zarr.json")
def plate_row(plate: Image, row: Name, actor: ActorDep, request: Request) -> Response:
    zarr_http.plate_group(vault_of(request), actor, _image_id(plate))  # 404 if not seen
    return Response(json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}),
                    media_type="application/json", headers={"Cache-Control": CACHE_CONTROL})


@router.get("/plate/{plate}/{row}/{column}/zarr.json")
def plate_well(plate: Image, row: Name, column: Name, actor: ActorDep,
               request: Request) -> Response:
    """A well: its fields (``ome.well.images``) and the run each belongs to."""
    found = zarr_http.well_group(vault_of(request), actor, _image_id(plate), row, column)
    return Response(json.dumps(found), media_type="application/json",
                    headers={"Cache-Control": CACHE_CONTROL})


def _field(request: Request, actor: Any, plate: str, row: str, column: str,
           field: int) -> int:
    return zarr_http.field_image(vault_of(request), actor, _image_id(plate), row, column,
                                 field)


@router.get("/plate/{plate}/{row}/{column}/{field:int}/zarr.json")
def field_group(plate: Image, row: Name, column: Name, field: Index, actor: ActorDep,
                request: Request) -> Response:
    return _group(request, actor, _field(request, actor, plate, row, column, field))


@router.get("/plate/{plate}/{row}/{column}/{field:int}/{level:int}/zarr.json")
def field_array(plate: Image, row: Name, column: Name, field: Index, level: Index,
                actor: ActorDep, request: Request) -> Response:
    return _array(request, actor, _field(request, actor, plate, row, column, field), level)


@router.get("/plate/{plate}/{row}/{column}/{field:int}/{level:int}/c/{t:int}/{c:int}/{z:int}/"
            "{y:int}/{x:int}")
def field_chunk(plate: Image, row: Name, column: Name, field: Index, level: Index, t: Index,
                c: Index, z: Index, y: Index, x: Index, actor: ActorDep,
                request: Request) -> Response:
    return _chunk(request, actor, _field(request, actor, plate, row, column, field), level,
                  (t, c, z, y, x))


@router.get("/plate/{plate}/{rest:path}")
def plate_elsewhere(plate: Image, rest: str, actor: ActorDep) -> Response:
    raise NotFoundError(f"{plate}/{rest[:200]} is not part of this plate")


@router.get("/image/{image}/{rest:path}")
def elsewhere(image: Image, rest: str, actor: ActorDep) -> Response:
    """Anything else a Zarr client probes for (labels, Zarr v2 metadata): not there."""
    raise NotFoundError(f"{image}/{rest[:200]} is not part of this image")
