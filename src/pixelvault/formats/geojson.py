"""ROIs as GeoJSON, the way QuPath and napari exchange shapes.

Writing: one Feature per ROI; a ROI of one shape has that shape's geometry, a
ROI of several a GeometryCollection. Points and labels are Points, lines and
polylines LineStrings, polygons, rectangles, masks (their box) and ellipses
(64 vertices, flagged ``isEllipse`` as QuPath flags them) Polygons, with
transforms applied, so any GeoJSON reader draws them where OMERO does. The
plane goes in the geometry's ``plane`` member (QuPath's ``{"c", "z", "t"}``).
``properties.omero`` keeps what GeoJSON cannot say (the exact OME type, radii,
style, transform, mask bits), so a file pixelvault wrote reads back equal.

Reading takes QuPath's files too: a Feature's ``name`` (or its classification's
name) names the ROI, its colour strokes it; Multi* geometries and collections
give one shape per part; a LineString of two points is a Line. Features are read
one at a time from the stream (``ijson``): a file is never loaded whole.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from typing import IO, Any

from pixelvault.errors import InvalidInputError
from pixelvault.formats import rois as model

ELLIPSE_VERTICES = 64
MAX_PARTS = 100_000  # shapes in one feature
MAX_LONE = 64 << 20  # a file holding one Feature, not a collection, is read whole
# What one feature may hold before it is built in memory (ijson builds a whole feature):
MAX_FEATURE_NUMBERS = 4 << 20  # 2 million vertices
MAX_FEATURE_TEXT = 64 << 20  # bytes of strings (names, a mask's base64)
MAX_DEPTH = 32


def _plane(shape: model.Shape) -> dict[str, int]:
    return {"c": shape.c if shape.c is not None else -1, "z": shape.z or 0, "t": shape.t or 0}


def _apply(shape: model.Shape, points: list[tuple[float, float]]) -> list[list[float]]:
    if shape.transform is not None:
        a00, a10, a01, a11, a02, a12 = shape.transform
        points = [(a00 * x + a01 * y + a02, a10 * x + a11 * y + a12) for x, y in points]
    return [[float(x), float(y)] for x, y in points]


def geometry(shape: model.Shape) -> dict[str, Any]:
    """The GeoJSON geometry of one shape, in image pixels."""
    k, v = shape.kind, shape.coords
    out: dict[str, Any]
    if k in ("point", "label"):
        out = {"type": "Point", "coordinates": _apply(shape, [(v[0], v[1])])[0]}
    elif k in ("line", "polyline"):
        out = {"type": "LineString", "coordinates": _apply(shape, shape.vertices)}
    else:
        if k in ("rectangle", "mask"):
            ring = [(v[0], v[1]), (v[0] + v[2], v[1]), (v[0] + v[2], v[1] + v[3]),
                    (v[0], v[1] + v[3])]
        elif k == "ellipse":
            ring = [(v[0] + v[2] * math.cos(2 * math.pi * i / ELLIPSE_VERTICES),
                     v[1] + v[3] * math.sin(2 * math.pi * i / ELLIPSE_VERTICES))
                    for i in range(ELLIPSE_VERTICES)]
        else:
            ring = shape.vertices
        closed = _apply(shape, ring)
        out = {"type": "Polygon", "coordinates": [[*closed, closed[0]]]}
        if k == "ellipse":
            out["isEllipse"] = True
    out["plane"] = _plane(shape)
    return out


def _omero(shape: model.Shape) -> dict[str, Any]:
    """What GeoJSON cannot hold, to read the shape back exactly."""
    out: dict[str, Any] = {"type": model.OME_NAMES[shape.kind], "coords": list(shape.coords)}
    for key in ("z", "t", "c", "stroke_color", "fill_color", "stroke_width", "font_size"):
        value = getattr(shape, key)
        if value is not None:
            out[key] = value
    if shape.text:
        out["text"] = shape.text
    if shape.transform is not None:
        out["transform"] = list(shape.transform)
    if shape.style:
        out["style"] = shape.style
    if shape.mask is not None:
        out["mask"] = base64.b64encode(shape.mask).decode()
    return out


def _rgb(value: int) -> list[int]:
    rgba = value & 0xFFFFFFFF
    return [(rgba >> 24) & 0xFF, (rgba >> 16) & 0xFF, (rgba >> 8) & 0xFF]


def feature(roi: model.Roi, roi_id: int | None = None) -> dict[str, Any]:
    parts = [geometry(s) for s in roi.shapes]
    geom = parts[0] if len(parts) == 1 else {"type": "GeometryCollection", "geometries": parts}
    properties: dict[str, Any] = {"objectType": "annotation"}
    if roi.name:
        properties["name"] = roi.name
    colour = next((s.stroke_color for s in roi.shapes if s.stroke_color is not None), None)
    if colour is not None:
        properties["color"] = _rgb(colour)
    if any(s.style.get("locked") for s in roi.shapes):
        properties["isLocked"] = True
    properties["omero"] = {"description": roi.description,
                           "shapes": [_omero(s) for s in roi.shapes]}
    found: dict[str, Any] = {"type": "Feature"}
    if roi_id is not None:
        found["id"] = str(roi_id)
        properties["omero"]["roi"] = roi_id
    return {**found, "geometry": geom, "properties": properties}


# --- reading --------------------------------------------------------------------------

def _number_pair(value: Any, what: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise InvalidInputError(f"{what}: a position is [x, y]")
    x, y = value[0], value[1]
    for item in (x, y):
        if not model.finite(item):
            raise InvalidInputError(f"{what}: coordinate {str(item)[:40]} is not a finite "
                                    "number")
    return float(x), float(y)


def _positions(value: Any, what: str) -> list[tuple[float, float]]:
    if not isinstance(value, list):
        raise InvalidInputError(f"{what}: coordinates are a list of [x, y]")
    if len(value) > model.MAX_VERTICES + 1:
        raise InvalidInputError(f"{what}: {len(value)} points; at most {model.MAX_VERTICES} "
                                "per shape")
    return [_number_pair(p, what) for p in value]


def _flat(points: list[tuple[float, float]]) -> tuple[float, ...]:
    return tuple(v for point in points for v in point)


def _parts(geom: Any, what: str) -> list[tuple[str, tuple[float, ...], dict[str, Any]]]:
    """(kind, coordinates, the geometry it came from) of each part of a geometry."""
    if not isinstance(geom, dict):
        raise InvalidInputError(f"{what}: a feature without a geometry")
    kind, coords = geom.get("type"), geom.get("coordinates")
    if kind == "Point":
        return [("point", _number_pair(coords, what), geom)]
    if kind == "LineString":
        points = _positions(coords, what)
        return [("line" if len(points) == 2 else "polyline", _flat(points), geom)]
    if kind == "Polygon":
        if not isinstance(coords, list) or not coords:
            raise InvalidInputError(f"{what}: a Polygon without its ring")
        if len(coords) > 1:
            raise InvalidInputError(f"{what}: a Polygon with {len(coords) - 1} hole(s), which "
                                    "OMERO's shapes cannot hold; fill the holes or split it")
        ring = _positions(coords[0], what)
        if len(ring) > 1 and ring[0] == ring[-1]:
            ring = ring[:-1]
        if geom.get("isEllipse") and ring:
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            return [("ellipse", ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2,
                                 (max(xs) - min(xs)) / 2, (max(ys) - min(ys)) / 2), geom)]
        return [("polygon", _flat(ring), geom)]
    if kind in ("MultiPoint", "MultiLineString", "MultiPolygon"):
        if not isinstance(coords, list) or len(coords) > MAX_PARTS:
            raise InvalidInputError(f"{what}: a {kind} is a list of at most {MAX_PARTS} parts")
        single = kind[len("Multi"):]
        return [part for item in coords for part in _parts(
            {**geom, "type": single, "coordinates": item}, what)]
    if kind == "GeometryCollection":
        members = geom.get("geometries")
        if not isinstance(members, list) or len(members) > MAX_PARTS:
            raise InvalidInputError(f"{what}: a GeometryCollection is a list of at most "
                                    f"{MAX_PARTS} geometries")
        return [part for member in members for part in _parts(member, what)]
    raise InvalidInputError(f"{what}: geometry type {kind!r} is not one GeoJSON has "
                            "(Point, LineString, Polygon, Multi*, GeometryCollection)")


def _colour(value: Any) -> int | None:
    if isinstance(value, list) and len(value) in (3, 4) and \
            all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
        r, g, b = (int(v) for v in value[:3])
        packed = (r << 24) | (g << 16) | (b << 8) | 0xFF
        return packed - (1 << 32) if packed >= 1 << 31 else packed
    return None


def _exact(data: Any, what: str) -> model.Shape:
    """A shape from ``properties.omero``, as pixelvault wrote it."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{what}: properties.omero.shapes holds objects")
    names = {name: kind for kind, name in model.OME_NAMES.items()}
    kind = names.get(str(data.get("type")))
    coords = data.get("coords")
    if kind is None or not isinstance(coords, list):
        raise InvalidInputError(f"{what}: properties.omero names no OME shape type and "
                                "coordinates")
    values: dict[str, Any] = {}
    for key in ("z", "t", "c", "stroke_color", "fill_color"):
        item = data.get(key)
        if item is not None and (isinstance(item, bool) or not isinstance(item, int)):
            raise InvalidInputError(f"{what}: {key} is a whole number")
        values[key] = item
    for key in ("stroke_width", "font_size"):
        item = data.get(key)
        if item is not None and not model.finite(item):
            raise InvalidInputError(f"{what}: {key} is a number")
        values[key] = float(item) if item is not None else None
    transform = data.get("transform")
    style = data.get("style") or {}
    text = data.get("text") or ""
    if not isinstance(style, dict) or not isinstance(text, str) or (
            transform is not None and not isinstance(transform, list)):
        raise InvalidInputError(f"{what}: properties.omero has a malformed style, text or "
                                "transform")
    mask = None
    if data.get("mask") is not None:
        try:
            mask = base64.b64decode(str(data["mask"]), validate=True)
        except ValueError:
            raise InvalidInputError(f"{what}: the mask is not base64") from None
    return model.Shape(kind=kind, coords=tuple(coords), text=text,
                       transform=tuple(transform) if transform else None,
                       style={k: v for k, v in style.items() if k in model.STYLE_KEYS},
                       mask=mask, **values)


