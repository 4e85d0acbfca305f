"""chgrp, chown and delete of a graph: what moves or goes with an object, asked first
with ``dry_run`` as OMERO's pages ask before they act."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import BodyId
from pixelvault.services.objects import deletion, graph
from pixelvault.targets import parse_target

router = APIRouter(prefix="/api/v1", tags=["chgrp and chown"], route_class=JsonBodyRoute)

Targets = Annotated[list[Annotated[str, Field(max_length=64)]],
                    Field(min_length=1, max_length=graph.MAX_TARGETS)]


class Moved(BaseModel):
    project: list[int]
    dataset: list[int]
    image: list[int]
    annotation: list[int]
    fileset: list[int]
    screen: list[int]
    plate: list[int]


class GraphChange(BaseModel):
    """What moved (or would, with ``dry_run``) and how many links to what stays were cut."""

    dry_run: bool
    moved: Moved
    unlinked: dict[str, int]


class Chgrp(BaseModel):
    group_id: BodyId
    targets: Targets = Field(examples=[["Project:51", "Image:3"]])
    dry_run: bool = False


class Chown(BaseModel):
    user_id: BodyId
    targets: Targets = Field(examples=[["Dataset:7"]])
    dry_run: bool = False


def _answer(result: graph.Graph, dry_run: bool) -> dict[str, Any]:
    return {"dry_run": dry_run, **result.summary()}


@router.post("/chgrp", response_model=GraphChange)
def chgrp(body: Chgrp, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Move objects to another group (OMERO's `chgrp`)."""
    targets = [graph.parse_target(t) for t in body.targets]
    result = graph.chgrp(vault_of(request).catalog, actor, targets, body.group_id,
                         dry_run=body.dry_run)
    return _answer(result, body.dry_run)


@router.post("/chown", response_model=GraphChange)
def chown(body: Chown, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Give objects to another user (OMERO's `chown`)."""
    targets = [graph.parse_target(t) for t in body.targets]
    result = graph.chown(vault_of(request).catalog, actor, targets, body.user_id,
                         dry_run=body.dry_run)
    return _answer(result, body.dry_run)


DELETABLE = ("Project", "Dataset", "Image", "Fileset", "Plate", "Screen")


class Delete(BaseModel):
    target: Annotated[str, Field(max_length=64, examples=["Image:3"])]
    dry_run: bool = False


class DeleteAnswer(BaseModel):
    """What went (or would go, with ``dry_run``): the images, plates and filesets by id,
    how many annotations only the object held, its images' ROIs, and the original files
    (fileset files and attachments) with their bytes; ``bytes_in_background``: a big
    delete whose rows are gone and whose bytes a job worker is removing (PostgreSQL)."""

    dry_run: bool
    kind: str
    id: int
    images: list[int]
    plates: list[int]
    filesets: list[int]
    annotations: int
    rois: int
    original_files: int
    bytes: int
    bytes_in_background: bool = False


@router.post("/delete", response_model=DeleteAnswer, tags=["delete"])
def delete(body: Delete, actor: ActorDep, request: Request) -> dict[str, Any]:
    """Delete ``Kind:ID`` as its own ``DELETE`` route does, or with ``dry_run`` only say
    what would go (the same transaction, rolled back): a page's confirmation."""
    kind, object_id = parse_target(body.target, DELETABLE)
    vault = vault_of(request)
    if kind == "fileset":
        gone = deletion.delete_fileset(vault, actor, object_id, dry_run=body.dry_run)
    elif kind == "plate":
        gone = deletion.delete_plate(vault, actor, object_id, dry_run=body.dry_run)
    elif kind == "screen":
        gone = deletion.delete_screen(vault, actor, object_id, dry_run=body.dry_run)
    else:
        gone = deletion.delete_object(vault, actor, kind, object_id, dry_run=body.dry_run)
    return {"dry_run": body.dry_run, **gone.summary()}
