"""Regions of interest as the OME model has them, independent of any file or catalog.

One shape type per OME shape (Point, Line, Rectangle, Ellipse, Polygon,
Polyline, Label, Mask). Coordinates are a flat tuple whose meaning depends on
the kind (``COORDS``); a mask carries its pixels packed one bit per pixel, rows
first, the most significant bit first (OMERO's and ``numpy.packbits``' order).

Every shape that enters pixelvault, from a file, a viewer or a GeoJSON file,
goes through :func:`check` against the image it is drawn on: the checks bound
what a shape may cost (vertices, mask bytes, text) and refuse what no viewer
could draw (NaN, infinite or missing coordinates, planes the image lacks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pixelvault.errors import InvalidInputError

# kind -> the names of its coordinates (polygons and polylines: x0, y0, x1, y1, ...)
COORDS: dict[str, tuple[str, ...]] = {
    "point": ("x", "y"),
    "label": ("x", "y"),
    "line": ("x1", "y1", "x2", "y2"),
    "rectangle": ("x", "y", "width", "height"),
    "ellipse": ("x", "y", "radius_x", "radius_y"),
    "mask": ("x", "y", "width", "height"),
    "polygon": (),
    "polyline": (),
}
KINDS = tuple(COORDS)
# OME-XML's and omero-marshal's names of the kinds.
OME_NAMES = {"point": "Point", "label": "Label", "line": "Line", "rectangle": "Rectangle",
             "ellipse": "Ellipse", "mask": "Mask", "polygon": "Polygon",
             "polyline": "Polyline"}
# Style keys kept as they come (OME's attribute names, snake_case).
STYLE_KEYS = ("fill_rule", "font_family", "font_style", "stroke_dash_array", "marker_start",
              "marker_end", "locked")
MAX_VERTICES = 500_000  # per polygon or polyline: a whole-slide outline has ~10^4
MAX_TEXT = 65_536
MAX_SHAPES_PER_ROI = 100_000
MAX_MASK_PIXELS = 16 << 20  # a 4096x4096 mask; OMERO's masks are one object each
MAX_INTEGER = 1 << 53


@dataclass(frozen=True)
class Shape:
    kind: str
    coords: tuple[float, ...]
    z: int | None = None
    t: int | None = None
    c: int | None = None
    text: str = ""
    stroke_color: int | None = None  # RGBA as one signed 32-bit integer
    fill_color: int | None = None
    stroke_width: float | None = None  # pixels
    font_size: float | None = None  # points
    # a00 a10 a01 a11 a02 a12: x' = a00 x + a01 y + a02, y' = a10 x + a11 y + a12
    transform: tuple[float, float, float, float, float, float] | None = None
    style: dict[str, Any] = field(default_factory=dict)
    mask: bytes | None = None

    def named(self) -> dict[str, float]:
        """The coordinates by their OME names (points as ``points``, not here)."""
        return dict(zip(COORDS[self.kind], self.coords, strict=False))

    @property
    def vertices(self) -> list[tuple[float, float]]:
        return list(zip(self.coords[0::2], self.coords[1::2], strict=True))

    def bounds(self) -> tuple[float, float, float, float]:
        """min x, min y, max x, max y of the shape as drawn (its transform applied)."""
        k, v = self.kind, self.coords
        if k in ("point", "label"):
            corners = [(v[0], v[1])]
        elif k == "line":
            corners = [(v[0], v[1]), (v[2], v[3])]
        elif k in ("rectangle", "mask"):
            corners = [(v[0], v[1]), (v[0] + v[2], v[1] + v[3])]
            corners += [(v[0] + v[2], v[1]), (v[0], v[1] + v[3])]
        elif k == "ellipse":
            corners = [(v[0] - v[2], v[1] - v[3]), (v[0] + v[2], v[1] + v[3]),
                       (v[0] + v[2], v[1] - v[3]), (v[0] - v[2], v[1] + v[3])]
        else:
            xs, ys = v[0::2], v[1::2]
            corners = [(min(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)),
                       (max(xs), min(ys))]
        if self.transform is not None:
            a00, a10, a01, a11, a02, a12 = self.transform
            corners = [(a00 * x + a01 * y + a02, a10 * x + a11 * y + a12) for x, y in corners]
        xs2 = [x for x, _ in corners]
        ys2 = [y for _, y in corners]
        return min(xs2), min(ys2), max(xs2), max(ys2)


@dataclass(frozen=True)
class Roi:
    """A ROI of series ``series`` of a file (or of an image, once imported)."""

    shapes: tuple[Shape, ...]
    name: str = ""
    description: str = ""
    series: int = 0


@dataclass(frozen=True)
class Plane:
    """The sizes a shape is checked against."""

    size_x: int
    size_y: int
    size_z: int
    size_c: int
    size_t: int


def finite(value: object) -> bool:
    """A number a shape may hold: finite, and no integer beyond what a double holds
    exactly (a 400-digit one would overflow every later computation)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_INTEGER
    return math.isfinite(value)


def _finite(values: tuple[float, ...], what: str) -> None:
    for value in values:
        if not finite(value):
            raise InvalidInputError(f"{what}: coordinate {str(value)[:40]} is not a finite "
                                    "number")


