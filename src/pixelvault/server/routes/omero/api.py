"""OMERO.web's JSON API (`/api/v0/`), so scripts and clients written for it work unchanged.

Same paths, paging (``offset``, ``limit`` up to 500), filters (``owner``,
``group``) and JSON shapes (``@id``, ``@type``, ``omero:details`` with
permission flags, a ``meta`` block) as OMERO-REFERENCE §10. Sessions are
browser sessions: ``token/`` sets the CSRF cookie, ``login/`` takes a form and
the ``X-CSRFToken`` header and sets the session cookie, as in OMERO.web.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pixelvault import __version__
from pixelvault.catalog import Actor
from pixelvault.errors import AuthenticationError, InvalidInputError
from pixelvault.server import jsonbody
from pixelvault.server.auth import (
    CSRF_COOKIE,
    ActorDep,
    check_csrf,
    start_browser_session,
    vault_of,
)
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.omero_marshal import (
    OME,
    Listing,
    ListingDep,
    api_root,
    details,
    normalized,
    page,
)
from pixelvault.server.params import MAX_ID, PathId, QueryId
from pixelvault.services.access import auth, principals
from pixelvault.services.objects import containers

router = APIRouter(prefix="/api", tags=["OMERO.web JSON API (v0)"],
                   route_class=JsonBodyRoute)
TYPES = {"project": "Project", "dataset": "Dataset", "image": "Image"}
PLURAL = {"project": "projects", "dataset": "datasets", "image": "images"}
MAX_BODY = 1 << 20


def _length(value: float | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"@type": "TBD#LengthI", "Unit": "MICROMETER", "Symbol": "µm", "Value": value}


def _wavelength(value: float | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"@type": "TBD#LengthI", "Unit": "NANOMETER", "Symbol": "nm", "Value": value}


def _channel(row: Any, details: dict[str, Any]) -> dict[str, Any]:
    """One channel as omero-marshal encodes it for OMERO.web: its colour as Red, Green,
    Blue and Alpha, and its logical channel's fields flattened in (pixelvault keeps one
    row for both, so the logical channel's id is the channel's). Fields the image does
    not have are left out, as the encoder's ``set_if_not_none`` does."""
    block: dict[str, Any] = {"@id": row.id, "@type": OME + "Channel"}
    if row.color is not None:
        rgba = row.color & 0xFFFFFFFF
        block.update({"Alpha": rgba & 0xFF, "Blue": (rgba >> 8) & 0xFF,
                      "Green": (rgba >> 16) & 0xFF, "Red": (rgba >> 24) & 0xFF})
    block["omero:LogicalChannelId"] = row.id
    for key, value in (("EmissionWavelength", _wavelength(row.emission_wavelength)),
                       ("ExcitationWavelength", _wavelength(row.excitation_wavelength)),
                       ("Name", row.name or None)):
        if value is not None:
            block[key] = value
    block["omero:details"] = details
    return block


def _pixels(row: Any, details: dict[str, Any]) -> dict[str, Any]:
    """OMERO.web's Pixels block of an image."""
    block: dict[str, Any] = {
        "@id": row.id, "@type": OME + "Pixels", "SizeX": row.size_x, "SizeY": row.size_y,
        "SizeZ": row.size_z, "SizeC": row.size_c, "SizeT": row.size_t,
        "SignificantBits": row.significant_bits,
        "Type": {"@type": "TBD#PixelsType", "value": row.pixel_type},
        "omero:details": details,
    }
    for key, value in (("PhysicalSizeX", row.physical_size_x),
                       ("PhysicalSizeY", row.physical_size_y),
                       ("PhysicalSizeZ", row.physical_size_z)):
        if value is not None:
            block[key] = _length(value)
    if row.time_increment is not None:
        block["TimeIncrement"] = {"@type": "TBD#TimeI", "Unit": "SECOND", "Symbol": "s",
                                  "Value": row.time_increment}
    return block


