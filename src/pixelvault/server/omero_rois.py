"""ROIs and shapes in omero-marshal's JSON (``/api/v0/m/rois/``, iviewer's routes) and in
webgateway's older form (``get_rois_json``), and shapes read back from what OMERO.iviewer
and QuPath send to ``persist_rois``.

Keys come in omero-marshal's order and are left out when unset, never null. Every
shape carries its own ``omero:details`` with the caller's rights on its ROI, and a
group with its permissions (QuPath's parser requires both).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from pixelvault.catalog import Actor
from pixelvault.errors import InvalidInputError
from pixelvault.formats import rois as model
from pixelvault.server.auth import vault_of
from pixelvault.server.omero_marshal import OME, api_root, details
from pixelvault.services.access import principals
from pixelvault.services.objects.rois import StoredRoi, StoredShape

_GEOMETRY = {"point": ("X", "Y"), "label": ("X", "Y"), "line": ("X1", "Y1", "X2", "Y2"),
             "rectangle": ("X", "Y", "Width", "Height"), "mask": ("X", "Y", "Width", "Height"),
             "ellipse": ("X", "Y", "RadiusX", "RadiusY")}
_KIND_OF = {name.lower(): kind for kind, name in model.OME_NAMES.items()}
_STYLE = (("FillRule", "fill_rule"), ("FontFamily", "font_family"))
_UNITS = {"stroke_width": ("PIXEL", "pixel"), "font_size": ("POINT", "pt")}
_MARKERS = (("MarkerStart", "marker_start"), ("MarkerEnd", "marker_end"))


def _unit(value: float, key: str) -> dict[str, Any]:
    unit, symbol = _UNITS[key]
    return {"@type": "TBD#LengthI", "Unit": unit, "Symbol": symbol, "Value": float(value)}


def group_details(block: dict[str, Any]) -> dict[str, Any]:
    """``details`` with the group carrying its own permissions, as OMERO loads it."""
    group = dict(block["group"])
    group["omero:details"] = {"@type": "TBD#Details", "permissions": block["permissions"]}
    return {"@type": "TBD#Details", **block, "group": group}


def encode_shape(stored: StoredShape, shape_details: dict[str, Any]) -> dict[str, Any]:
    shape = stored.shape
    out: dict[str, Any] = {"@type": OME + model.OME_NAMES[shape.kind], "@id": stored.id,
                           "omero:details": shape_details}
    style = shape.style
    if shape.fill_color is not None:
        out["FillColor"] = shape.fill_color
    for key, name in _STYLE:
        if style.get(name) is not None:
            out[key] = style[name]
    if shape.font_size is not None:
        out["FontSize"] = _unit(shape.font_size, "font_size")
    if style.get("font_style") is not None:
        out["FontStyle"] = style["font_style"]
    if style.get("locked") is not None:
        out["Locked"] = bool(style["locked"])
    if shape.stroke_color is not None:
        out["StrokeColor"] = shape.stroke_color
    if style.get("stroke_dash_array") is not None:
        out["StrokeDashArray"] = style["stroke_dash_array"]
    if shape.stroke_width is not None:
        out["StrokeWidth"] = _unit(shape.stroke_width, "stroke_width")
    if shape.text:
        out["Text"] = shape.text
    for key, value in (("TheC", shape.c), ("TheT", shape.t), ("TheZ", shape.z)):
        if value is not None:
            out[key] = value
    if shape.transform is not None:
        out["Transform"] = {"@type": OME + "AffineTransform", "@id": stored.id,
                            "omero:details": shape_details,
                            **dict(zip(("A00", "A10", "A01", "A11", "A02", "A12"),
                                       (float(v) for v in shape.transform), strict=True))}
    if shape.kind in ("polygon", "polyline"):
        out["Points"] = model.format_points(shape.coords)
    else:
        out.update(zip(_GEOMETRY[shape.kind], (float(v) for v in shape.coords), strict=True))
    if shape.kind in ("line", "polyline"):
        for key, name in _MARKERS:
            if style.get(name) is not None:
                out[key] = style[name]
    return out


def encode_roi(actor: Actor, roi: StoredRoi, owner: Any, group: Any) -> dict[str, Any]:
    block = group_details(details(actor, owner, group))
    out: dict[str, Any] = {"@type": OME + "ROI", "@id": roi.id, "omero:details": block}
    if roi.name:
        out["Name"] = roi.name
    if roi.description:
        out["Description"] = roi.description
    if roi.shapes:
        out["shapes"] = [encode_shape(s, block) for s in roi.shapes]
    return out


def encode_rois(request: Request, actor: Actor, found: list[StoredRoi],
                with_url: bool) -> list[dict[str, Any]]:
    """ROIs with their owners and groups, as OMERO.web's listings give them."""
    users, groups = principals.names(vault_of(request).catalog, {r.owner_id for r in found},
                                     {r.group_id for r in found})
    base = api_root(request)
    out = []
    for roi in found:
        block = encode_roi(actor, roi, users[roi.owner_id], groups[roi.group_id])
        if with_url:
            block["url:roi"] = f"{base}m/rois/{roi.id}/"
        out.append(block)
    return out


# --- shapes sent by OMERO.iviewer and QuPath -------------------------------------------

