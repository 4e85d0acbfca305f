"""ROIs the way OMERO's clients read and save them: OMERO.web's ``/api/v0/m/rois/`` and
``m/shapes/``, OMERO.iviewer's ROI routes (``persist_rois``, ``rois_by_plane``,
``plane_shape_counts``, ``page_data``, ``shape_stats``) and webgateway's
``get_rois_json`` and ``render_shape_mask``.

``persist_rois`` answers as OMERO.iviewer's view does: HTTP 200 with the ids it
kept, and ``errors`` only when there are some (QuPath counts any answer holding
the word "error" as a failure). Each part (new, modified, emptied, deleted) is
one transaction; a part that fails changes nothing and says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pixelvault.catalog import Actor
from pixelvault.errors import InvalidInputError, NotFoundError, PixelvaultError
from pixelvault.formats import rois as model
from pixelvault.server import jsonbody
from pixelvault.server.auth import ActorDep, current_caller, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.omero_marshal import ListingDep, api_root, normalized, page
from pixelvault.server.omero_rois import decode_shape, encode_rois, webgateway_shape
from pixelvault.server.params import MAX_ID, PathId, QueryId
from pixelvault.services.objects import rois
from pixelvault.services.rendering import images
from pixelvault.services.rendering.shape_stats import shape_mask_png, shape_statistics

router = APIRouter(tags=["OMERO ROIs"], route_class=JsonBodyRoute)
MAX_PERSIST_BODY = 16 << 20
PlaneRange = Annotated[str, Path(max_length=24, pattern=r"^\d{1,9}(-\d{1,9})?$")]


def _listing(request: Request, actor: Actor, options: Any,
             image: int | None) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        found, total = rois.page(session, actor, image_id=image, offset=options.offset,
                                 limit=options.limit, owner=options.owner,
                                 group=options.group)
    answer = page(encode_rois(request, actor, found, True), options.offset, options.limit, total)
    return normalized(answer) if options.normalize else answer


@router.get("/api/v0/m/rois/")
def list_rois(request: Request, actor: ActorDep, options: ListingDep,
              image: QueryId = None) -> dict[str, Any]:
    """ROIs by id, each with every shape; ``image=`` keeps one image's (an image the
    caller cannot see has none, as in OMERO.web)."""
    return _listing(request, actor, options, image)


@router.get("/api/v0/m/images/{image_id}/rois/")
def image_rois(image_id: PathId, request: Request, actor: ActorDep,
               options: ListingDep) -> dict[str, Any]:
    return _listing(request, actor, options, image_id)


@router.get("/api/v0/m/rois/{roi_id}/")
def get_roi(roi_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        found = rois.get(session, actor, roi_id)
    return {"data": encode_rois(request, actor, [found], False)[0]}


@router.delete("/api/v0/m/rois/{roi_id}/")
def delete_roi(roi_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Removes the ROI with its shapes; answers it as it was, without its shapes."""
    with vault_of(request).catalog.session() as session:
        found = rois.get(session, actor, roi_id)
        rois.remove(session, actor, [roi_id])
    gone = rois.StoredRoi(found.id, found.image_id, found.owner_id, found.group_id,
                          found.name, found.description, ())
    return {"data": encode_rois(request, actor, [gone], False)[0]}