def objects_json(request: Request, actor: Actor, kind: str,
                 rows: list[Any]) -> list[dict[str, Any]]:
    catalog = vault_of(request).catalog
    users, groups = principals.names(catalog, {r.owner_id for r in rows},
                                     {r.group_id for r in rows})
    pixels = containers.pixels_of(catalog, actor, [r.id for r in rows]) \
        if kind == "image" else {}
    base = api_root(request)
    out = []
    for row in rows:
        obj: dict[str, Any] = {
            "@id": row.id, "@type": OME + TYPES[kind], "Name": row.name,
            "Description": row.description,
            "omero:details": details(actor, users[row.owner_id], groups[row.group_id]),
            f"url:{kind}": f"{base}m/{PLURAL[kind]}/{row.id}/",
        }
        if kind == "project":
            obj["url:datasets"] = f"{base}m/projects/{row.id}/datasets/"
        elif kind == "dataset":
            obj["url:images"] = f"{base}m/datasets/{row.id}/images/"
            obj["url:projects"] = f"{base}m/datasets/{row.id}/projects/"
        elif row.id in pixels:
            obj["Pixels"] = _pixels(pixels[row.id], obj["omero:details"])
        if getattr(row, "child_count", None) is not None:
            obj["omero:childCount"] = int(row.child_count)
        out.append(obj)
    return out


def _page(request: Request, actor: Actor, kind: str, options: Listing,
          parent: tuple[str, int] | None = None,
          child: tuple[str, int] | None = None) -> dict[str, Any]:
    found = containers.listing(
        vault_of(request).catalog, actor, kind, offset=options.offset, limit=options.limit,
        owner=options.owner, group=options.group, parent=parent, child=child,
        orphaned=options.orphaned and kind in containers.PARENTS,
        child_count=options.child_count and kind in containers.LINKS)
    answer = page(objects_json(request, actor, kind, found.rows), options.offset,
                  options.limit, found.total)
    return normalized(answer) if options.normalize else answer


@router.get("/")
def versions(request: Request) -> dict[str, Any]:
    return {"data": [{"version": "0", "url:base": api_root(request)}]}


@router.get("/v0/")
def discovery(request: Request) -> dict[str, str]:
    base = api_root(request)
    return {f"url:{name}": f"{base}{path}" for name, path in (
        ("experimenters", "m/experimenters/"), ("experimentergroups", "m/experimentergroups/"),
        ("projects", "m/projects/"), ("datasets", "m/datasets/"), ("images", "m/images/"),
        ("screens", "m/screens/"), ("plates", "m/plates/"), ("rois", "m/rois/"),
        ("token", "token/"), ("servers", "servers/"), ("login", "login/"), ("save", "m/save/"),
    )} | {"url:schema": OME.rstrip("#")}


