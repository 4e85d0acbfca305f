"""Projects and datasets: list with paging and filters, get, create, update, delete."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, field_serializer

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.encoding import utc_iso
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import MAX_ID, BodyId, Offset, PathId, QueryId
from pixelvault.services.objects import containers, deletion

router = APIRouter(prefix="/api/v1", route_class=JsonBodyRoute)

MAX_LIMIT = 500


class ContainerOut(BaseModel):
    id: int
    name: str
    description: str
    owner_id: int
    group_id: int
    created_at: datetime
    updated_at: datetime

    @field_serializer("created_at", "updated_at")
    def _utc(self, moment: datetime) -> str:
        return utc_iso(moment)


class Listing(BaseModel):
    data: list[ContainerOut]
    offset: int
    limit: int
    total: int
    after: int  # the ids listed are above it (keyset paging)


# keyset paging: pass the last id of a page as ``after`` for the next one; as fast at
# the ten-thousandth page as at the first, where an offset reads every row before it
After = Annotated[int, Query(ge=0, le=MAX_ID, description=(
    "Only ids above this one: the last id of the page before (keyset paging)."))]


class NewContainer(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=containers.MAX_NAME)]
    description: Annotated[str, Field(max_length=containers.MAX_DESCRIPTION)] = ""
    group_id: BodyId | None = None


class ContainerChange(BaseModel):
    name: Annotated[str | None, Field(min_length=1, max_length=containers.MAX_NAME)] = None
    description: Annotated[str | None, Field(max_length=containers.MAX_DESCRIPTION)] = None


def _out(row: Any) -> ContainerOut:
    return ContainerOut.model_validate(row, from_attributes=True)


def _page(page: containers.JsonPage, offset: int, limit: int, after: int) -> Response:
    """The Listing JSON around the array the database wrote."""
    body = (f'{{"data":{page.data},"offset":{offset},"limit":{limit},"total":{page.total},'
            f'"after":{after}}}')
    return Response(body.encode("utf-8"), media_type="application/json")


def _routes(kind: str, plural: str, *, creatable: bool = True) -> None:
    tag: list[str | Enum] = [plural]

    @router.get(f"/{plural}", response_model=Listing, tags=tag, name=f"list_{plural}")
    def list_(actor: ActorDep, request: Request,
              offset: Offset = 0,
              limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
              owner: QueryId = None, group: QueryId = None, after: After = 0) -> Response:
        page = containers.listing_json(vault_of(request).catalog, actor, kind, offset=offset,
                                       limit=limit, owner=owner, group=group, after=after)
        return _page(page, offset, limit, after)

    if creatable:
        @router.post(f"/{plural}", response_model=ContainerOut, status_code=201, tags=tag,
                     name=f"create_{kind}")
        def create(body: NewContainer, actor: ActorDep, request: Request) -> ContainerOut:
            return _out(containers.create(vault_of(request).catalog, actor, kind, body.name,
                                          body.description, body.group_id))

    @router.get(f"/{plural}/{{object_id}}", response_model=ContainerOut, tags=tag,
                name=f"get_{kind}")
    def get(object_id: PathId, actor: ActorDep, request: Request) -> ContainerOut:
        return _out(containers.get(vault_of(request).catalog, actor, kind, object_id))

    @router.patch(f"/{plural}/{{object_id}}", response_model=ContainerOut, tags=tag,
                  name=f"update_{kind}")
    def update(object_id: PathId, body: ContainerChange, actor: ActorDep,
               request: Request) -> ContainerOut:
        return _out(containers.update(vault_of(request).catalog, actor, kind, object_id,
                                      name=body.name, description=body.description))

    @router.delete(f"/{plural}/{{object_id}}", status_code=204, tags=tag,
                   name=f"delete_{kind}")
    def delete(object_id: PathId, actor: ActorDep, request: Request) -> None:
        deletion.delete_object(vault_of(request), actor, kind, object_id)


class NewLink(BaseModel):
    child_id: BodyId


def _children(kind: str, plural: str, child_plural: str) -> None:
    tag: list[str | Enum] = [plural]

    @router.get(f"/{plural}/{{object_id}}/{child_plural}", response_model=Listing, tags=tag,
                name=f"list_{kind}_{child_plural}")
    def children(object_id: PathId, actor: ActorDep, request: Request, offset: Offset = 0,
                 limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
                 after: After = 0) -> Response:
        page = containers.listing_json(vault_of(request).catalog, actor, child_plural[:-1],
                                       offset=offset, limit=limit, parent=(kind, object_id),
                                       after=after)
        return _page(page, offset, limit, after)

    @router.post(f"/{plural}/{{object_id}}/{child_plural}", status_code=204, tags=tag,
                 name=f"link_{kind}_{child_plural}")
    def add(object_id: PathId, body: NewLink, actor: ActorDep, request: Request) -> None:
        containers.link(vault_of(request).catalog, actor, kind, object_id, body.child_id)

    @router.delete(f"/{plural}/{{object_id}}/{child_plural}/{{child_id}}", status_code=204,
                   tags=tag, name=f"unlink_{kind}_{child_plural}")
    def remove(object_id: PathId, child_id: PathId, actor: ActorDep, request: Request) -> None:
        containers.unlink(vault_of(request).catalog, actor, kind, object_id, child_id)


_routes("project", "projects")
_routes("dataset", "datasets")
_routes("image", "images", creatable=False)  # images come from import
_children("project", "projects", "datasets")
_children("dataset", "datasets", "images")
