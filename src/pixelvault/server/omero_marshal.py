"""OMERO's JSON shapes as omero-marshal encodes them and OMERO.web serves them: the
pieces every OMERO.web route shares (details, permission flags, rights, paging)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from pixelvault.catalog import Actor, Right
from pixelvault.server.params import MAX_ID, Offset, QueryId

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


def normalized(answer: dict[str, Any]) -> dict[str, Any]:
    """OMERO.web's ``normalize=true``: each object's owner and group become their
    ``@id``, and the full experimenters and groups are listed once at the top."""
    experimenters: dict[int, Any] = {}
    groups: dict[int, Any] = {}
    for obj in answer["data"]:
        for key, seen in (("owner", experimenters), ("group", groups)):
            full = obj["omero:details"][key]
            seen.setdefault(full["@id"], full)
            obj["omero:details"] = {**obj["omero:details"], key: {"@id": full["@id"]}}
            if "Pixels" in obj:
                obj["Pixels"]["omero:details"] = obj["omero:details"]
    answer["experimenters"] = list(experimenters.values())
    answer["experimenterGroups"] = list(groups.values())
    return answer


@dataclass(frozen=True)
class Listing:
    """OMERO.web's listing options (its other parameters are ignored, as OMERO.web
    ignores those it does not know)."""

    offset: int = 0
    limit: int = 200
    owner: int | None = None
    group: int | None = None
    child_count: bool = False
    orphaned: bool = False
    normalize: bool = False


def listing_options(offset: Offset = 0, limit: Limit = 200, owner: QueryId = None,
             group: QueryId = None, childCount: bool = False,  # noqa: N803 (OMERO's)
             orphaned: bool = False, normalize: bool = False) -> Listing:
    return Listing(offset, min(limit, MAX_LIMIT), owner, group, childCount, orphaned,
                   normalize)


ListingDep = Annotated[Listing, Depends(listing_options)]
