"""The two webclient pages clients read as HTML: the webclient itself (QuPath checks that
``/webclient/?show=image-ID`` answers, and reads the public user's id from its
``WEBCLIENT.USER`` line) and the search results table (QuPath's search reads its
rows, names, dates and groups with regular expressions, as OMERO.web writes them).

Both are small server-written pages with every value escaped; the full web
application is a page of its own.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pixelvault.catalog import Actor
from pixelvault.errors import InvalidInputError, PixelvaultError
from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import MAX_ID
from pixelvault.services.access import principals
from pixelvault.services.objects import containers
from pixelvault.services.search.index import index_of
from pixelvault.targets import parse_id

router = APIRouter(prefix="/webclient", tags=["omero-web"], route_class=JsonBodyRoute)
SHOW = re.compile(r"(project|dataset|image)-([0-9]{1,10})")
AnyId = Annotated[int | None, Query(ge=-1, le=MAX_ID)]  # OMERO's -1: any
KINDS = {"images": "image", "datasets": "dataset", "projects": "project"}
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><script>var WEBCLIENT = {{}}; WEBCLIENT.USER = {{'id': {user_id}, 'fullName': {name}}};
</script>
<h1>{title}</h1>
{body}
</body></html>
"""


def _script_string(value: str) -> str:
    """A JavaScript string literal that cannot close the script element it sits in."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")


def _full_name(actor: Actor, request: Request) -> str:
    users, _ = principals.names(vault_of(request).catalog, {actor.user_id}, set())
    user = users.get(actor.user_id)
    if user is None:
        return actor.username
    return " ".join(p for p in (user.first_name, user.last_name) if p) or user.username


@router.get("/", response_class=HTMLResponse)
def webclient(actor: ActorDep, request: Request,
              show: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    """The object named by ``show=image-ID`` (or project-, dataset-), if you may read it;
    404 if not."""
    body = "<p>pixelvault</p>"
    title = "pixelvault"
    if show:
        found = SHOW.fullmatch(show.split("|")[0])
        object_id = parse_id(found[2]) if found is not None else None
        if found is None or object_id is None:
            raise InvalidInputError("show= names an object: image-ID, dataset-ID or "
                                    "project-ID")
        kind = found[1]
        row = containers.get(vault_of(request).catalog, actor, kind, object_id)
        title = f"{kind.capitalize()} {row.id}: {row.name}"
        link = (f'<p><img src="/webgateway/render_thumbnail/{row.id}/" alt="thumbnail"></p>'
                if kind == "image" else "")
        body = f"<p>{html.escape(row.description or '')}</p>{link}"
    text = PAGE.format(title=html.escape(title), user_id=actor.user_id,
                       name=_script_string(_full_name(actor, request)), body=body)
    return HTMLResponse(text)


def _rfc2822(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment)


def _row(kind: str, row: Any, group: str) -> str:
    acquired = _rfc2822(row.acquisition_date) if kind == "image" else ""
    link = f"/webclient/?show={kind}-{row.id}"
    return (f'<tr id="{kind}-{row.id}" class="{kind}">'
            f'<td class="image"><a href="{link}">{kind}</a></td>'
            f'<td class="desc"><a>{html.escape(row.name)}</a></td>'
            f"<td class=\"date\" data-isodate='{acquired}'></td>"
            f"<td class=\"date\" data-isodate='{_rfc2822(row.created_at)}'></td>"
            f'<td class="group">{html.escape(group)}</td>'
            f'<td><a href="{link}">Browse</a></td></tr>')


@router.get("/load_searching/form/", response_class=HTMLResponse)
def load_searching(request: Request, actor: ActorDep,
                   query: Annotated[str, Query(max_length=4000)] = "",
                   datatype: Annotated[list[str] | None, Query(max_length=10)] = None,
                   searchGroup: AnyId = None,  # noqa: N803 - OMERO's names
                   ownedBy: AnyId = None) -> HTMLResponse:  # noqa: N803
    """OMERO.web's search results table for ``query``, of the ``datatype``s asked
    (images, datasets, projects), in ``searchGroup`` and ``ownedBy`` (OMERO's -1 or
    absent: all); each row as OMERO.web writes it. OMERO's ``field=`` and date
    fields are accepted; the search runs over every field."""
    kinds = [KINDS[d] for d in (datatype or list(KINDS)) if d in KINDS]
    rows: list[str] = []
    if query.strip() and kinds:
        vault = vault_of(request)
        found = index_of(vault).search(
            actor, query, kinds=kinds, limit=500,
            owner_id=ownedBy if ownedBy is not None and ownedBy >= 0 else None,
            group_id=searchGroup if searchGroup is not None and searchGroup >= 0 else None)
        hits = found["hits"]
        _, groups = principals.names(vault.catalog, set(),
                                     {int(h["group_id"]) for h in hits})
        for hit in hits:
            try:
                row = containers.get(vault.catalog, actor, hit["type"], int(hit["id"]))
            except PixelvaultError:  # gone since it was indexed
                continue
            group = groups.get(row.group_id)
            rows.append(_row(hit["type"], row, group.name if group else ""))
    table = ('<table id="dataTable"><thead><tr><th>Type</th><th>Name</th><th>Acquired</th>'
             "<th>Imported</th><th>Group</th><th></th></tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>")
    return HTMLResponse(f"<!DOCTYPE html>\n<html><body>{table}</body></html>\n")