def roi_of(found: Any, what: str) -> model.Roi:
    """One Feature as a ROI (its parts its shapes)."""
    if not isinstance(found, dict) or found.get("type") != "Feature":
        raise InvalidInputError(f"{what}: not a GeoJSON Feature")
    properties = found.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidInputError(f"{what}: properties is an object")
    omero = properties.get("omero")
    name = properties.get("name")
    classification = properties.get("classification")
    if not isinstance(name, str):
        name = classification.get("name") if isinstance(classification, dict) else \
            classification if isinstance(classification, str) else ""
        if not isinstance(name, str):
            name = ""
    parts = _parts(found.get("geometry"), what)
    if isinstance(omero, dict) and isinstance(omero.get("shapes"), list) and \
            len(omero["shapes"]) == len(parts):
        exact = tuple(_exact(s, f"{what} shape {n + 1}")
                      for n, s in enumerate(omero["shapes"]))
        description = omero.get("description")
        return model.Roi(shapes=exact, name=name[:1024],
                         description=description if isinstance(description, str) else "")
    colour = _colour(properties.get("color"))
    if colour is None and isinstance(classification, dict):
        colour = _colour(classification.get("color"))
    locked = properties.get("isLocked") is True
    shapes = []
    for kind, coords, geom in parts:
        plane = geom["plane"] if isinstance(geom.get("plane"), dict) else {}
        planes = {key: plane.get(key) for key in ("z", "t", "c")}
        for key, value in planes.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInputError(f"{what}: plane {key} is a whole number")
        shapes.append(model.Shape(
            kind=kind, coords=coords, z=planes["z"], t=planes["t"],
            c=planes["c"] if planes["c"] is not None and planes["c"] >= 0 else None,
            stroke_color=colour, style={"locked": True} if locked else {}))
    return model.Roi(shapes=tuple(shapes), name=name[:1024])


