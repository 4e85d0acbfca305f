"""OMERO.web's rendering-settings routes, as OMERO.iviewer, QuPath and the webclient use
them: save (``saveImgRDef``), copy and paste (``copyImgRDef``, ``getImgRDef``), reset
(``resetRDef``, ``applyOwnersRDef``), every user's settings (``get_image_rdefs_json``)
and rendering with a complete set given in the URL (``render_image_rdef``).

Where OMERO.web answers ``true`` without saving (settings on an image the user may
not annotate) or a 500 (too few channels in ``c=``), these answer 403 and 400 with
the reason: a client that checks the answer learns that nothing was kept.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from pixelvault.catalog import Actor
from pixelvault.errors import InvalidInputError, PixelvaultError
from pixelvault.render import luts, params
from pixelvault.render.settings import HEX
from pixelvault.server import jsonbody, jsonp, rendered
from pixelvault.server.auth import ActorDep, Caller, CallerDep, current_caller, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import PathId, id_list
from pixelvault.services.access import principals
from pixelvault.services.objects import containers
from pixelvault.services.rendering import clipboard, images
from pixelvault.services.rendering import settings as rendering
from pixelvault.targets import parse_id

router = APIRouter(tags=["omero-web"], route_class=JsonBodyRoute)
MAX_TARGETS = 10_000
MAX_FIELDS = 1000


def _save(request: Request, actor: Actor, image_id: int) -> None:
    vault = vault_of(request)
    info = images.INFO.get(vault, actor, image_id)
    current = rendering.effective(vault, actor, image_id).settings
    wanted = params.to_save(rendered.query_of(request), current, info.size_z, info.size_t)
    rendering.set_settings(vault, actor, image_id, wanted)
    images.clear_caches()


def _save_route(prefix: str) -> None:
    @router.post(f"/{prefix}/saveImgRDef/{{image_id}}/", name=f"{prefix}_save_rdef")
    def save_image_rdef(image_id: PathId, actor: ActorDep, request: Request) -> Response:
        """The channels (``c=``, all of them, each with window and colour), ``m=``,
        ``maps=`` and default ``z=``/``t=`` (from 1) in the query, kept as the caller's own
        settings; answers ``true``."""
        _save(request, actor, image_id)
        return jsonp.answer(request, True)


def _toids(form: Any) -> list[int]:
    found = id_list(form.getlist("toids"), "toids", MAX_TARGETS)
    if not found:
        raise InvalidInputError("name the objects in toids= (and their type in to_type=)")
    return found


def _images(request: Request, actor: Actor, to_type: str, ids: list[int]) -> list[int]:
    """The images named, or those in the datasets named (the ones the actor may read)."""
    kind = to_type.lower() or "image"
    if kind == "image":
        return ids
    if kind != "dataset":
        raise InvalidInputError(f"to_type={to_type[:20]!r}: use image or dataset (screens, plates "
                                "and acquisitions hold no images here yet)")
    catalog = vault_of(request).catalog
    found: list[int] = []
    for dataset_id in ids:
        found += [row.id for row in containers.listing(
            catalog, actor, "image", limit=MAX_TARGETS, parent=("dataset", dataset_id)).rows]
        if len(found) > MAX_TARGETS:
            raise InvalidInputError(f"those datasets hold more than {MAX_TARGETS} images; "
                                    "name fewer at a time")
    return found


def _many(action: str) -> None:
    @router.post(f"/webgateway/{action}/", name=f"webgateway_{action}")
    async def reset(request: Request) -> Response:
        """Form fields ``toids`` (repeated or comma-separated) and ``to_type`` (image or
        dataset); answers the ids of the images whose settings were set."""
        await run_in_threadpool(current_caller, request)  # the caller first, then the body
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)

        def work() -> list[int]:
            actor = current_caller(request).actor
            ids = _images(request, actor, str(form.get("to_type", "image")), _toids(form))
            vault = vault_of(request)
            done = (rendering.apply_owners if action == "applyOwnersRDef"
                    else rendering.reset_many)(vault, actor, ids)
            images.clear_caches()
            return done

        return jsonp.answer(request, await run_in_threadpool(work))


def _copied(vault: Any, actor: Actor, image_id: int) -> dict[str, Any]:
    """What OMERO.web's getImgRDef makes of the image settings were copied from."""
    settings = rendering.effective(vault, actor, image_id).settings
    info = images.INFO.get(vault, actor, image_id)
    low, high = rendering.type_range(info.pixel_type)
    return {"c": params.channels_text(settings), "m": settings.model,
            "pixel_range": f"{low:g}:{high:g}", "imageId": image_id,
            "maps": [{"inverted": {"enabled": c.inverted},
                      "quantization": {"coefficient": 1.0, "family": "linear"}}
                     for c in settings.channels]}


