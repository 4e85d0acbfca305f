"""Screens, plates, runs and wells as OMERO.web serves them: ``/api/v0/m/screens/``,
``m/plates/``, ``m/plateacquisitions/``, ``m/wells/`` and their nestings in
omero-marshal's JSON, webgateway's plate grid (``/webgateway/plate/{id}/...``) and
OMERO.iviewer's ``well_images``.

QuPath asks for some of these without the trailing slash (``m/wells/{id}``), so each
single-object route answers both spellings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from pixelvault.catalog import Actor
from pixelvault.catalog.models import Plate, PlateAcquisition, Screen, Well
from pixelvault.server import jsonp
from pixelvault.server.auth import ActorDep, vault_of
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
from pixelvault.server.routes.omero.api import objects_json
from pixelvault.services.access import principals
from pixelvault.services.objects import plates

router = APIRouter(tags=["OMERO plates"], route_class=JsonBodyRoute)
Index = Annotated[int, Query(ge=0, le=MAX_ID)]


def _both(path: str, handler: Callable[..., Any], name: str) -> None:
    """Serve ``path`` with and without its trailing slash."""
    router.add_api_route(path, handler, methods=["GET"], name=name)
    router.add_api_route(path.rstrip("/"), handler, methods=["GET"], name=f"{name}_bare",
                         include_in_schema=False)


def _ms(moment: Any) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def _details(request: Request, actor: Actor, rows: list[Any]) -> list[dict[str, Any]]:
    users, groups = principals.names(vault_of(request).catalog, {r.owner_id for r in rows},
                                     {r.group_id for r in rows})
    return [details(actor, users[r.owner_id], groups[r.group_id]) for r in rows]


def _set(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        out[key] = value


def _screen(row: Screen, block: dict[str, Any], base: str) -> dict[str, Any]:
    out = {"@id": row.id, "@type": OME + "Screen", "omero:details": block}
    _set(out, "Name", row.name)
    _set(out, "Description", row.description)
    out["url:plates"] = f"{base}m/screens/{row.id}/plates/"
    return out


def _plate(row: Plate, block: dict[str, Any], base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"@id": row.id, "@type": OME + "Plate", "omero:details": block}
    _set(out, "Name", row.name)
    _set(out, "Description", row.description)
    out.update({"ColumnNamingConvention": row.column_naming,
                "RowNamingConvention": row.row_naming, "Columns": row.columns,
                "Rows": row.rows, "FieldIndex": row.field_index})
    _set(out, "ExternalIdentifier", row.external_identifier)
    _set(out, "Status", row.status)
    out.update({"url:screens": f"{base}m/plates/{row.id}/screens/",
                "url:wells": f"{base}m/plates/{row.id}/wells/",
                "url:plateacquisitions": f"{base}m/plates/{row.id}/plateacquisitions/"})
    return out


def _run(row: PlateAcquisition, block: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"@id": row.id, "@type": OME + "PlateAcquisition",
                           "omero:details": block}
    _set(out, "Name", row.name)
    _set(out, "Description", row.description)
    _set(out, "MaximumFieldCount", row.maximum_field_count)
    _set(out, "StartTime", _ms(row.start_time))
    _set(out, "EndTime", _ms(row.end_time))
    return out


def _indices(out: dict[str, Any], span: list[int], prefix: str) -> None:
    out["omero:wellsampleIndex"] = span
    out["url:wellsampleindex_wells"] = [f"{prefix}/wellsampleindex/{i}/wells/"
                                        for i in range(span[0], span[1] + 1)] if span else []


def _length(value: float | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"@type": "TBD#LengthI", "Unit": "MICROMETER", "Symbol": "µm", "Value": value}


def _wells(request: Request, actor: Actor, found: list[tuple[Well, list[plates.Field]]],
           with_urls: bool) -> list[dict[str, Any]]:
    base = api_root(request)
    well_blocks = _details(request, actor, [w for w, _ in found])
    samples = [f for _, fields in found for f in fields]
    images = objects_json(request, actor, "image", [f.image for f in samples])
    image_of = {f.image.id: block for f, block in zip(samples, images, strict=True)}
    sample_blocks = iter(_details(request, actor, [f.sample for f in samples]))
    runs = {f.run.id: f.run for f in samples if f.run is not None}
    run_blocks = dict(zip(runs, _details(request, actor, list(runs.values())), strict=True))
    out = []
    for (well, fields), block in zip(found, well_blocks, strict=True):
        item: dict[str, Any] = {"@id": well.id, "@type": OME + "Well", "omero:details": block,
                                "Column": well.column, "Row": well.row}
        _set(item, "Color", well.color)
        _set(item, "Type", well.type)
        _set(item, "ExternalDescription", well.external_description)
        entries = []
        for field in fields:
            entry: dict[str, Any] = {"@id": field.sample.id, "@type": OME + "WellSample",
                                     "omero:details": next(sample_blocks)}
            _set(entry, "PositionX", _length(field.sample.position_x))
            _set(entry, "PositionY", _length(field.sample.position_y))
            _set(entry, "Timepoint", _ms(field.sample.timepoint))
            entry["Image"] = image_of[field.image.id]
            if field.run is not None:
                entry["PlateAcquisition"] = _run(field.run, run_blocks[field.run.id])
            entries.append(entry)
        if entries:
            item["WellSamples"] = entries
        if with_urls:
            item["url:well"] = f"{base}m/wells/{well.id}/"
        item["url:plates"] = f"{base}m/wells/{well.id}/plates/"
        out.append(item)
    return out


def _filter(options: Listing) -> plates.Filter:
    return plates.Filter(options.offset, options.limit, options.owner, options.group)


def _answer(options: Listing, data: list[dict[str, Any]], total: int) -> dict[str, Any]:
    answer = page(data, options.offset, options.limit, total)
    return normalized(answer) if options.normalize else answer


# --- screens ---------------------------------------------------------------------------

def _screen_page(request: Request, actor: Actor, options: Listing,
                 plate: int | None) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        rows, total = plates.screens(session, actor, _filter(options), plate=plate)
        counts = plates.plate_counts(session, actor, [r.id for r in rows]) \
            if options.child_count else {}
    base = api_root(request)
    data = []
    for row, block in zip(rows, _details(request, actor, rows), strict=True):
        item = _screen(row, block, base)
        item["url:screen"] = f"{base}m/screens/{row.id}/"
        if options.child_count:
            item["omero:childCount"] = counts.get(row.id, 0)
        data.append(item)
    return _answer(options, data, total)


def list_screens(request: Request, actor: ActorDep, options: ListingDep,
                 plate: QueryId = None) -> dict[str, Any]:
    return _screen_page(request, actor, options, plate)


def plate_screens(plate_id: PathId, request: Request, actor: ActorDep,
                  options: ListingDep) -> dict[str, Any]:
    return _screen_page(request, actor, options, plate_id)


def get_screen(screen_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        row = plates.get(session, actor, Screen, screen_id, "screen")
    return {"data": _screen(row, _details(request, actor, [row])[0], api_root(request))}


# --- plates ----------------------------------------------------------------------------

def _plate_page(request: Request, actor: Actor, options: Listing, *,
                screen: int | None = None, well: int | None = None) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        rows, total = plates.plates(session, actor, _filter(options), screen=screen,
                                    well=well, orphaned=options.orphaned)
    base = api_root(request)
    data = []
    for row, block in zip(rows, _details(request, actor, rows), strict=True):
        item = _plate(row, block, base)
        item["url:plate"] = f"{base}m/plates/{row.id}/"
        data.append(item)
    return _answer(options, data, total)


def list_plates(request: Request, actor: ActorDep, options: ListingDep,
                screen: QueryId = None, well: QueryId = None) -> dict[str, Any]:
    return _plate_page(request, actor, options, screen=screen, well=well)


def screen_plates(screen_id: PathId, request: Request, actor: ActorDep,
                  options: ListingDep) -> dict[str, Any]:
    return _plate_page(request, actor, options, screen=screen_id)


def well_plates(well_id: PathId, request: Request, actor: ActorDep,
                options: ListingDep) -> dict[str, Any]:
    return _plate_page(request, actor, options, well=well_id)


def get_plate(plate_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        row = plates.get(session, actor, Plate, plate_id, "plate")
        span = plates.field_range(session, actor, plate=plate_id)
    base = api_root(request)
    item = _plate(row, _details(request, actor, [row])[0], base)
    _indices(item, span, f"{base}m/plates/{plate_id}")
    return {"data": item}


# --- plate acquisitions ----------------------------------------------------------------

def plate_runs(plate_id: PathId, request: Request, actor: ActorDep,
               options: ListingDep) -> dict[str, Any]:
    base = api_root(request)
    with vault_of(request).catalog.session() as session:
        rows, total = plates.runs(session, actor, _filter(options), plate_id)
        spans = [plates.field_range(session, actor, run=r.id) for r in rows]
    data = []
    for row, block, span in zip(rows, _details(request, actor, rows), spans, strict=True):
        item = _run(row, block)
        item["url:plateacquisition"] = f"{base}m/plateacquisitions/{row.id}/"
        _indices(item, span, f"{base}m/plateacquisitions/{row.id}")
        data.append(item)
    return _answer(options, data, total)


def get_run(run_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        row = plates.get(session, actor, PlateAcquisition, run_id, "plate acquisition")
        span = plates.field_range(session, actor, run=run_id)
    item = _run(row, _details(request, actor, [row])[0])
    _indices(item, span, f"{api_root(request)}m/plateacquisitions/{run_id}")
    return {"data": item}


# --- wells -----------------------------------------------------------------------------

def _well_page(request: Request, actor: Actor, options: Listing, *, plate: int | None = None,
               run: int | None = None, field: int | None = None) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        found, total = plates.wells(session, actor, _filter(options), plate=plate, run=run,
                                    field=field)
        data = _wells(request, actor, found, True)
    return _answer(options, data, total)


def list_wells(request: Request, actor: ActorDep, options: ListingDep,
               plate: QueryId = None) -> dict[str, Any]:
    return _well_page(request, actor, options, plate=plate)


def plate_wells(plate_id: PathId, request: Request, actor: ActorDep,
                options: ListingDep) -> dict[str, Any]:
    return _well_page(request, actor, options, plate=plate_id)


def plate_index_wells(plate_id: PathId, index: PathId, request: Request, actor: ActorDep,
                      options: ListingDep) -> dict[str, Any]:
    return _well_page(request, actor, options, plate=plate_id, field=index)


def run_wells(run_id: PathId, request: Request, actor: ActorDep,
              options: ListingDep) -> dict[str, Any]:
    return _well_page(request, actor, options, run=run_id)


def run_index_wells(run_id: PathId, index: PathId, request: Request, actor: ActorDep,
                    options: ListingDep) -> dict[str, Any]:
    return _well_page(request, actor, options, run=run_id, field=index)


def get_well(well_id: PathId, request: Request, actor: ActorDep) -> dict[str, Any]:
    with vault_of(request).catalog.session() as session:
        well = plates.get(session, actor, Well, well_id, "well")
        fields = plates.fields_of(session, actor, [well_id]).get(well_id, [])
        return {"data": _wells(request, actor, [(well, fields)], False)[0]}


API = "/api/v0/m"
for _path, _handler in (
        (f"{API}/screens/", list_screens), (f"{API}/screens/{{screen_id}}/", get_screen),
        (f"{API}/screens/{{screen_id}}/plates/", screen_plates),
        (f"{API}/plates/", list_plates), (f"{API}/plates/{{plate_id}}/", get_plate),
        (f"{API}/plates/{{plate_id}}/screens/", plate_screens),
        (f"{API}/plates/{{plate_id}}/wells/", plate_wells),
        (f"{API}/plates/{{plate_id}}/wellsampleindex/{{index}}/wells/", plate_index_wells),
        (f"{API}/plates/{{plate_id}}/plateacquisitions/", plate_runs),
        (f"{API}/plateacquisitions/{{run_id}}/", get_run),
        (f"{API}/plateacquisitions/{{run_id}}/wells/", run_wells),
        (f"{API}/plateacquisitions/{{run_id}}/wellsampleindex/{{index}}/wells/",
         run_index_wells),
        (f"{API}/wells/", list_wells), (f"{API}/wells/{{well_id}}/", get_well),
        (f"{API}/wells/{{well_id}}/plates/", well_plates)):
    _both(_path, _handler, _handler.__name__)


@router.api_route(f"{API}/plates/{{plate_id}}/", methods=["DELETE"], include_in_schema=False)
@router.api_route(f"{API}/wells/{{well_id}}/", methods=["DELETE"], include_in_schema=False)
def delete_refused() -> JSONResponse:
    """OMERO.web answers 405 here too: a plate goes with its fileset (``pixelvault delete
    Fileset:ID`` or ``Plate:ID``)."""
    return JSONResponse({"message": "Delete of Plate or Well is not supported here; delete "
                                    "the plate's fileset"}, status_code=405)


# --- webgateway and iviewer --------------------------------------------------------------

Size = Annotated[int | None, Query(ge=16, le=1024)]
Layout = Annotated[str, Query(pattern="^(expand|shrink|trim)$")]


@router.get("/webgateway/plate/{plate_id}/")
def plate_grid(plate_id: PathId, request: Request, actor: ActorDep, size: Size = None,
               layout: Layout = "expand") -> Response:
    """OMERO.web's plate grid of field 0: ``grid`` (rows of cells, ``null`` where there
    is no well or no such field), ``rowlabels``, ``collabels``, ``image_sizes``; each
    cell's image with its ``thumb_url`` (``size=`` for thumbnails of that size)."""
    return _grid(request, actor, plate_id, 0, None, size, layout)


