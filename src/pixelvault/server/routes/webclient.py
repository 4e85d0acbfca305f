"""OMERO.web's webclient routes that clients call: keeping and ending a session, and
where an object sits in the tree.

QuPath's OMERO extension pings ``keepalive_ping`` every minute and logs back in
(by session uuid) when the ping fails. OMERO.web answers 200 "Connection Failed"
for an ended session, so such a client never notices; here an ended session is a
403, so the client's own recovery runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

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
from pixelvault.server.params import QueryId
from pixelvault.services.access import auth
from pixelvault.services.objects import paths

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