def read(stream: IO[bytes], what: str) -> Iterator[model.Roi]:
    """Every feature of a FeatureCollection (or a bare list of features) as a ROI, read
    one feature at a time."""
    import ijson

    head = stream.read(1)
    while head and head.isspace():
        head = stream.read(1)
    if head not in (b"{", b"["):
        raise InvalidInputError(f"{what}: not GeoJSON (a FeatureCollection or a list of "
                                "Features)")
    prefix = "features.item" if head == b"{" else "item"
    if stream.seekable():
        _prescan(_Prepend(head, stream), prefix, what)
        stream.seek(0)
        head = stream.read(1)
        while head and head.isspace():
            head = stream.read(1)
    number = 0
    try:
        for found in ijson.items(_Prepend(head, stream), prefix, use_float=True):
            number += 1
            yield roi_of(found, f"{what} feature {number}")
    except ijson.JSONError as exc:
        raise InvalidInputError(f"{what}: not valid JSON after feature {number} "
                                f"({str(exc)[:120]})") from None
    if number == 0 and head == b"{" and stream.seekable() and stream.seek(0, 2) <= MAX_LONE:
        stream.seek(0)  # one Feature alone, as QuPath exports a single object
        try:
            whole = next(ijson.items(stream, "", use_float=True), None)
        except ijson.JSONError as exc:
            raise InvalidInputError(f"{what}: not valid JSON ({str(exc)[:120]})") from None
        if isinstance(whole, dict) and whole.get("type") == "Feature":
            number = 1
            yield roi_of(whole, f"{what} feature 1")
    if number == 0:
        raise InvalidInputError(f"{what}: no features (GeoJSON's FeatureCollection has them "
                                "in \"features\")")


