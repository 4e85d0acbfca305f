"""OMERO's JSON shapes as omero-marshal encodes them and OMERO.web serves them: the
pieces every OMERO.web route shares (details, permission flags, rights, paging)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from pixelvault.catalog import Actor, Right
from pixelvault.server.params import MAX_ID

OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06#"
MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_ID)]  # above MAX_LIMIT means MAX_LIMIT, as in OMERO


def api_root(request: Request) -> str:
    """The JSON API's absolute root, which OMERO.web's ``url:*`` links start with."""
    return str(request.base_url).rstrip("/") + "/api/v0/"


def flags(perm: str) -> dict[str, bool]:
    """omero-marshal's permission flags, read from OMERO's string form ("rwra--": user,
    group and world read and write, "a" for annotate; a group that may write may
    annotate too)."""
    return {"isUserRead": perm[0] == "r", "isUserWrite": perm[1] == "w",
            "isGroupRead": perm[2] == "r", "isGroupAnnotate": perm[3] in "aw",
            "isGroupWrite": perm[3] == "w", "isWorldRead": perm[4] == "r",
            "isWorldWrite": perm[5] == "w"}


def rights(actor: Actor, owner_id: int, group_id: int) -> dict[str, bool]:
    """What the caller may do with an object of ``owner_id`` in ``group_id``."""
    return {"canAnnotate": actor.may(Right.ANNOTATE, owner_id, group_id),
            "canDelete": actor.may(Right.DELETE, owner_id, group_id),
            "canEdit": actor.may(Right.EDIT, owner_id, group_id),
            "canLink": actor.may(Right.EDIT, owner_id, group_id)}


def details(actor: Actor, owner: Any, group: Any) -> dict[str, Any]:
    """An object's ``omero:details``: its owner, its group, and the caller's rights."""
    return {
        "owner": {"@id": owner.id, "@type": OME + "Experimenter", "UserName": owner.username,
                  "FirstName": owner.first_name, "LastName": owner.last_name},
        "group": {"@id": group.id, "@type": OME + "ExperimenterGroup", "Name": group.name},
        "permissions": {"@type": "TBD#Permissions", "perm": group.permissions,
                        **rights(actor, owner.id, group.id), **flags(group.permissions)},
    }


def page(data: list[dict[str, Any]], offset: int, limit: int, total: int) -> dict[str, Any]:
    """One page of a listing, with OMERO.web's ``meta`` block."""
    return {"data": data, "meta": {"offset": offset, "limit": limit, "maxLimit": MAX_LIMIT,
                                   "totalCount": total}}
