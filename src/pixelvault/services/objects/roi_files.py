"""ROIs in and out as files: GeoJSON (QuPath's and napari's exchange format).

An import streams its file feature by feature into one transaction (all of it or
none); an export streams the image's ROIs out a batch at a time. Neither holds the
file, or all the image's shapes, in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pixelvault.catalog import Actor
from pixelvault.errors import InvalidInputError
from pixelvault.formats import geojson
from pixelvault.formats import rois as model
from pixelvault.services.objects import rois
from pixelvault.services.vault import Vault

MAX_GEOJSON = 1 << 30  # bytes of one GeoJSON file
CHUNK = 256 << 10


def import_geojson(vault: Vault, actor: Actor, image_id: int, path: Path,
                   what: str = "the GeoJSON file") -> dict[str, int]:
    size = path.stat().st_size
    if size > MAX_GEOJSON:
        raise InvalidInputError(f"{what} is {size} bytes; at most {MAX_GEOJSON >> 20} MiB at "
                                "a time (split it by feature)")
    with path.open("rb") as stream, vault.catalog.session() as session:
        added, shapes = rois.add_stream(session, actor, image_id, geojson.read(stream, what))
    return {"rois": added, "shapes": shapes}


def export_geojson(vault: Vault, actor: Actor, image_id: int) -> Iterator[bytes]:
    """The image's ROIs as one FeatureCollection, written as they are read."""
    from pixelvault.services.rendering.images import INFO

    INFO.get(vault, actor, image_id)  # 404 before the first byte is sent

    def chunks() -> Iterator[bytes]:
        pending = [b'{"type": "FeatureCollection", "features": [']
        size, first = 0, True
        with vault.catalog.session() as session:
            for stored in rois.iterate(session, actor, image_id):
                roi = model.Roi(shapes=tuple(s.shape for s in stored.shapes),
                                name=stored.name, description=stored.description)
                piece = (b"" if first else b",\n") + json.dumps(
                    geojson.feature(roi, stored.id)).encode()
                first = False
                pending.append(piece)
                size += len(piece)
                if size >= CHUNK:  # the network likes large writes, not one per feature
                    yield b"".join(pending)
                    pending, size = [], 0
        pending.append(b"]}\n")
        yield b"".join(pending)

    return chunks()


def native(stored: rois.StoredRoi) -> dict[str, Any]:
    """A ROI in pixelvault's own JSON: OME's names, coordinates by name."""
    shapes = []
    for item in stored.shapes:
        shape = item.shape
        out: dict[str, Any] = {"id": item.id, "type": model.OME_NAMES[shape.kind],
                               "z": shape.z, "t": shape.t, "c": shape.c}
        if shape.kind in ("polygon", "polyline"):
            out["points"] = [list(p) for p in shape.vertices]
        else:
            out.update(shape.named())
        for key in ("text", "stroke_color", "fill_color", "stroke_width", "font_size"):
            value = getattr(shape, key)
            if value not in (None, ""):
                out[key] = value
        if shape.transform is not None:
            out["transform"] = list(shape.transform)
        if shape.style:
            out["style"] = shape.style
        shapes.append(out)
    return {"id": stored.id, "image_id": stored.image_id, "owner_id": stored.owner_id,
            "group_id": stored.group_id, "name": stored.name,
            "description": stored.description, "shapes": shapes}