def _prescan(stream: Any, prefix: str, what: str) -> None:
    """Walk the file's parse events (constant memory) and refuse a feature too large to
    build, or nesting deeper than any GeoJSON needs, before anything is built."""
    import ijson

    depth = numbers = text = feature = 0
    try:
        for where, event, value in ijson.parse(stream, use_float=True):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InvalidInputError(f"{what}: nested {MAX_DEPTH} levels deep; "
                                            "GeoJSON never is")
                if event == "start_map" and where == prefix:
                    feature += 1
                    numbers = text = 0
            elif event in ("end_map", "end_array"):
                depth -= 1
            elif event == "number":
                numbers += 1
            elif event in ("string", "map_key"):
                text += len(value)
            if numbers > MAX_FEATURE_NUMBERS or text > MAX_FEATURE_TEXT:
                raise InvalidInputError(
                    f"{what} feature {feature}: more than {MAX_FEATURE_NUMBERS >> 21} "
                    f"million points or {MAX_FEATURE_TEXT >> 20} MiB of text in one "
                    "feature; split it")
    except ijson.JSONError as exc:
        raise InvalidInputError(f"{what}: not valid JSON after feature {feature} "
                                f"({str(exc)[:120]})") from None


class _Prepend:
    """The stream with the bytes already read put back in front."""

    def __init__(self, first: bytes, rest: IO[bytes]) -> None:
        self._first, self._rest = first, rest

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        if self._first:
            head, self._first = self._first, b""
            return head + self._rest.read(max(size - len(head), 0) if size > 0 else -1)
        return self._rest.read(size)
