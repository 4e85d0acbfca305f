"""Imported filesets: deleting one with all its images (the only way to delete an image
that shares its files with others)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId
from pixelvault.services.objects import deletion

router = APIRouter(prefix="/api/v1", tags=["filesets"], route_class=JsonBodyRoute)


@router.delete("/filesets/{fileset_id}", status_code=204)
def delete_fileset(fileset_id: PathId, actor: ActorDep, request: Request) -> None:
    """Delete the fileset's images, its original files' rows, then their bytes."""
    deletion.delete_fileset(vault_of(request), actor, fileset_id)
