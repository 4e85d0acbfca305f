"""A reader's parsed state as plain JSON, so a memo file can spare the next open the parse.

Only data goes in a memo (never pickled objects), so a memo from another
version, another reader or a damaged file can only be ignored, never run.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, fields, replace
from datetime import datetime
from typing import Any

from pixelvault.formats.base import Annotation, Channel, Metadata, Series
from pixelvault.formats.plates import Acquisition, Field, PlateLayout, WellLayout
from pixelvault.formats.rois import Roi, Shape


def _dates(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _roi_json(roi: Roi) -> dict[str, Any]:
    shapes = []
    for shape in roi.shapes:
        data = {f.name: getattr(shape, f.name) for f in fields(shape)}
        data["mask"] = base64.b64encode(shape.mask).decode() if shape.mask is not None \
            else None
        shapes.append(data)
    return {"name": roi.name, "description": roi.description, "series": roi.series,
            "shapes": shapes}


def _roi(data: dict[str, Any]) -> Roi:
    shapes = []
    for item in data["shapes"]:
        shape = Shape(**{**item, "coords": tuple(item["coords"])})
        shapes.append(replace(
            shape, transform=tuple(item["transform"]) if item["transform"] else None,
            mask=base64.b64decode(item["mask"]) if item["mask"] is not None else None))
    return Roi(shapes=tuple(shapes), name=data["name"], description=data["description"],
               series=data["series"])


def _plate_json(plate: PlateLayout) -> dict[str, Any]:
    data = asdict(plate)
    data["acquisitions"] = [_dates(a) for a in data["acquisitions"]]
    for well in data["wells"]:
        well["fields"] = [_dates(f) for f in well["fields"]]
    return data


def _plate(data: dict[str, Any]) -> PlateLayout:
    wells = tuple(WellLayout(**{**w, "fields": tuple(
        Field(**{**f, "timepoint": _date(f["timepoint"])}) for f in w["fields"])})
        for w in data["wells"])
    runs = tuple(Acquisition(**{**a, "start_time": _date(a["start_time"]),
                                "end_time": _date(a["end_time"])})
                 for a in data["acquisitions"])
    return PlateLayout(**{**data, "wells": wells, "acquisitions": runs,
                          "row_names": tuple(data["row_names"]),
                          "column_names": tuple(data["column_names"]),
                          "screens": tuple(tuple(s) for s in data["screens"])})


def metadata_to_json(metadata: Metadata) -> dict[str, Any]:
    def series(item: Series) -> dict[str, Any]:
        data = asdict(item)
        data["acquisition_date"] = item.acquisition_date.isoformat() \
            if item.acquisition_date else None
        return data

    return {"series": [series(s) for s in metadata.series], "original": metadata.original,
            "annotations": [asdict(a) for a in metadata.annotations],
            "ome_xml": metadata.ome_xml, "rois": [_roi_json(r) for r in metadata.rois],
            "plates": [_plate_json(p) for p in metadata.plates]}


def metadata_from_json(data: dict[str, Any]) -> Metadata:
    """The Metadata back; KeyError, TypeError or ValueError if it is not what we wrote."""
    series = []
    for item in data["series"]:
        fields = dict(item)
        fields["levels"] = tuple(tuple(int(v) for v in level) for level in fields["levels"])
        fields["channels"] = tuple(Channel(**c) for c in fields["channels"])
        date = fields["acquisition_date"]
        fields["acquisition_date"] = datetime.fromisoformat(date) if date else None
        series.append(Series(**fields))
    annotations = [Annotation(type=a["type"], text=a["text"],
                              values=tuple((str(k), str(v)) for k, v in a["values"]),
                              namespace=a["namespace"], series=tuple(a["series"]))
                   for a in data["annotations"]]
    original = {str(k): str(v) for k, v in data["original"].items()}
    return Metadata(series=series, original=original, annotations=annotations,
                    ome_xml=data["ome_xml"], rois=[_roi(r) for r in data["rois"]],
                    plates=[_plate(p) for p in data["plates"]])
