"""OMERO.web's experimenters and groups (``/api/v0/m/experimenters/``,
``m/experimentergroups/``), each user's groups and each group's members: only the
users and groups the caller may see, as the catalog's queries filter them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pixelvault.catalog import Actor
from pixelvault.errors import NotFoundError
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.omero_marshal import MAX_LIMIT, OME, Limit, api_root, flags, page
from pixelvault.server.params import Offset, PathId
from pixelvault.services.access import principals

router = APIRouter(prefix="/api", tags=["OMERO.web JSON API (v0)"],
                   route_class=JsonBodyRoute)


def _experimenter(request: Request, user: principals.UserInfo) -> dict[str, Any]:
    return {"@id": user.id, "@type": OME + "Experimenter", "UserName": user.username,
            "FirstName": user.first_name, "LastName": user.last_name, "Email": user.email,
            "url:experimentergroups":
                f"{api_root(request)}m/experimenters/{user.id}/experimentergroups/"}


def _experimenter_group(request: Request, group: principals.GroupInfo) -> dict[str, Any]:
    return {"@id": group.id, "@type": OME + "ExperimenterGroup", "Name": group.name,
            "Description": group.description,
            "omero:details": {"permissions": {"@type": "TBD#Permissions",
                                              "perm": group.permissions,
                                              **flags(group.permissions)}},
            "url:experimenters":
                f"{api_root(request)}m/experimentergroups/{group.id}/experimenters/"}


def _visible_group(request: Request, actor: Actor, group_id: int) -> principals.GroupInfo:
    for group in principals.list_groups(vault_of(request).catalog, actor):
        if group.id == group_id:
            return group
    raise NotFoundError(f"no group with id {group_id}")


def _meta(items: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    limit = min(limit, MAX_LIMIT)
    return page(items[offset:offset + limit], offset, limit, len(items))


@router.get("/v0/m/experimenters/")
def experimenters(request: Request, actor: ActorDep, offset: Offset = 0,
                  limit: Limit = 200) -> dict[str, Any]:
    users = principals.list_users(vault_of(request).catalog, actor)
    return _meta([_experimenter(request, u) for u in users], offset, limit)


@router.get("/v0/m/experimenters/{user_id}/")
def experimenter(user_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    return {"data": _experimenter(request, principals.get_user(vault_of(request).catalog,
                                                               actor, user_id))}


@router.get("/v0/m/experimenters/{user_id}/experimentergroups/")
def groups_of_experimenter(user_id: PathId, request: Request, actor: ActorDep,
                           offset: Offset = 0, limit: Limit = 200) -> dict[str, Any]:
    """The groups of a user the caller may see, among those the caller may see."""
    catalog = vault_of(request).catalog
    user = principals.get_user(catalog, actor, user_id)
    groups = [g for g in principals.list_groups(catalog, actor) if g.id in user.group_ids]
    return _meta([_experimenter_group(request, g) for g in groups], offset, limit)


@router.get("/v0/m/experimentergroups/")
def experimenter_groups(request: Request, actor: ActorDep, offset: Offset = 0,
                        limit: Limit = 200) -> dict[str, Any]:
    groups = principals.list_groups(vault_of(request).catalog, actor)
    return _meta([_experimenter_group(request, g) for g in groups], offset, limit)


@router.get("/v0/m/experimentergroups/{group_id}/")
def experimenter_group(group_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    return {"data": _experimenter_group(request, _visible_group(request, actor, group_id))}


@router.get("/v0/m/experimentergroups/{group_id}/experimenters/")
def experimenters_of_group(group_id: PathId, request: Request, actor: ActorDep,
                           offset: Offset = 0, limit: Limit = 200) -> dict[str, Any]:
    """A visible group's members, among the users the caller may see."""
    _visible_group(request, actor, group_id)
    users = [u for u in principals.list_users(vault_of(request).catalog, actor)
             if group_id in u.group_ids]
    return _meta([_experimenter(request, u) for u in users], offset, limit)
