"""A reader's parsed state as plain JSON, so a memo file can spare the next open the parse.

Only data goes in a memo (never pickled objects), so a memo from another
version, another reader or a damaged file can only be ignored, never run.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pixelvault.formats.base import Annotation, Channel, Metadata, Series


def metadata_to_json(metadata: Metadata) -> dict[str, Any]:
    def series(item: Series) -> dict[str, Any]:
        data = asdict(item)
        data["acquisition_date"] = item.acquisition_date.isoformat() \
            if item.acquisition_date else None
        return data

    return {"series": [series(s) for s in metadata.series], "original": metadata.original,
            "annotations": [asdict(a) for a in metadata.annotations],
            "ome_xml": metadata.ome_xml}


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
                    ome_xml=data["ome_xml"])
