"""OMERO.figure's data routes (``/figure/...``), answered as its Django views answer
them: an image's data with the keys figure adds (pixel sizes with unit and symbol,
time offsets, parents by type), panels rendered from any region of a big image,
and figures saved, listed, opened and deleted as file annotations, the way OMERO
stores them.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from pixelvault.catalog import Actor
from pixelvault.errors import InvalidInputError, PixelvaultError
from pixelvault.server import jsonbody, rendered
from pixelvault.server.auth import ActorDep, current_caller, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.omero_marshal import Limit
from pixelvault.server.omero_rois import encode_rois
from pixelvault.server.params import Offset, PathId, id_list
from pixelvault.services.access import principals
from pixelvault.services.objects import containers, figures, paths, rois
from pixelvault.services.rendering import image_data, images
from pixelvault.services.rendering import settings as rendering
from pixelvault.targets import parse_id

router = APIRouter(prefix="/figure", tags=["omero-figure"], route_class=JsonBodyRoute)
MAX_FIGURE_FORM = figures.MAX_FIGURE + (1 << 20)
MAX_IMAGES = 500


def _parents(request: Request, actor: Actor, image_id: int) -> dict[str, dict[str, Any]]:
    """The image's parents by type, from every path to it (a later path wins, as in
    OMERO.figure), each with its name."""
    catalog = vault_of(request).catalog
    found: dict[str, dict[str, Any]] = {}
    every = paths.paths_to(catalog, actor, "image", image_id)
    for path in every[-1:]:  # a later path wins in OMERO.figure: only the last one counts
        for step in path:
            if step["type"] == "orphaned":
                continue
            entry = {k: v for k, v in step.items() if k != "type"}
            if step["type"] == "experimenter":
                users, _ = principals.names(catalog, {step["id"]}, set())
                entry["name"] = users[step["id"]].username if step["id"] in users else ""
            else:
                entry["name"] = containers.get(catalog, actor, step["type"], step["id"]).name
            found[step["type"]] = entry
    return found


@router.get("/imgData/{image_id}/")
def figure_img_data(image_id: PathId, actor: ActorDep, request: Request) -> dict[str, Any]:
    """imgData with ``pixel_size.valueX/symbolX/unitX`` (and Y, Z), ``deltaT`` in
    seconds and ``parents``."""
    return image_data.for_figure(vault_of(request), actor, image_id,
                                 _parents(request, actor, image_id))


@router.get("/render_scaled_region/{image_id}/{z}/{t}/")
def render_scaled_region(image_id: PathId, z: PathId, t: PathId, actor: ActorDep,
                         request: Request) -> Response:
    """``region=x,y,w,h`` of a big image (it may reach past the edges), from the level
    that makes its longest side at most 2000 pixels, with the usual ``c=``, ``m=``,
    ``p=``, ``maps=``."""
    vault = vault_of(request)
    return rendered.answer(images.scaled_region(
        vault, actor, image_id, z, t, rendered.query_of(request), vault.settings.max_region,
        request.headers.get("if-none-match")))


@router.get("/render_thumbnail/{image_id}/")
def figure_thumbnail(image_id: PathId, actor: ActorDep, request: Request) -> Response:
    """The image's thumbnail, for the figure list."""
    return rendered.thumbnail(request, actor, image_id, None, None)


def _image_ids(request: Request) -> list[int]:
    return id_list(request.query_params.getlist("image"), "image", MAX_IMAGES)


def _each(request: Request, actor: Actor, make: Any) -> dict[str, Any]:
    """``{id: make(...)}`` for the images named that the actor may read."""
    found = {}
    for image_id in _image_ids(request):
        try:
            found[str(image_id)] = make(image_id)
        except PixelvaultError:  # unreadable or gone: left out, as OMERO.figure does
            continue
    return found


@router.get("/timestamps/")
def timestamps(actor: ActorDep, request: Request) -> dict[str, Any]:
    """Each image's time offsets in seconds, ``?image=1&image=2``."""
    vault = vault_of(request)
    return _each(request, actor, lambda i: image_data.delta_t_of(vault, actor, i)["delta_t"])


@router.get("/z_scale/")
def z_scale(actor: ActorDep, request: Request) -> dict[str, Any]:
    """Each image's z step with unit and symbol (images without one are left out)."""
    vault = vault_of(request)
    found = {}
    for key, data in _each(request, actor, lambda i: image_data.image_data(
            vault, actor, i)["pixel_size"]).items():
        if data["z"] is not None:
            found[key] = {"valueZ": data["z"], "symbolZ": image_data.MICROMETRE[1],
                          "unitZ": image_data.MICROMETRE[0]}
    return found


@router.get("/pixels_type/")
def pixels_type(actor: ActorDep, request: Request) -> dict[str, Any]:
    vault = vault_of(request)

    def one(image_id: int) -> dict[str, Any]:
        info = images.INFO.get(vault, actor, image_id)
        return {"pixelsType": info.pixel_type,
                "pixel_range": list(rendering.type_range(info.pixel_type))}

    return _each(request, actor, one)


@router.get("/roiCount/{image_id}/")
def roi_count(image_id: PathId, actor: ActorDep, request: Request,
              shapes: Annotated[str, Query(max_length=8)] = "") -> dict[str, Any]:
    """How many ROIs (and, with ``shapes``, shapes) of the image the caller may see."""
    vault = vault_of(request)
    images.INFO.get(vault, actor, image_id)
    with vault.catalog.session() as session:
        count = rois.count(session, actor, image_id)
        if not shapes:
            return {"roi": count}
        return {"roi": count, "shape": rois.shape_count(session, actor, image_id)}