@router.get("/webgateway/plate/{plate_id}/{field}/")
def plate_field_grid(plate_id: PathId, field: PathId, request: Request, actor: ActorDep,
                     size: Size = None, layout: Layout = "expand") -> Response:
    return _grid(request, actor, plate_id, field, None, size, layout)


@router.get("/webgateway/plate/{plate_id}/{field}/{run_id}/")
def plate_run_grid(plate_id: PathId, field: PathId, run_id: PathId, request: Request,
                   actor: ActorDep, size: Size = None, layout: Layout = "expand") -> Response:
    """One run's grid; ``field`` counts from each well's first field in that run."""
    return _grid(request, actor, plate_id, field, run_id, size, layout)


def _grid(request: Request, actor: Actor, plate_id: int, field: int, run_id: int | None,
          size: int | None, layout: str) -> Response:
    vault = vault_of(request)
    with vault.catalog.session() as session:
        found = plates.grid(session, actor, plate_id, field, run_id, layout)
    suffix = f"{size}/" if size else ""
    for row in found["grid"]:
        for cell in row:
            if cell is not None:
                cell["thumb_url"] = f"/webgateway/render_thumbnail/{cell['id']}/{suffix}"
    sizes = []
    if found["images"]:
        from pixelvault.services.rendering.images import INFO

        info = INFO.get(vault, actor, found["images"][0])
        sizes = [{"x": info.size_x, "y": info.size_y, "image_id": found["images"][0]}]
    body = {"grid": found["grid"], "collabels": found["collabels"],
            "rowlabels": found["rowlabels"], "image_sizes": sizes}
    return jsonp.answer(request, body)


@router.get("/iviewer/well_images/")
def well_images(request: Request, actor: ActorDep, id: QueryId = None,
                offset: Index = 0,
                limit: Annotated[int, Query(ge=1, le=500)] = 10) -> dict[str, Any]:
    """The images of a well, in field order, as iviewer's well browser lists them."""
    if id is None:
        return {"data": [], "meta": {"totalCount": 0}}
    with vault_of(request).catalog.session() as session:
        plates.get(session, actor, Well, id, "well")
        fields = plates.fields_of(session, actor, [id]).get(id, [])
    chosen = fields[offset:offset + limit]
    return {"data": [{"@id": f.image.id, "Name": f.image.name} for f in chosen],
            "meta": {"totalCount": len(fields)}}
