"""Imported filesets, plates and screens: deleting one with all its images (the only way to
delete an image that shares its files with others, or is a field of a plate); the space
their files take."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId
from pixelvault.services.objects import deletion, filesets

router = APIRouter(prefix="/api/v1", tags=["filesets"], route_class=JsonBodyRoute)


class FilesetFile(BaseModel):
    """One original file of a fileset: its id downloads it at ``/api/v1/files/{id}``."""

    id: int
    name: str
    client_path: str
    size: int
    hasher: str
    hash: str


@router.get("/filesets/{fileset_id}/files", response_model=list[FilesetFile])
def fileset_files(fileset_id: PathId, actor: ActorDep, request: Request) -> list[FilesetFile]:
    """The files the fileset was imported from, in import order (OMERO.web's "original
    files" of an image)."""
    return [FilesetFile(id=f.id, name=PurePosixPath(f.client_path).name,
                        client_path=f.client_path, size=f.size, hasher=f.hasher, hash=f.hash)
            for f in filesets.fileset_files(vault_of(request).catalog, actor, fileset_id)]


@router.get("/datasets/{dataset_id}/file-sizes", tags=["datasets"])
def dataset_file_sizes(dataset_id: PathId, actor: ActorDep, request: Request
                       ) -> dict[str, int]:
    """Image id -> bytes of the files it was imported from, for the dataset's images you
    may read (images made from arrays have none)."""
    found = filesets.dataset_file_sizes(vault_of(request).catalog, actor, dataset_id)
    return {str(image_id): size for image_id, size in found.items()}


@router.delete("/filesets/{fileset_id}", status_code=204)
def delete_fileset(fileset_id: PathId, actor: ActorDep, request: Request) -> None:
    """Delete the fileset's images, its original files' rows, then their bytes."""
    deletion.delete_fileset(vault_of(request), actor, fileset_id)


@router.delete("/plates/{plate_id}", status_code=204, tags=["plates"])
def delete_plate(plate_id: PathId, actor: ActorDep, request: Request) -> None:
    """Delete a plate with its wells, fields, runs, their images and its fileset."""
    deletion.delete_plate(vault_of(request), actor, plate_id)


@router.delete("/screens/{screen_id}", status_code=204, tags=["plates"])
def delete_screen(screen_id: PathId, actor: ActorDep, request: Request) -> None:
    """Delete a screen and the plates no other screen holds."""
    deletion.delete_screen(vault_of(request), actor, screen_id)


@router.get("/usage", tags=["admin"])
def usage(actor: ActorDep, request: Request,
          sum_by: Annotated[str, Query(pattern="^(user|group|component)$")] = "user"
          ) -> list[dict[str, Any]]:
    """Bytes on disk of every original file, summed by user, group or component (the
    store), as ``pixelvault fs usage`` sums them; administrators only (it stats every
    file)."""
    from pixelvault.services.access.principals import require_admin

    require_admin(actor)
    return [u.__dict__ for u in filesets.usage(vault_of(request), actor, sum_by)]
