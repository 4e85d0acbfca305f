"""Screens, plates, runs and wells in the catalog: listings and the plate grid, each
query filtered by what the actor may read.

Fields of a well are kept as an ordered list (``WellSample.field`` from 0), which
is what OMERO's ``index(wellSamples)`` is: the plate grid's ``field``, the API's
``wellsampleindex`` and iviewer's well order all count it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Right
from pixelvault.catalog.models import (
    Experimenter,
    Image,
    Plate,
    PlateAcquisition,
    Screen,
    ScreenPlateLink,
    Well,
    WellSample,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import NotFoundError
from pixelvault.formats.plates import label


@dataclass(frozen=True)
class Filter:
    offset: int = 0
    limit: int = 200
    owner: int | None = None
    group: int | None = None


@dataclass(frozen=True)
class Field:
    sample: WellSample
    image: Image
    run: PlateAcquisition | None


def _page(session: Session, statement: Select[Any], model: Any, page: Filter,
          *order: Any) -> tuple[list[Any], int]:
    if page.owner is not None:
        statement = statement.where(model.owner_id == page.owner)
    if page.group is not None:
        statement = statement.where(model.group_id == page.group)
    total = int(session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
    rows = session.scalars(statement.order_by(*order).offset(page.offset)
                           .limit(page.limit)).all()
    return list(rows), total


def screens(session: Session, actor: Actor, page: Filter,
            plate: int | None = None) -> tuple[list[Screen], int]:
    statement = select(Screen).where(allowed(actor, Right.READ, Screen))
    if plate is not None:
        statement = statement.where(Screen.id.in_(
            select(ScreenPlateLink.parent_id).where(ScreenPlateLink.child_id == plate)))
    return _page(session, statement, Screen, page, func.lower(Screen.name), Screen.id)


def plate_counts(session: Session, actor: Actor, screen_ids: Sequence[int]) -> dict[int, int]:
    """How many readable plates each screen holds (OMERO's ``omero:childCount``)."""
    rows = session.execute(select(ScreenPlateLink.parent_id, func.count()).join(
        Plate, Plate.id == ScreenPlateLink.child_id).where(
        ScreenPlateLink.parent_id.in_(list(screen_ids)), allowed(actor, Right.READ, Plate))
        .group_by(ScreenPlateLink.parent_id)).all()
    return {int(k): int(v) for k, v in rows}


def plates(session: Session, actor: Actor, page: Filter, *, screen: int | None = None,
           well: int | None = None, orphaned: bool = False) -> tuple[list[Plate], int]:
    statement = select(Plate).where(allowed(actor, Right.READ, Plate))
    if screen is not None:
        statement = statement.where(Plate.id.in_(
            select(ScreenPlateLink.child_id).where(ScreenPlateLink.parent_id == screen)))
    if well is not None:
        statement = statement.where(Plate.id.in_(select(Well.plate_id).where(Well.id == well)))
    if orphaned:
        statement = statement.where(~exists().where(ScreenPlateLink.child_id == Plate.id))
    return _page(session, statement, Plate, page, func.lower(Plate.name), Plate.id)


def runs(session: Session, actor: Actor, page: Filter,
         plate: int) -> tuple[list[PlateAcquisition], int]:
    statement = select(PlateAcquisition).where(allowed(actor, Right.READ, PlateAcquisition),
                                               PlateAcquisition.plate_id == plate)
    return _page(session, statement, PlateAcquisition, page,
                 func.lower(PlateAcquisition.name), PlateAcquisition.id)


def wells(session: Session, actor: Actor, page: Filter, *, plate: int | None = None,
          run: int | None = None, field: int | None = None
          ) -> tuple[list[tuple[Well, list[Field]]], int]:
    """Wells by column, then row (OMERO's order), each with its fields; with ``run`` or
    ``field``, only the wells and fields of that run or at that field index."""
    statement = select(Well).where(allowed(actor, Right.READ, Well))
    if plate is not None:
        statement = statement.where(Well.plate_id == plate)
    samples = select(WellSample.well_id).where(allowed(actor, Right.READ, WellSample))
    if run is not None:
        samples = samples.where(WellSample.plate_acquisition_id == run)
    if field is not None:
        samples = samples.where(WellSample.field == field)
    if run is not None or field is not None:
        statement = statement.where(Well.id.in_(samples))
    found, total = _page(session, statement, Well, page, Well.column, Well.row, Well.id)
    by_well = fields_of(session, actor, [w.id for w in found], run=run, field=field)
    return [(w, by_well.get(w.id, [])) for w in found], total


def fields_of(session: Session, actor: Actor, well_ids: list[int], *, run: int | None = None,
              field: int | None = None) -> dict[int, list[Field]]:
    if not well_ids:
        return {}
    statement = select(WellSample, Image, PlateAcquisition).join(
        Image, Image.id == WellSample.image_id).outerjoin(
        PlateAcquisition, PlateAcquisition.id == WellSample.plate_acquisition_id).where(
        WellSample.well_id.in_(well_ids), allowed(actor, Right.READ, WellSample),
        allowed(actor, Right.READ, Image))
    if run is not None:
        statement = statement.where(WellSample.plate_acquisition_id == run)
    if field is not None:
        statement = statement.where(WellSample.field == field)
    found: dict[int, list[Field]] = {}
    for sample, image, acquisition in session.execute(
            statement.order_by(WellSample.well_id, WellSample.field)):
        found.setdefault(sample.well_id, []).append(Field(sample, image, acquisition))
    return found


def get(session: Session, actor: Actor, model: Any, object_id: int, what: str) -> Any:
    row = session.scalar(select(model).where(model.id == object_id,
                                             allowed(actor, Right.READ, model)))
    if row is None:
        raise NotFoundError(f"no {what} with id {object_id}")
    return row


def field_range(session: Session, actor: Actor, *, plate: int | None = None,
                run: int | None = None) -> list[int]:
    """[lowest, highest] field index of a plate's (or a run's) fields; [] if none."""
    statement = select(func.min(WellSample.field), func.max(WellSample.field)).where(
        allowed(actor, Right.READ, WellSample))
    if plate is not None:
        statement = statement.join(Well, Well.id == WellSample.well_id).where(
            Well.plate_id == plate)
    if run is not None:
        statement = statement.where(WellSample.plate_acquisition_id == run)
    low, high = session.execute(statement).one()
    return [] if low is None else [int(low), int(high)]


def well_of_image(session: Session, actor: Actor, image_id: int) -> int | None:
    return session.scalar(select(WellSample.well_id).where(
        WellSample.image_id == image_id, allowed(actor, Right.READ, WellSample)))


def grid(session: Session, actor: Actor, plate_id: int, field: int, run: int | None,
         layout: str = "expand") -> dict[str, Any]:
    """OMERO.web's plate grid: one cell per well position, ``None`` where no well (or no
    field ``field``) is; image facts for each cell. Its size is the wells' extent
    ("trim"), grown to 8x12 doubled until it fits ("expand", OMERO.web's default), or
    cut to the wells ("shrink")."""
    plate = get(session, actor, Plate, plate_id, "plate")
    extent = session.execute(select(func.min(Well.row), func.max(Well.row),
                                    func.min(Well.column), func.max(Well.column)).where(
        Well.plate_id == plate_id, allowed(actor, Right.READ, Well))).one()
    rows = (extent[1] + 1) if extent[1] is not None else 0
    columns = (extent[3] + 1) if extent[3] is not None else 0
    first_row = first_column = 0
    if layout == "expand":
        target_rows, target_columns = 8, 12
        while target_rows < rows or target_columns < columns:
            target_rows, target_columns = target_rows * 2, target_columns * 2
        rows, columns = target_rows, target_columns
    elif layout == "shrink" and extent[0] is not None:
        first_row, first_column = extent[0], extent[2]
    cells: list[list[dict[str, Any] | None]] = [
        [None] * (columns - first_column) for _ in range(rows - first_row)]
    statement = select(Well.row, Well.column, Well.id, Image, Experimenter).join(
        WellSample, WellSample.well_id == Well.id).join(
        Image, Image.id == WellSample.image_id).join(
        Experimenter, Experimenter.id == Image.owner_id).where(
        Well.plate_id == plate_id, allowed(actor, Right.READ, Well),
        allowed(actor, Right.READ, WellSample), allowed(actor, Right.READ, Image))
    if run is None:
        statement = statement.where(WellSample.field == field)
    else:  # the field counts from each well's first field in that run
        first = select(func.min(WellSample.field)).where(
            WellSample.well_id == Well.id, WellSample.plate_acquisition_id == run
        ).scalar_subquery()
        statement = statement.where(WellSample.plate_acquisition_id == run,
                                    WellSample.field - first == field)
    images = []
    for row, column, well_id, image, owner in session.execute(statement):
        if not (first_row <= row < rows and first_column <= column < columns):
            continue
        moment = image.acquisition_date or image.created_at
        cells[row - first_row][column - first_column] = {
            "type": "Image", "id": image.id, "name": image.name,
            "description": image.description or "",
            "author": f"{owner.first_name} {owner.last_name}".strip(),
            "date": int(moment.timestamp()) if moment else 0, "wellId": well_id,
            "field": field}
        images.append(image.id)
    return {"plate": plate, "grid": cells, "images": images,
            "rowlabels": [_label(i, plate.row_naming, "letter")
                          for i in range(first_row, rows)],
            "collabels": [_label(i, plate.column_naming, "number")
                          for i in range(first_column, columns)]}


def _label(index: int, naming: str, default: str) -> str | int:
    """OMERO.web's labels: numbers as JSON numbers, letters as strings."""
    if (naming or default).lower() == "number":
        return index + 1
    return label(index, "letter")