def _get_route(prefix: str) -> None:
    @router.get(f"/{prefix}/getImgRDef/", name=f"{prefix}_get_rdef")
    def get_image_rdef(caller: CallerDep, request: Request) -> Response:
        """The rendering settings this session copied (``{"rdef": null}`` if none)."""
        vault = vault_of(request)
        held = clipboard.get(vault.catalog, caller.session_id) if caller.session_id else None
        rdef = None
        if held and isinstance(held.get("rdef"), dict):
            rdef = held["rdef"]
        elif held and isinstance(held.get("fromid"), int):
            try:
                rdef = _copied(vault, caller.actor, held["fromid"])
            except PixelvaultError:  # gone, or no longer readable: nothing to paste
                rdef = None
        return jsonp.answer(request, {"rdef": rdef})


def _keep(request: Request, caller: Caller, content: dict[str, Any]) -> None:
    if not caller.session_id:
        raise InvalidInputError("copying settings needs a login session")
    clipboard.put(vault_of(request).catalog, caller.session_id, content)


def _paste(request: Request, caller: Caller, query: dict[str, str], form: Any) -> Any:
    vault, actor = vault_of(request), caller.actor
    targets = _images(request, actor, str(form.get("to_type", "image")), _toids(form))
    held = clipboard.get(vault.catalog, caller.session_id) if caller.session_id else None
    source = parse_id(query["fromid"]) if "fromid" in query else (held or {}).get("fromid")
    if "fromid" in query and source is None:
        raise InvalidInputError(f"fromid={query['fromid'][:20]!r} is not an image id")
    rdef = {k: query[k] for k in ("c", "m", "maps") if k in query} or \
        (held or {}).get("rdef") or {}
    done: list[int] = []
    failed: list[int] = []
    for target in targets:
        try:
            if source is not None:
                rendering.copy(vault, actor, source, [target])
            elif rdef:
                info = images.INFO.get(vault, actor, target)
                current = rendering.effective(vault, actor, target).settings
                wanted = params.parse({k: str(v) if not isinstance(v, list) else _maps(v)
                                       for k, v in rdef.items() if k in ("c", "m", "maps")},
                                      current, info.size_z, info.size_t).settings
                rendering.set_settings(vault, actor, target, wanted)
            else:
                raise InvalidInputError("nothing was copied: copy settings first")
            done.append(target)
        except (PixelvaultError, ValueError):
            failed.append(target)
    images.clear_caches()
    return {"true": done, "false": failed}


def _maps(entries: list[Any]) -> str:
    return json.dumps(entries)


def _parsed_maps(text: str) -> list[Any]:
    """``maps=`` as OMERO.web keeps it with copied settings: the parsed list (a viewer
    reads ``rdef.maps`` back as one); what does not parse is left out, as there."""
    if len(text) > params.MAX_TEXT:
        raise InvalidInputError(f"maps= is longer than {params.MAX_TEXT} characters")
    jsonbody.check_depth(text.encode())
    try:
        found = json.loads(text) if text else []
    except (ValueError, RecursionError):
        return []
    return found if isinstance(found, list) else []