def _number(data: dict[str, Any], key: str, what: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{what}: {key} is missing or not a number")
    if not model.finite(value):
        raise InvalidInputError(f"{what}: {key} {str(value)[:40]} is not a finite number")
    return float(value)


def _index(data: dict[str, Any], key: str, what: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{what}: {key} is a plane index, a whole number")
    return None if value < 0 else value  # -1: every plane, as iviewer and QuPath send it


def _length(data: dict[str, Any], key: str, what: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, dict):
        return _number(value, "Value", f"{what} {key}")
    return _number(data, key, what)


def _colour(data: dict[str, Any], key: str, what: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or \
            not -(1 << 31) <= value < (1 << 32):
        raise InvalidInputError(f"{what}: {key} is an RGBA colour as one 32-bit integer")
    return value - (1 << 32) if value >= 1 << 31 else value


def _text(data: dict[str, Any], key: str, what: str, limit: int = 256) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str | bool) or (isinstance(value, str) and len(value) > limit):
        raise InvalidInputError(f"{what}: {key} is a short text")
    return str(value)


def decode_shape(data: Any, what: str, mask: bytes | None = None) -> model.Shape:
    """A shape from omero-marshal's JSON; its ``@type`` names the kind. A Mask keeps
    ``mask`` (the bytes it had: the JSON never carries them)."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{what}: a shape is a JSON object")
    kind = _KIND_OF.get(str(data.get("@type", "")).rpartition("#")[2].lower())
    if kind is None:
        raise InvalidInputError(f"{what}: shape type {data.get('@type')!r} is not one of "
                                f"{', '.join(model.OME_NAMES.values())}")
    if kind in ("polygon", "polyline"):
        points = data.get("Points")
        if not isinstance(points, str):
            raise InvalidInputError(f"{what}: a {model.OME_NAMES[kind]} needs Points")
        coords = model.parse_points(points, what)
    else:
        coords = tuple(_number(data, key, what) for key in _GEOMETRY[kind])
    transform = None
    block = data.get("Transform")
    if isinstance(block, dict) and block:
        transform = tuple(_number(block, key, f"{what} Transform")
                          for key in ("A00", "A10", "A01", "A11", "A02", "A12"))
    style: dict[str, Any] = {}
    for key, name in (*_STYLE, ("FontStyle", "font_style"),
                      ("StrokeDashArray", "stroke_dash_array"), *_MARKERS):
        value = _text(data, key, what)
        if value is not None:
            style[name] = value
    if isinstance(data.get("Locked"), bool):
        style["locked"] = data["Locked"]
    text = data.get("Text")
    if text is not None and not isinstance(text, str):
        raise InvalidInputError(f"{what}: Text is a string")
    return model.Shape(
        kind=kind, coords=coords, z=_index(data, "TheZ", what), t=_index(data, "TheT", what),
        c=_index(data, "TheC", what), text=text or "",
        stroke_color=_colour(data, "StrokeColor", what),
        fill_color=_colour(data, "FillColor", what),
        stroke_width=_length(data, "StrokeWidth", what),
        font_size=_length(data, "FontSize", what),
        transform=transform, style=style,  # type: ignore[arg-type]
        mask=mask if kind == "mask" else None)


# --- webgateway's get_rois_json --------------------------------------------------------

def _css(value: int) -> tuple[str, float]:
    rgba = value & 0xFFFFFFFF
    return f"#{rgba >> 8:06x}", (rgba & 0xFF) / 255


def _svg(shape: model.Shape) -> str:
    path = "M " + " L ".join(f"{x} {y}" for x, y in shape.vertices)
    return path + " z" if shape.kind == "polygon" else path


def webgateway_shape(stored: StoredShape) -> dict[str, Any]:
    """One shape as webgateway's ``shapeMarshal`` writes it."""
    shape = stored.shape
    out: dict[str, Any] = {"id": stored.id}
    if shape.t is not None:
        out["theT"] = shape.t
    if shape.z is not None:
        out["theZ"] = shape.z
    out["type"] = "PolyLine" if shape.kind == "polyline" else model.OME_NAMES[shape.kind]
    named = shape.named()
    keys = {"point": {"x": "x", "y": "y"}, "label": {"x": "x", "y": "y"},
            "rectangle": {"x": "x", "y": "y", "width": "width", "height": "height"},
            "mask": {"x": "x", "y": "y", "width": "width", "height": "height"},
            "ellipse": {"x": "x", "y": "y", "radius_x": "radiusX", "radius_y": "radiusY"},
            "line": {"x1": "x1", "x2": "x2", "y1": "y1", "y2": "y2"}}.get(shape.kind)
    if keys is None:
        out["points"] = _svg(shape)
    else:
        out.update({new: named[old] for old, new in keys.items()})
    if shape.text:
        out["textValue"] = shape.text
        if shape.font_size is not None:
            out["fontSize"] = shape.font_size
        for key, name in (("fontStyle", "font_style"), ("fontFamily", "font_family")):
            if shape.style.get(name):
                out[key] = shape.style[name]
    if shape.transform is not None:
        out["transform"] = "matrix({} {} {} {} {} {})".format(*shape.transform)
    for key, value in (("fill", shape.fill_color), ("stroke", shape.stroke_color)):
        if value is not None:
            out[f"{key}Color"], out[f"{key}Alpha"] = _css(value)
    if shape.stroke_width is not None:
        out["strokeWidth"] = shape.stroke_width
    for key, name in (("markerStart", "marker_start"), ("markerEnd", "marker_end")):
        if shape.style.get(name):
            out[key] = shape.style[name]
    return out
