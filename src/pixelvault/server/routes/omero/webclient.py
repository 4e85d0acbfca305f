"""OMERO.web's webclient routes that clients call: keeping and ending a session, where
an object sits in the tree, and the annotations on it.

QuPath's OMERO extension pings ``keepalive_ping`` every minute and logs back in
(by session uuid) when the ping fails. OMERO.web answers 200 "Connection Failed"
for an ended session, so such a client never notices; here an ended session is a
403, so the client's own recovery runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from pixelvault.catalog import Actor
from pixelvault.errors import AuthenticationError
from pixelvault.server.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ActorDep,
    CallerDep,
    current_caller,
    vault_of,
)
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.omero_marshal import rights
from pixelvault.server.params import QueryId
from pixelvault.services.access import auth, principals
from pixelvault.services.objects import annotation, paths

router = APIRouter(prefix="/webclient", tags=["omero-web"], route_class=JsonBodyRoute)


@router.get("/keepalive_ping/", response_class=PlainTextResponse)
def keepalive_ping(request: Request) -> PlainTextResponse:
    """"OK" while the caller's session lives (and keeps it from idling out)."""
    try:
        current_caller(request)
    except AuthenticationError:
        return PlainTextResponse("Connection Failed", status_code=403)
    return PlainTextResponse("OK")


@router.post("/logout/", status_code=204)
def logout(caller: CallerDep, request: Request, response: Response) -> None:
    """Ends the session (a cookie session must send its CSRF token, as a form field's
    value in ``X-CSRFToken`` like OMERO.web's clients do)."""
    if caller.session_id:
        auth.logout(vault_of(request).catalog, caller.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/api/paths_to_object/")
def paths_to_object(request: Request, actor: ActorDep, image: QueryId = None,
                    dataset: QueryId = None, project: QueryId = None) -> dict[str, Any]:
    """OMERO.web's ``{"paths": [[{"type", "id"}, ...], ...]}`` for the first of image,
    dataset or project given (screens, plates and wells are not in the catalog yet:
    asking for one answers no paths)."""
    catalog = vault_of(request).catalog
    for kind, object_id in (("image", image), ("dataset", dataset), ("project", project)):
        if object_id is not None:
            return {"paths": paths.paths_to(catalog, actor, kind, object_id)}
    return {"paths": []}


CLASSES = {"map": "MapAnnotationI", "tag": "TagAnnotationI", "comment": "CommentAnnotationI",
           "file": "FileAnnotationI"}
PARENT_CLASSES = {"project": "ProjectI", "dataset": "DatasetI", "image": "ImageI"}


def _annotation(actor: Actor, kind: str, object_id: int,
                linked: annotation.LinkedAnnotation) -> dict[str, Any]:
    """One annotation as OMERO.web's ``webclient/tree.py _marshal_annotation`` writes it."""
    info = linked.annotation
    out: dict[str, Any] = {
        "id": info.id, "ns": info.namespace or None, "class": CLASSES[info.type],
        "owner": {"id": info.owner_id}, "date": info.created_at.isoformat(),
        "permissions": rights(actor, info.owner_id, info.group_id),
        "link": {"id": linked.link_id, "owner": {"id": linked.link_owner_id},
                 "parent": {"id": object_id, "class": PARENT_CLASSES[kind]},
                 "date": linked.linked_at.isoformat(),
                 "permissions": rights(actor, linked.link_owner_id, linked.link_group_id)},
    }
    if info.type == "map":
        out["values"] = [[key, value] for key, value in info.values]
    elif info.file is not None:
        out["file"] = {"id": info.file.id, "name": info.file.name, "size": info.file.size,
                       "path": "", "mimetype": info.file.mimetype}
    else:
        out["textValue"] = info.text
    return out


@router.get("/api/annotations/")
def api_annotations(request: Request, actor: ActorDep, image: QueryId = None,
                    dataset: QueryId = None, project: QueryId = None) -> dict[str, Any]:
    """OMERO.web's ``{"annotations": [...], "experimenters": [...]}`` for the objects
    named (screens, plates, wells and runs are not in the catalog yet: none)."""
    catalog = vault_of(request).catalog
    found: list[dict[str, Any]] = []
    for kind, object_id in (("image", image), ("dataset", dataset), ("project", project)):
        if object_id is not None:
            found += [_annotation(actor, kind, object_id, linked) for linked in
                      annotation.linked_annotations(catalog, actor, kind, object_id)]
    people = {a["owner"]["id"] for a in found} | {a["link"]["owner"]["id"] for a in found}
    users, _ = principals.names(catalog, people, set())
    return {"annotations": found, "experimenters": [
        {"id": user.id, "omeName": user.username, "firstName": user.first_name,
         "lastName": user.last_name} for user in sorted(users.values(), key=lambda u: u.id)]}