@router.get("/api/v0/m/shapes/{shape_id}/")
def get_shape(shape_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        roi, _ = rois.shape(session, actor, shape_id)
    shape = encode_rois(request, actor, [roi], False)[0]["shapes"][0]
    shape["url:roi"] = f"{api_root(request)}m/rois/{roi.id}/"
    return {"data": shape}


@router.delete("/api/v0/m/shapes/{shape_id}/")
def delete_shape(shape_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Removes one shape (and its ROI, if it was the last)."""
    with vault_of(request).catalog.session() as session:
        roi, _ = rois.shape(session, actor, shape_id)
        rois.remove_shapes(session, actor, {roi.id: [shape_id]})
    return {"data": encode_rois(request, actor, [roi], False)[0]["shapes"][0]}


# --- OMERO.iviewer ---------------------------------------------------------------------

def _span(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


@router.get("/iviewer/rois_by_plane/{image_id}/{z}/{t}/")
def rois_by_plane(image_id: PathId, z: PlaneRange, t: PlaneRange, request: Request,
                  actor: ActorDep, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                  limit: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> dict[str, Any]:
    """The ROIs with a shape on plane ``z``/``t`` (either may be a range START-END; a
    shape on every plane is on each), with all their shapes."""
    (z0, z1), (t0, t1) = _span(z), _span(t)
    limit = min(rois.MAX_PAGE, limit or rois.MAX_PAGE)
    with vault_of(request).catalog.session() as session:
        found, total = rois.page_by_planes(session, actor, image_id, (z0, z1), (t0, t1),
                                           offset=offset, limit=limit)
    return {"data": encode_rois(request, actor, found, False), "meta": {"totalCount": total}}


@router.get("/iviewer/plane_shape_counts/{image_id}/")
def plane_shape_counts(image_id: PathId, actor: ActorDep, request: Request) -> Any:
    """Shapes per plane, ``data[z][t]``."""
    images.INFO.get(vault_of(request), actor, image_id)  # 404 for an image not seen
    with vault_of(request).catalog.session() as session:
        return {"data": rois.plane_counts(session, actor, image_id)}


@router.get("/iviewer/{kind}/{object_id}/page_data/")
def page_data(kind: Annotated[str, Path(pattern="^(roi|shape)$")], object_id: PathId,
              actor: ActorDep, request: Request) -> dict[str, Any]:
    """Where a ROI (or a shape's ROI) falls in the viewer's list: its index among the
    image's ROIs, or among those on the shape's plane."""
    with vault_of(request).catalog.session() as session:
        if kind == "roi":
            roi = rois.get(session, actor, object_id)
            ids = rois.ids_of(session, actor, roi.image_id)
            plane: dict[str, Any] = {}
        else:
            roi, stored = rois.shape(session, actor, object_id)
            z, t = stored.shape.z, stored.shape.t
            ids = rois.ids_of(session, actor, roi.image_id, z, t)
            plane = {"theT": t, "theZ": z}
    return {"image": {"id": roi.image_id}, "roi": {"id": roi.id},
            "roi_index": ids.index(roi.id) if roi.id in ids else 0, "roi_count": len(ids),
            **plane}


@router.get("/iviewer/shape_stats/")
def shape_stats(actor: ActorDep, request: Request,
                ids: Annotated[str, Query(max_length=4000)] = "",
                z: Annotated[str, Query(max_length=12)] = "",
                t: Annotated[str, Query(max_length=12)] = "",
                cs: Annotated[str, Query(max_length=4000)] = "") -> JSONResponse:
    """Per channel, the pixels inside each shape on plane ``z``/``t``: how many, their
    minimum, maximum, sum, mean and standard deviation. Errors as iviewer reads them
    (HTTP 200 with ``error``)."""
    if not ids or not z or not t:
        return JSONResponse({"error": "Parameters ids, z and t are mandatory"})
    try:
        shape_ids = [int(part.rpartition(":")[2]) for part in ids.split(",") if part]
        channels = [int(c) for c in cs.split(",") if c] if cs else None
        plane_z, plane_t = int(z), int(t)
    except ValueError:
        return JSONResponse({"error": "Invalid Parameter types"})
    if len(shape_ids) > 500:
        raise InvalidInputError("at most 500 shapes at a time")
    return JSONResponse(shape_statistics(vault_of(request), actor, shape_ids, plane_z,
                                         plane_t, channels))


@router.get("/webgateway/render_shape_mask/{shape_id}/")
def render_shape_mask(shape_id: PathId, actor: ActorDep, request: Request) -> Response:
    """A Mask shape as a PNG, its pixels in the shape's fill colour (yellow if none)."""
    return Response(shape_mask_png(vault_of(request), actor, shape_id),
                    media_type="image/png")


@router.get("/webgateway/get_rois_json/{image_id}/")
def get_rois_json(image_id: PathId, actor: ActorDep, request: Request) -> list[Any]:
    """The image's ROIs in webgateway's older form (shapes by plane, lower-case keys)."""
    images.INFO.get(vault_of(request), actor, image_id)
    with vault_of(request).catalog.session() as session:
        found = list(rois.iterate(session, actor, image_id))
    return [{"id": roi.id, "shapes": [webgateway_shape(s) for s in sorted(
        roi.shapes, key=lambda s: f"{s.shape.z if s.shape.z is not None else -1:03d}"
                                  f"{s.shape.t if s.shape.t is not None else -1:03d}")]}
            for roi in found]


# --- saving -----------------------------------------------------------------------------

def _pair(text: Any) -> tuple[int, int]:
    roi, _, shape = str(text).partition(":")
    try:
        return int(roi), int(shape)
    except ValueError:
        raise InvalidInputError(f"{text!r} is not ROI:SHAPE ids") from None


def _new(session: Any, actor: Actor, image_id: int, shapes: list[Any],
         ids: dict[str, str]) -> None:
    """Each new shape becomes a ROI of its own, as OMERO.iviewer's view saves them."""
    decoded = [decode_shape(s, f"new shape {n + 1}") for n, s in enumerate(shapes)]
    made = rois.add(session, actor, image_id, [model.Roi(shapes=(s,)) for s in decoded],
                    "new shape")
    for data, (roi_id, [shape_id]) in zip(shapes, made, strict=True):
        ids[str(data.get("oldId", f"{roi_id}:{shape_id}"))] = f"{roi_id}:{shape_id}"


def _modified(session: Any, actor: Actor, image_id: int, shapes: list[Any],
              ids: dict[str, str]) -> None:
    changes: dict[int, tuple[int, model.Shape]] = {}
    for number, data in enumerate(shapes):
        if not isinstance(data, dict):
            raise InvalidInputError(f"modified shape {number + 1} is not a JSON object")
        shape_id = data.get("@id")
        if isinstance(shape_id, bool) or not isinstance(shape_id, int):
            raise InvalidInputError(f"modified shape {number + 1} has no @id")
        roi, stored = rois.shape(session, actor, shape_id)
        changes[shape_id] = (roi.id, decode_shape(data, f"shape {shape_id}",
                                                  mask=stored.shape.mask))
        old = str(data.get("oldId", f"{roi.id}:{shape_id}"))
        ids[old] = old
    rois.replace_shapes(session, actor, changes, image_id)


def _listed(block: Any, what: str) -> dict[int, list[int]]:
    if not isinstance(block, dict):
        raise InvalidInputError(f"{what} is an object: ROI id -> [\"roi:shape\", ...]")
    found: dict[int, list[int]] = {}
    for roi_id, pairs in block.items():
        if not isinstance(pairs, list):
            raise InvalidInputError(f"{what}: ROI {roi_id} lists no shapes")
        found.setdefault(_pair(f"{roi_id}:0")[0], []).extend(_pair(p)[1] for p in pairs)
    return found


def _emptied(session: Any, actor: Actor, image_id: int, block: Any,
             ids: dict[str, str]) -> None:
    listed = _listed(block, "empty_rois")
    rois.remove(session, actor, sorted(listed), image_id)
    _echo(block, ids)


def _deleted(session: Any, actor: Actor, image_id: int, block: Any,
             ids: dict[str, str]) -> None:
    rois.remove_shapes(session, actor, _listed(block, "deleted"), image_id)
    _echo(block, ids)


def _echo(block: dict[str, Any], ids: dict[str, str]) -> None:
    for pairs in block.values():
        for pair in pairs:
            ids[str(pair)] = str(pair)


def _persist(request: Request, actor: Actor, body: bytes) -> dict[str, Any]:
    try:
        sent = json.loads(body or b"{}")
    except (ValueError, RecursionError) as exc:
        return {"errors": [f"Failed to load json: {exc!r}"]}
    if not isinstance(sent, dict) or sent.get("imageId") is None:
        return {"errors": ["No image id provided!"]}
    changes = sent.get("rois")
    if not isinstance(changes, dict):
        return {"errors": ["Could not find rois object!"]}
    image_id = sent["imageId"]
    if isinstance(image_id, bool) or not isinstance(image_id, int) or \
            not 0 <= image_id <= MAX_ID:
        return {"errors": ["No image id provided!"]}
    vault = vault_of(request)
    try:
        images.INFO.get(vault, actor, image_id)
    except NotFoundError:
        return {"errors": ["Could not find associated image!"]}
    ids: dict[str, str] = {}
    errors: list[str] = []
    parts: tuple[tuple[str, str, type, Callable[[Any, Any], None]], ...] = (
             ("new", "Error persisting new rois: ", list,
              lambda s, v: _new(s, actor, image_id, v, ids)),
             ("modified", "Error modifying rois: ", list,
              lambda s, v: _modified(s, actor, image_id, v, ids)),
             ("empty_rois", "Error deleting empty rois: ", dict,
              lambda s, v: _emptied(s, actor, image_id, v, ids)),
             ("deleted", "Error deleting shapes: ", dict,
              lambda s, v: _deleted(s, actor, image_id, v, ids)))
    for key, prefix, kind, apply in parts:
        value = changes.get(key)
        if not value:
            continue
        try:
            if not isinstance(value, kind):
                raise InvalidInputError(f"{key} is a JSON {kind.__name__}")
            with vault.catalog.session() as session:
                apply(session, value)
        except PixelvaultError as exc:
            errors.append(prefix + str(exc))
    return {"ids": ids, **({"errors": errors} if errors else {})}


@router.api_route("/iviewer/persist_rois/", methods=["GET", "POST"],
                  max_body_size=MAX_PERSIST_BODY)
@router.api_route("/iviewer/persist_rois", methods=["GET", "POST"], include_in_schema=False,
                  max_body_size=MAX_PERSIST_BODY)
async def persist_rois(request: Request) -> JSONResponse:
    """Saves what the viewer changed: ``{"imageId", "rois": {"new": [shape...],
    "modified": [shape...], "empty_rois": {roi: ["roi:shape"...]}, "deleted": {...}}}``;
    answers ``{"ids": {oldId: "roi:shape"}}``."""
    if request.method == "GET":
        return JSONResponse({"errors": ["Use HTTP POST to send data!"]})
    caller = await run_in_threadpool(current_caller, request)
    body = await request.body()
    if len(body) > MAX_PERSIST_BODY:
        raise InvalidInputError(f"at most {MAX_PERSIST_BODY >> 20} MiB of ROIs at a time; "
                                "save fewer shapes at once")
    jsonbody.check_depth(body)
    return JSONResponse(await run_in_threadpool(_persist, request, caller.actor, body))