def _copy_route(prefix: str) -> None:
    @router.api_route(f"/{prefix}/copyImgRDef/", methods=["GET", "POST"],
                      name=f"{prefix}_copy_rdef")
    async def copy_image_rdef(request: Request) -> Response:
        """GET ``?fromid=`` copies an image's settings, GET with ``c=``/``m=``/``maps=``
        copies those settings; POST with form ``toids``/``to_type`` pastes them,
        answering ``{"true": [ids], "false": [ids]}``."""
        await run_in_threadpool(current_caller, request)  # the caller first, then the body
        form = await request.form(max_files=0, max_fields=MAX_FIELDS) \
            if request.method == "POST" else None
        query = rendered.query_of(request)

        def work() -> Any:
            caller = current_caller(request)
            if request.method == "GET" or form is None or not form.getlist("toids"):
                if "c" in query:
                    _keep(request, caller, {"rdef": {
                        "c": query["c"], "m": query.get("m", ""),
                        "maps": _parsed_maps(query.get("maps", "")), "pixel_range":
                        query.get("pixel_range", ""),
                        "imageId": parse_id(query.get("imageId", ""))}})
                    return True
                image_id = parse_id(query.get("fromid", ""))
                if image_id is not None:
                    images.INFO.get(vault_of(request), caller.actor, image_id)  # readable?
                    _keep(request, caller, {"fromid": image_id})
                    return True
                raise InvalidInputError("copy with ?fromid=IMAGE (or c=, m=, maps=); paste "
                                        "by POSTing toids= and to_type=")
            return _paste(request, caller, query, form)

        return jsonp.answer(request, await run_in_threadpool(work))


def _owner(names: dict[int, tuple[str, str]], owner_id: int) -> dict[str, Any]:
    first, last = names.get(owner_id, ("", ""))
    return {"id": owner_id, "firstName": first, "lastName": last}


@router.get("/webgateway/get_image_rdefs_json/{image_id}/")
def get_image_rdefs(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    """Every user's saved settings for the image, newest first, in omero-py's shape."""
    vault = vault_of(request)
    kept = rendering.everyones(vault, actor, image_id)
    users, _ = principals.names(vault.catalog, {k.owner_id for k in kept}, set())
    names = {i: (u.first_name, u.last_name) for i, u in users.items()}

    def channel(c: Any) -> dict[str, Any]:
        colour = c.color if HEX.match(c.color) else "FFFFFF"  # stored before it was checked
        entry = {"active": c.active, "start": c.start, "end": c.end, "color": colour,
                 "inverted": c.inverted, "reverseIntensity": c.inverted, "family": "linear",
                 "coefficient": 1.0, "rgb": {"red": int(colour[0:2], 16),
                                             "green": int(colour[2:4], 16),
                                             "blue": int(colour[4:6], 16)}}
        if c.lut and luts.canonical(c.lut):
            entry["lut"] = luts.BY_NAME[luts.canonical(c.lut) or ""].file_name
        return entry

    return jsonp.answer(request, {"rdefs": [{
        "id": k.rdef_id, "owner": _owner(names, k.owner_id),
        "z": k.settings.default_z, "t": k.settings.default_t,
        "model": "greyscale" if k.settings.model == "greyscale" else "rgb",
        "c": [channel(c) for c in k.settings.channels]} for k in kept]})


def _complete(request: Request, actor: Actor, image_id: int) -> None:
    """``render_image_rdef`` wants the whole rendering in the URL, as saving does."""
    vault = vault_of(request)
    info = images.INFO.get(vault, actor, image_id)
    params.to_save(rendered.query_of(request), rendering.effective(vault, actor, image_id)
                   .settings, info.size_z, info.size_t)


@router.get("/webgateway/render_image_rdef/{image_id}/")
def render_image_rdef(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    """render_image, with every channel's window and colour and the model given."""
    _complete(request, actor, image_id)
    return rendered.plane(request, actor, image_id, None, None)


@router.get("/webgateway/render_image_rdef/{image_id}/{z}/")
def render_image_rdef_z(image_id: PathId, z: PathId, actor: ActorDep,
                        request: Request) -> Response:
    _complete(request, actor, image_id)
    return rendered.plane(request, actor, image_id, z, None)


@router.get("/webgateway/render_image_rdef/{image_id}/{z}/{t}/")
def render_image_rdef_zt(image_id: PathId, z: PathId, t: PathId, actor: ActorDep,
                         request: Request) -> Response:
    _complete(request, actor, image_id)
    return rendered.plane(request, actor, image_id, z, t)


@router.get("/webgateway/render_image_region_rdef/{image_id}/{z}/{t}/")
def render_image_region_rdef(image_id: PathId, z: PathId, t: PathId, actor: ActorDep,
                             request: Request) -> Response:
    _complete(request, actor, image_id)
    return rendered.region(request, actor, image_id, z, t)


for _prefix in ("webgateway", "webclient"):
    _save_route(_prefix)
    _get_route(_prefix)
    _copy_route(_prefix)
for _action in ("resetRDef", "applyOwnersRDef"):
    _many(_action)