def check(shape: Shape, plane: Plane, what: str) -> Shape:
    """``shape`` if the image can hold it; InvalidInputError saying why not otherwise."""
    if shape.kind not in COORDS:
        raise InvalidInputError(f"{what}: shape type {shape.kind!r} is not one of "
                                f"{', '.join(OME_NAMES.values())}")
    wanted = COORDS[shape.kind]
    if wanted and len(shape.coords) != len(wanted):
        raise InvalidInputError(f"{what}: a {OME_NAMES[shape.kind]} needs "
                                f"{', '.join(wanted)}")
    if not wanted:
        count = len(shape.coords) // 2
        least = 3 if shape.kind == "polygon" else 2
        if len(shape.coords) % 2 or count < least:
            raise InvalidInputError(f"{what}: a {OME_NAMES[shape.kind]} needs at least "
                                    f"{least} points, it has {count}")
        if count > MAX_VERTICES:
            raise InvalidInputError(f"{what}: {count} points; at most {MAX_VERTICES} per shape "
                                    "(simplify the outline, or split it)")
    _finite(shape.coords, what)
    if shape.transform is not None:
        if len(shape.transform) != 6:
            raise InvalidInputError(f"{what}: a transform has six values, a00 to a12")
        _finite(shape.transform, f"{what}'s transform")
    for value, name in ((shape.stroke_width, "stroke width"), (shape.font_size, "font size")):
        if value is not None and (not finite(value) or value < 0):
            raise InvalidInputError(f"{what}: {name} {value} is not a number of 0 or more")
    if shape.kind in ("rectangle", "ellipse", "mask") and min(shape.coords[2:]) < 0:
        raise InvalidInputError(f"{what}: a {OME_NAMES[shape.kind]} with a negative size")
    for index, size, name in ((shape.z, plane.size_z, "Z"), (shape.t, plane.size_t, "T"),
                              (shape.c, plane.size_c, "C")):
        if index is not None and not 0 <= index < size:
            raise InvalidInputError(f"{what}: the{name} {index} is not a plane of the image "
                                    f"(it has {size}; they count from 0)")
    if len(shape.text) > MAX_TEXT:
        raise InvalidInputError(f"{what}: text of {len(shape.text)} characters; at most "
                                f"{MAX_TEXT}")
    for colour in (shape.stroke_color, shape.fill_color):
        if colour is not None and (isinstance(colour, bool) or not isinstance(colour, int)
                                   or not -(1 << 31) <= colour < (1 << 31)):
            raise InvalidInputError(f"{what}: a colour is RGBA as one signed 32-bit integer")
    for index in (shape.z, shape.t, shape.c):
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise InvalidInputError(f"{what}: a plane index is a whole number")
    for key, value in shape.style.items():
        if key not in STYLE_KEYS or not (isinstance(value, bool) or (
                isinstance(value, str) and len(value) <= 256)):
            raise InvalidInputError(f"{what}: style {str(key)[:40]} is not one of "
                                    f"{', '.join(STYLE_KEYS)} with a short text")
    if shape.kind == "mask":
        _check_mask(shape, plane, what)
    elif shape.mask is not None:
        raise InvalidInputError(f"{what}: only a Mask carries mask bytes")
    return shape


def _check_mask(shape: Shape, plane: Plane, what: str) -> None:
    width, height = shape.coords[2], shape.coords[3]
    if width != int(width) or height != int(height) or width < 1 or height < 1:
        raise InvalidInputError(f"{what}: a mask's width and height are whole pixels, 1 or "
                                "more")
    if width * height > MAX_MASK_PIXELS:
        raise InvalidInputError(f"{what}: a {int(width)}x{int(height)} mask; at most "
                                f"{MAX_MASK_PIXELS} pixels per mask (split it)")
    if width > plane.size_x or height > plane.size_y:
        raise InvalidInputError(f"{what}: a {int(width)}x{int(height)} mask is larger than "
                                f"the {plane.size_x}x{plane.size_y} image")
    wanted = (int(width) * int(height) + 7) // 8
    if shape.mask is None or len(shape.mask) != wanted:
        got = 0 if shape.mask is None else len(shape.mask)
        raise InvalidInputError(f"{what}: a {int(width)}x{int(height)} mask has {wanted} "
                                f"bytes at one bit per pixel, not {got}")


def pack_mask(data: bytes, width: int, height: int, what: str) -> bytes:
    """Mask bytes at one bit per pixel: as given if already packed, or packed from one
    byte per pixel (non-zero is inside), as some writers store them; any other length is
    a wrong bit depth."""
    import numpy as np

    pixels = width * height
    if len(data) == (pixels + 7) // 8:
        return data
    if len(data) == pixels:
        return np.packbits(np.frombuffer(data, np.uint8) != 0).tobytes()
    raise InvalidInputError(f"{what}: {len(data)} mask bytes for {width}x{height} pixels; "
                            f"one bit per pixel is {(pixels + 7) // 8} bytes")


def mask_array(shape: Shape) -> Any:
    """The mask as a (height, width) boolean array."""
    import numpy as np

    width, height = int(shape.coords[2]), int(shape.coords[3])
    bits = np.unpackbits(np.frombuffer(shape.mask or b"", np.uint8), count=width * height)
    return bits.reshape(height, width).astype(bool)


def parse_points(text: str, what: str) -> tuple[float, ...]:
    """OME's ``"x,y x,y ..."`` points (commas and blanks both separate, as OMERO's
    clients write either), bounded before it is split."""
    if len(text) > MAX_VERTICES * 48:
        raise InvalidInputError(f"{what}: the points text is {len(text)} characters long; "
                                f"at most {MAX_VERTICES} points")
    try:
        values = tuple(float(v) for v in text.replace(",", " ").split())
    except ValueError:
        raise InvalidInputError(f"{what}: points {text[:40]!r} are not numbers "
                                "\"x,y x,y ...\"") from None
    return values


def format_points(coords: tuple[float, ...]) -> str:
    return " ".join(f"{_number(x)},{_number(y)}" for x, y in
                    zip(coords[0::2], coords[1::2], strict=True))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
