"""Raw tiles as OMERO's pixel-buffer microservice (omero-ms-pixel-buffer) serves them.

QuPath's OMERO extension reads raw pixels of any type through that service when an
``OPTIONS /tile`` probe answers 200 (``MsPixelBufferApi``): one channel per request,
``GET /tile/{image}/{z}/{c}/{t}?x&y&w&h&resolution&format``, answered as a
single-channel TIFF in the image's own type. ``resolution`` counts from the
*smallest* level, as OMERO's PixelBuffer does; pixelvault's level 0 is full
resolution, so it is turned around here. Point QuPath's pixel-buffer port at
pixelvault's own port: the session is the same cookie.
"""

from __future__ import annotations

import io
from enum import StrEnum
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request, Response

from pixelvault import __version__
from pixelvault.errors import InvalidInputError
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId
from pixelvault.services.pixels import access

router = APIRouter(tags=["OMERO pixel-buffer microservice"], route_class=JsonBodyRoute)
Coordinate = Annotated[int, Query(ge=0, le=1 << 30)]
Extent = Annotated[int | None, Query(ge=1, le=1 << 30)]


class TileFormat(StrEnum):
    tif = "tif"
    png = "png"
    raw = "raw"  # the service answers raw bytes for any other format; so does this


@router.options("/tile")
def details() -> dict[str, Any]:
    """The service's self-description, which clients probe for (no session needed)."""
    return {"provider": "PixelBufferMicroservice", "version": f"pixelvault {__version__}",
            "features": []}


def _encode(region: np.ndarray[Any, Any], fmt: str) -> tuple[bytes, str]:
    if fmt == TileFormat.tif:
        import tifffile

        out = io.BytesIO()
        tifffile.imwrite(out, region, photometric="minisblack", metadata=None)
        return out.getvalue(), "image/tiff"
    if fmt == TileFormat.png:
        if region.dtype not in (np.uint8, np.uint16):
            raise InvalidInputError(f"PNG holds 8 or 16-bit unsigned pixels, not "
                                    f"{region.dtype}; ask for format=tif")
        import imagecodecs

        return bytes(imagecodecs.png_encode(region)), "image/png"
    return region.tobytes(), "application/octet-stream"


@router.get("/tile/{image_id}/{z}/{c}/{t}")
def tile(image_id: PathId, z: int, c: int, t: int, actor: ActorDep, request: Request,
         x: Coordinate = 0, y: Coordinate = 0, w: Extent = None, h: Extent = None,
         resolution: Annotated[int | None, Query(ge=0, le=64)] = None,
         format: str = "raw") -> Response:
    """One channel of a region at a level (``resolution`` 0: the smallest level; none:
    full resolution), in the image's own pixel type."""
    buffer = access.open_buffer(vault_of(request), actor, image_id)
    levels = buffer.resolution_levels
    if resolution is not None and resolution >= levels:
        raise InvalidInputError(f"resolution {resolution} is outside 0..{levels - 1} "
                                "(0 is the smallest level)")
    level = 0 if resolution is None else levels - 1 - resolution
    size_x, size_y = buffer.level_size(level)
    width = size_x - x if w is None else w
    height = size_y - y if h is None else h
    region = buffer.get_region(z, c, t, x, y, width, height, level)
    fmt = format if format in (TileFormat.tif, TileFormat.png) else TileFormat.raw
    body, media = _encode(np.ascontiguousarray(region), fmt)
    return Response(body, media_type=media, headers={"Cache-Control": "private, max-age=0"})
