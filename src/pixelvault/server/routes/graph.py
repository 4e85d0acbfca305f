"""chgrp and chown: move a project, dataset or image with what it contains."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import BodyId
from pixelvault.services.objects import graph

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
