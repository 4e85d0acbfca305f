"""What a file says besides its pixels and annotations: its ROIs and its plates.

Checked before the catalog transaction (a shape on a plane the image lacks, a
well naming an image the file does not hold: the import fails whole), then
written in the import's one transaction, so a plate or a ROI is never half there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pixelvault.catalog.bulk import insert_returning_ids, insert_rows
from pixelvault.catalog.models import (
    Plate,
    PlateAcquisition,
    Screen,
    ScreenPlateLink,
    Well,
    WellSample,
)
from pixelvault.errors import CorruptFileError, InvalidInputError
from pixelvault.formats import Metadata
from pixelvault.formats import rois as roi_model
from pixelvault.services.objects import rois


def check(metadata: Metadata, name: str) -> None:
    """Every ROI against the image it is drawn on (plates were checked by the reader)."""
    for number, roi in enumerate(metadata.rois):
        series = metadata.series[roi.series]
        plane = roi_model.Plane(series.size_x, series.size_y, series.size_z, series.size_c,
                                series.size_t)
        try:
            for position, shape in enumerate(roi.shapes):
                roi_model.check(shape, plane, f"ROI {number + 1} shape {position + 1}")
        except InvalidInputError as exc:
            raise CorruptFileError(f"{name}: {exc}; fix the file's ROIs or remove them") \
                from None


def plate_images(metadata: Metadata) -> set[int]:
    """The series that are fields of a plate (they go in no dataset, as in OMERO)."""
    return {field.series for plate in metadata.plates for well in plate.wells
            for field in well.fields}


def record(session: Session, owned: dict[str, Any], fileset_id: int, entry_name: str,
           image_ids: list[int], metadata: Metadata) -> None:
    for roi in metadata.rois:
        rois.insert(session, owned, image_ids[roi.series], [roi])
    screens: dict[tuple[str, str], int] = {}
    for number, plate in enumerate(metadata.plates):
        name = plate.name or (entry_name if len(metadata.plates) == 1
                              else f"{entry_name} [Plate {number + 1}]")
        [plate_id] = insert_returning_ids(session, Plate, [{
            "name": name[:1024], "description": plate.description, "fileset_id": fileset_id,
            "rows": plate.rows, "columns": plate.columns, "row_naming": plate.row_naming,
            "column_naming": plate.column_naming, "field_index": plate.field_index,
            "external_identifier": plate.external_identifier[:1024],
            "status": plate.status[:1024], **owned}])
        for screen in plate.screens:
            if screen not in screens:
                [screens[screen]] = insert_returning_ids(session, Screen, [{
                    "name": (screen[0] or entry_name)[:1024], "description": screen[1],
                    **owned}])
            insert_rows(session, ScreenPlateLink, [{"parent_id": screens[screen],
                                                    "child_id": plate_id, **owned}])
        run_ids = insert_returning_ids(session, PlateAcquisition, [
            {"plate_id": plate_id, "name": run.name[:1024], "description": run.description,
             "start_time": run.start_time, "end_time": run.end_time,
             "maximum_field_count": run.maximum_field_count, **owned}
            for run in plate.acquisitions])
        well_ids = insert_returning_ids(session, Well, [
            {"plate_id": plate_id, "row": well.row, "column": well.column,
             "color": well.color, "type": well.type[:1024],
             "external_description": well.external_description, **owned}
            for well in plate.wells])
        insert_rows(session, WellSample, [
            {"well_id": well_id, "image_id": image_ids[field.series], "field": position,
             "plate_acquisition_id": run_ids[field.acquisition]
             if field.acquisition is not None else None,
             "position_x": field.position_x, "position_y": field.position_y,
             "timepoint": field.timepoint, **owned}
            for well_id, well in zip(well_ids, plate.wells, strict=True)
            for position, field in enumerate(well.fields)])
