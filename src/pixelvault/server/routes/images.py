"""One image in full: what the import recorded of it (the listings give names only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.encoding import utc_iso
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId
from pixelvault.services.objects import images

router = APIRouter(prefix="/api/v1", tags=["images"], route_class=JsonBodyRoute)


@router.get("/images/{image_id}/metadata")
def metadata(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Dimensions, pixel type, physical sizes with units, channels, fileset, datasets."""
    image = images.describe(vault_of(request).catalog, actor, image_id)
    for key in ("created_at", "acquisition_date"):
        if image[key] is not None:
            image[key] = utc_iso(image[key])
    return image