@router.get("/roiRectangles/{image_id}/")
def roi_rectangles(image_id: PathId, actor: ActorDep, request: Request,
                   offset: Offset = 0, limit: Limit = 500) -> dict[str, Any]:
    """The image's ROIs that hold a Rectangle, in omero-marshal's JSON (figure's crop
    dialog offers them)."""
    vault = vault_of(request)
    images.INFO.get(vault, actor, image_id)
    with vault.catalog.session() as session:
        found, total = rois.page(session, actor, image_id=image_id, kind="rectangle",
                                 offset=offset, limit=min(limit, rois.MAX_PAGE))
    return {"data": encode_rois(request, actor, found, False), "meta": {"totalCount": total}}


@router.get("/unit_conversion/{value}/{from_unit}/{to_unit}/")
def unit_conversion(value: float, from_unit: Annotated[str, Path(max_length=20)],
                    to_unit: Annotated[str, Path(max_length=20)],
                    actor: ActorDep) -> dict[str, Any]:
    """A length from one of OMERO's units to another (``MICROMETER``, ``NANOMETER``...),
    for figure's scale bars and magnification alignment."""
    sizes = {name: (symbol, size) for name, symbol, size in image_data.LENGTH_UNITS}
    if from_unit not in sizes or to_unit not in sizes or not math.isfinite(value):
        raise InvalidInputError(f"convert a finite length between {', '.join(sizes)}")
    return {"value": value * sizes[from_unit][1] / sizes[to_unit][1], "unit": to_unit,
            "symbol": sizes[to_unit][0]}


@router.get("/images_details/")
def images_details(actor: ActorDep, request: Request) -> dict[str, Any]:
    """Name, group and owner of each image named (``?image=1,2``) that you may read."""
    catalog = vault_of(request).catalog
    rows = _each(request, actor, lambda i: containers.get(catalog, actor, "image", i))
    users, groups = principals.names(catalog, {r.owner_id for r in rows.values()},
                                     {r.group_id for r in rows.values()})
    found = []
    for row in rows.values():
        owner, group = users.get(row.owner_id), groups.get(row.group_id)
        found.append({"id": row.id, "name": row.name,
                      "group": {"id": row.group_id, "name": group.name if group else ""},
                      "owner": {"id": row.owner_id,
                                "firstName": owner.first_name if owner else "",
                                "lastName": owner.last_name if owner else ""}})
    return {"data": found}


async def _form(request: Request) -> Any:
    await run_in_threadpool(current_caller, request)  # before the body is read
    return await request.form(max_files=0, max_fields=20, max_part_size=MAX_FIGURE_FORM)


@router.post("/save_web_figure/", response_class=PlainTextResponse,
             max_body_size=4 * MAX_FIGURE_FORM)
async def save_web_figure(request: Request) -> PlainTextResponse:
    """Form field ``figureJSON`` (and ``fileId`` to save a new version of that figure);
    answers the figure's id as text."""
    form = await _form(request)
    text = form.get("figureJSON")
    if not isinstance(text, str) or not text:
        raise InvalidInputError("send the figure in the form field figureJSON")
    if len(text) > figures.MAX_FIGURE:
        raise InvalidInputError(f"a figure of more than {figures.MAX_FIGURE >> 20} MiB")
    jsonbody.check_depth(text.encode())
    given = str(form.get("fileId", "")).strip()
    file_id = parse_id(given) if given else None
    if given and file_id is None:
        raise InvalidInputError(f"fileId={given[:20]!r} is not a figure id")

    def work() -> int:
        return figures.save(vault_of(request), current_caller(request).actor, text, file_id)

    return PlainTextResponse(str(await run_in_threadpool(work)))


@router.get("/list_web_figures/")
def list_web_figures(actor: ActorDep, request: Request) -> list[dict[str, Any]]:
    """The figures you may open, in all your groups."""
    found = []
    for figure in figures.listing(vault_of(request), actor):
        owner = figure.owner
        full = " ".join(p for p in (owner.first_name, owner.last_name) if p) or owner.username
        found.append({"id": figure.id, "name": figure.name, "description": figure.description,
                      "ownerFullName": full,
                      "owner": {"id": owner.id, "firstName": owner.first_name,
                                "lastName": owner.last_name},
                      "group": {"id": figure.group.id, "name": figure.group.name},
                      "creationDate": image_data.seconds(figure.created_at),
                      "canEdit": figure.can_edit})
    return found


@router.get("/load_web_figure/{file_id}/")
def load_web_figure(file_id: PathId, actor: ActorDep, request: Request) -> JSONResponse:
    """The figure's JSON, with ``canEdit``, ``group`` and ``figureName``."""
    return JSONResponse(figures.load(vault_of(request), actor, file_id))


@router.post("/chgrp/")
async def move_figure(request: Request) -> dict[str, Any]:
    """Form fields ``ann_id`` (the figure) and ``group_id``: the figure moved there."""
    form = await _form(request)
    file_id = parse_id(str(form.get("ann_id", "")))
    group_id = parse_id(str(form.get("group_id", "")))
    if file_id is None or group_id is None:
        raise InvalidInputError("send the figure's id in ann_id and the group's in group_id")

    def work() -> None:
        figures.move(vault_of(request), current_caller(request).actor, file_id, group_id)

    await run_in_threadpool(work)
    return {"success": True}


@router.post("/delete_web_figure/", response_class=PlainTextResponse)
async def delete_web_figure(request: Request) -> PlainTextResponse:
    """Form field ``fileId``: the figure deleted, with its file."""
    form = await _form(request)
    file_id = parse_id(str(form.get("fileId", "")))
    if file_id is None:
        raise InvalidInputError("send the figure's id in the form field fileId")

    def work() -> None:
        figures.remove(vault_of(request), current_caller(request).actor, file_id)

    await run_in_threadpool(work)
    return PlainTextResponse("Deleted OK")
