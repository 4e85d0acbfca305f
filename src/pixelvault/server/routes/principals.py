"""Users, groups and memberships. Creating them is for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import BodyId, PathId
from pixelvault.services.access import principals

router = APIRouter(prefix="/api/v1", tags=["users"], route_class=JsonBodyRoute)


class UserOut(BaseModel):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    is_admin: bool
    group_ids: list[int]


class NewUser(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=255)]
    first_name: Annotated[str, Field(max_length=255)] = ""
    last_name: Annotated[str, Field(max_length=255)] = ""
    email: Annotated[str, Field(max_length=255)] = ""
    groups: Annotated[list[Annotated[str, Field(max_length=255)] | BodyId],
                      Field(min_length=1, max_length=100)]
    password: Annotated[str | None, Field(max_length=1024)] = None
    admin: bool = False


class GroupOut(BaseModel):
    id: int
    name: str
    permissions: str
    description: str


class NewGroup(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    type: str = "private"
    description: Annotated[str, Field(max_length=10_000)] = ""


class UserChange(BaseModel):
    """What an administrator may change of a user; a field left out stays."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not a no-op

    first_name: Annotated[str | None, Field(max_length=255)] = None
    last_name: Annotated[str | None, Field(max_length=255)] = None
    email: Annotated[str | None, Field(max_length=255)] = None
    admin: bool | None = None


class GroupChange(BaseModel):
    """`type` is OMERO's level name; a field left out stays."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, Field(min_length=1, max_length=255)] = None
    type: Annotated[str | None, Field(max_length=32)] = None
    description: Annotated[str | None, Field(max_length=10_000)] = None


class NewMember(BaseModel):
    user_id: BodyId
    owner: bool = False


@router.get("/users", response_model=list[UserOut])
def list_users(actor: ActorDep, request: Request) -> list[UserOut]:
    """Yourself and the members of your groups (administrators: everyone)."""
    return [UserOut(**u.__dict__) for u in principals.list_users(vault_of(request).catalog,
                                                                 actor)]


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: PathId, actor: ActorDep, request: Request) -> UserOut:
    return UserOut(**principals.get_user(vault_of(request).catalog, actor, user_id).__dict__)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: NewUser, actor: ActorDep, request: Request) -> UserOut:
    catalog = vault_of(request).catalog
    user_id = principals.create_user(catalog, actor, body.username, body.first_name,
                                     body.last_name, body.groups, password=body.password,
                                     email=body.email, admin=body.admin)
    return UserOut(**principals.get_user(catalog, actor, user_id).__dict__)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: PathId, body: UserChange, actor: ActorDep, request: Request
                ) -> UserOut:
    """Administrators only; nobody takes the administrator flag from themselves or root."""
    catalog = vault_of(request).catalog
    principals.update_user(catalog, actor, user_id, first_name=body.first_name,
                           last_name=body.last_name, email=body.email, admin=body.admin)
    return UserOut(**principals.get_user(catalog, actor, user_id).__dict__)


@router.get("/groups", response_model=list[GroupOut], tags=["groups"])
def list_groups(actor: ActorDep, request: Request) -> list[GroupOut]:
    """Your groups (administrators: every group)."""
    return [GroupOut(**g.__dict__) for g in principals.list_groups(vault_of(request).catalog,
                                                                   actor)]


@router.post("/groups", response_model=GroupOut, status_code=201, tags=["groups"])
def create_group(body: NewGroup, actor: ActorDep, request: Request) -> GroupOut:
    """`type` is OMERO's: private, read-only, read-annotate or read-write."""
    catalog = vault_of(request).catalog
    principals.create_group(catalog, actor, body.name, principals.parse_level(body.type),
                            body.description)
    return next(GroupOut(**g.__dict__) for g in principals.list_groups(catalog, actor)
                if g.name == body.name)


@router.patch("/groups/{group_id}", response_model=GroupOut, tags=["groups"])
def update_group(group_id: PathId, body: GroupChange, actor: ActorDep, request: Request
                 ) -> GroupOut:
    """Rename, describe or change the permission level (private, read-only,
    read-annotate, read-write). Going private is refused while links join different
    members' data, as in OMERO."""
    catalog = vault_of(request).catalog
    principals.update_group(catalog, actor, group_id, name=body.name,
                            description=body.description,
                            level=None if body.type is None else principals.parse_level(body.type))
    return next(GroupOut(**g.__dict__) for g in principals.list_groups(catalog, actor)
                if g.id == group_id)


@router.post("/groups/{group_id}/members", status_code=204, tags=["groups"])
def add_member(group_id: PathId, body: NewMember, actor: ActorDep, request: Request) -> None:
    principals.add_member(vault_of(request).catalog, actor, group_id, body.user_id,
                          owner=body.owner)


@router.delete("/groups/{group_id}/members/{user_id}", status_code=204, tags=["groups"])
def remove_member(group_id: PathId, user_id: PathId, actor: ActorDep,
                  request: Request) -> None:
    """Administrators and the group's owners; never the user's last group."""
    principals.remove_member(vault_of(request).catalog, actor, group_id, user_id)
