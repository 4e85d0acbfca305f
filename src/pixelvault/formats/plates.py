"""High-content-screening plates as a file describes them: wells, fields and runs.

A reader that finds a plate (OME-XML's Plate, OME-Zarr's ``plate`` and ``well``
groups) says which of its series is which field of which well; :func:`check`
refuses a layout that contradicts itself before anything is imported, so a
plate is imported whole or not at all.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pixelvault.errors import CorruptFileError

MAX_ROWS = 1024  # a 3456-well plate has 48 rows and 72 columns
MAX_COLUMNS = 1024


@dataclass(frozen=True)
class Field:
    """One field (WellSample) of a well: the series that holds its image."""

    series: int
    acquisition: int | None = None  # index into PlateLayout.acquisitions
    position_x: float | None = None  # micrometres
    position_y: float | None = None
    timepoint: datetime | None = None


@dataclass(frozen=True)
class WellLayout:
    row: int  # from 0
    column: int
    fields: tuple[Field, ...]
    color: int | None = None
    type: str = ""
    external_description: str = ""


@dataclass(frozen=True)
class Acquisition:
    name: str = ""
    description: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    maximum_field_count: int | None = None


@dataclass(frozen=True)
class PlateLayout:
    name: str
    rows: int
    columns: int
    wells: tuple[WellLayout, ...]
    acquisitions: tuple[Acquisition, ...] = ()
    description: str = ""
    row_naming: str = "letter"  # OME's NamingConvention: "letter" or "number"
    column_naming: str = "number"
    row_names: tuple[str, ...] = ()  # OME-Zarr's names, when the file gives them
    column_names: tuple[str, ...] = ()
    field_index: int = 0
    external_identifier: str = ""
    status: str = ""
    screens: tuple[tuple[str, str], ...] = ()  # (name, description) of its screens


def label(index: int, naming: str) -> str:
    """A row's or column's label, as OMERO.web shows it: letters (A..Z, AA..) or numbers
    counted from 1."""
    if naming == "number":
        return str(index + 1)
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return letters


def well_label(plate: PlateLayout, well: WellLayout) -> str:
    row = plate.row_names[well.row] if well.row < len(plate.row_names) \
        else label(well.row, plate.row_naming)
    column = plate.column_names[well.column] if well.column < len(plate.column_names) \
        else label(well.column, plate.column_naming)
    return f"{row}{column}"


def check(plate: PlateLayout, series_count: int, what: str) -> None:
    """CorruptFileError naming the first contradiction in ``plate``."""
    if not 0 < plate.rows <= MAX_ROWS or not 0 < plate.columns <= MAX_COLUMNS:
        raise CorruptFileError(f"{what}: plate {plate.name!r} declares {plate.rows} rows and "
                               f"{plate.columns} columns (1 to {MAX_ROWS} each)")
    seen_wells: set[tuple[int, int]] = set()
    seen_series: set[int] = set()
    for well in plate.wells:
        if not (0 <= well.row < plate.rows and 0 <= well.column < plate.columns):
            raise CorruptFileError(
                f"{what}: a well at row {well.row}, column {well.column} (from 0) lies outside "
                f"the plate's {plate.rows} rows and {plate.columns} columns")
        if (well.row, well.column) in seen_wells:
            raise CorruptFileError(f"{what}: two wells at {well_label(plate, well)}")
        seen_wells.add((well.row, well.column))
        for field in well.fields:
            if not 0 <= field.series < series_count:
                raise CorruptFileError(f"{what}: well {well_label(plate, well)} names an image "
                                       f"the file does not hold (series {field.series})")
            if field.series in seen_series:
                raise CorruptFileError(f"{what}: series {field.series} is a field of two wells")
            seen_series.add(field.series)
            if field.acquisition is not None and \
                    not 0 <= field.acquisition < len(plate.acquisitions):
                raise CorruptFileError(f"{what}: well {well_label(plate, well)} names a plate "
                                       "acquisition the plate does not have")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _naming(value: Any, default: str) -> str:
    text = str(getattr(value, "value", value) or "").lower()
    return text if text in ("letter", "number") else default


def from_ome(ome: Any, length: Any) -> list[PlateLayout]:
    """The plates of an OME document; ``length(value, unit)`` converts a position to
    micrometres. Fields refer to images by their index in the document."""
    image_index = {image.id: index for index, image in enumerate(ome.images)}
    screens: dict[str, list[tuple[str, str]]] = {}
    for screen in ome.screens:
        for ref in screen.plate_refs:
            screens.setdefault(ref.id, []).append((screen.name or "", screen.description or ""))
    plates = []
    for plate in ome.plates:
        runs = list(plate.plate_acquisitions)
        run_of: dict[str, int] = {}
        for number, run in enumerate(runs):
            for ref in run.well_sample_refs:
                run_of[ref.id] = number
        wells = []
        for well in plate.wells:
            fields = []
            for sample in sorted(well.well_samples, key=lambda s: s.index):
                if sample.image_ref is None:
                    continue
                if sample.image_ref.id not in image_index:
                    raise CorruptFileError(f"well sample {sample.id} names image "
                                           f"{sample.image_ref.id}, which the file lacks")
                fields.append(Field(
                    series=image_index[sample.image_ref.id], acquisition=run_of.get(sample.id),
                    position_x=length(sample.position_x, sample.position_x_unit),
                    position_y=length(sample.position_y, sample.position_y_unit),
                    timepoint=_utc(sample.timepoint)))
            wells.append(WellLayout(
                row=int(well.row), column=int(well.column), fields=tuple(fields),
                color=well.color.as_int32() if well.color is not None else None,
                type=well.type or "", external_description=well.external_description or ""))
        rows = plate.rows or (max((w.row for w in wells), default=0) + 1)
        columns = plate.columns or (max((w.column for w in wells), default=0) + 1)
        plates.append(PlateLayout(
            name=plate.name or "", rows=int(rows), columns=int(columns), wells=tuple(wells),
            acquisitions=tuple(Acquisition(
                name=r.name or "", description=r.description or "",
                start_time=_utc(r.start_time), end_time=_utc(r.end_time),
                maximum_field_count=r.maximum_field_count) for r in runs),
            description=plate.description or "",
            row_naming=_naming(plate.row_naming_convention, "letter"),
            column_naming=_naming(plate.column_naming_convention, "number"),
            field_index=int(plate.field_index or 0),
            external_identifier=plate.external_identifier or "", status=plate.status or "",
            screens=tuple(screens.get(plate.id, ()))))
    return plates