@router.get("/v0/token/")
def token(request: Request, response: Response) -> dict[str, str]:
    """The CSRF token to send back as `X-CSRFToken` (also set as the csrftoken cookie)."""
    value = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response.set_cookie(CSRF_COOKIE, value, httponly=False, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return {"data": value}


@router.get("/v0/servers/")
def servers(request: Request) -> dict[str, Any]:
    settings = vault_of(request).settings
    return {"data": [{"id": 1, "host": settings.host, "port": settings.port,
                      "server": f"pixelvault {__version__}"}]}


# A session token (secrets.token_urlsafe(32)): what may be a session uuid in a login form.
SESSION_UUID = re.compile(r"[A-Za-z0-9_-]{43}")


@router.post("/v0/login/")
async def login(request: Request) -> JSONResponse:
    """Form fields `username`, `password` (and `server`, ignored: there is one)."""
    check_csrf(request)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInputError("login form too large")
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    if not form.get("username") or not form.get("password"):
        raise InvalidInputError("send the form fields username and password "
                                "(application/x-www-form-urlencoded)")
    vault = vault_of(request)
    address = request.client.host if request.client else ""
    try:
        if form["username"] == form["password"] and SESSION_UUID.fullmatch(form["username"]):
            # OMERO joins the session whose uuid is both user name and password
            result = await run_in_threadpool(
                auth.join, vault.catalog, vault.settings, form["username"],
                limiter=request.app.state.limiter, address=address)
        else:
            result = await run_in_threadpool(
                auth.login, vault.catalog, vault.settings, form["username"], form["password"],
                client=request.headers.get("user-agent", ""),
                limiter=request.app.state.limiter, address=address)
    except AuthenticationError:
        return JSONResponse({"message": "Login failed: wrong user name or password"},
                            status_code=403)
    actor = result.actor
    # The keys of OMERO.web's LoginView (webgateway/views.py), which builds them by hand
    # from the session's event context; pixelvault keeps no login events (-1, "User").
    response = JSONResponse({"success": True, "eventContext": {
        "sessionId": result.session_id, "sessionUuid": result.token,
        "userId": actor.user_id, "userName": actor.username, "groupId": actor.group_id,
        "groupName": _group_name(request, actor.group_id), "isAdmin": actor.is_admin,
        "eventId": -1, "eventType": "User",
        "memberOfGroups": sorted(actor.group_ids), "leaderOfGroups": sorted(actor.owned_group_ids),
    }})
    start_browser_session(request, response, result.token)
    return response


def _group_name(request: Request, group_id: int) -> str:
    _, groups = principals.names(vault_of(request).catalog, set(), {group_id})
    return groups[group_id].name if group_id in groups else ""


def _lists(kind: str) -> None:
    plural = PLURAL[kind]

    @router.get(f"/v0/m/{plural}/", name=f"v0_list_{plural}")
    def list_(request: Request, actor: ActorDep, options: ListingDep) -> dict[str, Any]:
        return _page(request, actor, kind, options)

    @router.get(f"/v0/m/{plural}/{{object_id}}/", name=f"v0_get_{kind}")
    def get(object_id: PathId, request: Request, actor: ActorDep,
            childCount: bool = False) -> dict[str, Any]:  # noqa: N803 (OMERO's name)
        catalog = vault_of(request).catalog
        row = containers.get(catalog, actor, kind, object_id)
        found = objects_json(request, actor, kind, [row])[0]
        if childCount and kind in containers.LINKS:
            _, child_kind = containers.LINKS[kind]
            found["omero:childCount"] = containers.listing(
                catalog, actor, child_kind, limit=1, parent=(kind, object_id)).total
        if "Pixels" in found:  # one image: OMERO.web loads its channels too
            found["Pixels"]["Channels"] = [
                _channel(channel, found["omero:details"])
                for channel in containers.channels_of(catalog, actor, object_id)]
        return {"data": found}


def _children(kind: str, child: str) -> None:
    @router.get(f"/v0/m/{PLURAL[kind]}/{{object_id}}/{PLURAL[child]}/",
                name=f"v0_{kind}_{PLURAL[child]}")
    def children(object_id: PathId, request: Request, actor: ActorDep,
                 options: ListingDep) -> dict[str, Any]:
        return _page(request, actor, child, options, parent=(kind, object_id))

    @router.get(f"/v0/m/{PLURAL[child]}/{{object_id}}/{PLURAL[kind]}/",
                name=f"v0_{child}_{PLURAL[kind]}")
    def parents(object_id: PathId, request: Request, actor: ActorDep,
                options: ListingDep) -> dict[str, Any]:
        return _page(request, actor, kind, options, child=(child, object_id))


for _kind in TYPES:
    _lists(_kind)
_children("project", "dataset")
_children("dataset", "image")


@router.api_route("/v0/m/save/", methods=["POST", "PUT"])
async def save(request: Request, actor: ActorDep,
               group: QueryId = None) -> JSONResponse:
    """POST creates, PUT updates a Project or Dataset from its JSON (`@type`, `Name`…)."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInputError("object JSON too large")
    data = jsonbody.loads(body)
    if not isinstance(data, dict):
        raise InvalidInputError("send one object as JSON")
    kind = next((k for k, name in TYPES.items()
                 if str(data.get("@type", "")).endswith("#" + name) and k != "image"), None)
    if kind is None:
        raise InvalidInputError("@type must be a Project or a Dataset")
    name, description = data.get("Name"), data.get("Description")
    if (name is not None and not isinstance(name, str)) or (
            description is not None and not isinstance(description, str)):
        raise InvalidInputError("Name and Description are strings")
    catalog = vault_of(request).catalog
    if request.method == "POST":
        row = await run_in_threadpool(containers.create, catalog, actor, kind, name or "",
                                      description or "", group)
        status = 201
    else:
        object_id = data.get("@id")
        if isinstance(object_id, bool) or not isinstance(object_id, int) \
                or not 0 <= object_id <= MAX_ID:  # JSON's true is no id, though Python's is
            raise InvalidInputError("PUT needs the object's @id")
        row = await run_in_threadpool(lambda: containers.update(
            catalog, actor, kind, object_id, name=name, description=description))
        status = 200
    obj = await run_in_threadpool(objects_json, request, actor, kind, [row])
    return JSONResponse({"data": obj[0]}, status_code=status)
