"""ROIs in OME-XML: read from an OME document at import, written into an export's.

Reading keeps what the model holds (coordinates, planes, colours, text, font,
transform, markers, mask bits); units of stroke width and font size are taken
as the pixels and points OMERO's clients draw in.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

from pixelvault.errors import InvalidInputError
from pixelvault.formats.rois import (
    COORDS,
    MAX_SHAPES_PER_ROI,
    OME_NAMES,
    STYLE_KEYS,
    Roi,
    Shape,
    format_points,
    pack_mask,
    parse_points,
)

_KIND_OF = {name: kind for kind, name in OME_NAMES.items()}
MAX_MASK_BYTES = 256 << 20


def _enum(value: Any) -> Any:
    return getattr(value, "value", value)


def _shape(item: Any, what: str) -> Shape:
    kind = _KIND_OF.get(type(item).__name__)
    if kind is None:
        raise InvalidInputError(f"{what}: shape type {type(item).__name__} is not one OMERO "
                                "knows")
    if kind in ("polygon", "polyline"):
        coords = parse_points(item.points or "", what)
    else:
        values = [getattr(item, name, None) for name in COORDS[kind]]
        if any(v is None for v in values):
            raise InvalidInputError(f"{what}: a {OME_NAMES[kind]} without "
                                    f"{', '.join(COORDS[kind])}")
        coords = tuple(float(v) for v in values if v is not None)
    transform = None
    if item.transform is not None:
        t = item.transform
        transform = (float(t.a00), float(t.a10), float(t.a01), float(t.a11), float(t.a02),
                     float(t.a12))
    style = {key: _enum(getattr(item, key, None)) for key in STYLE_KEYS}
    mask = None
    if kind == "mask":
        mask = pack_mask(_bin_bytes(item.bin_data, what), int(coords[2]), int(coords[3]), what)
    return Shape(
        kind=kind, coords=coords, z=item.the_z, t=item.the_t, c=item.the_c,
        text=item.text or "",
        stroke_color=item.stroke_color.as_int32() if item.stroke_color is not None else None,
        fill_color=item.fill_color.as_int32() if item.fill_color is not None else None,
        stroke_width=float(item.stroke_width) if item.stroke_width is not None else None,
        font_size=float(item.font_size) if item.font_size is not None else None,
        transform=transform, style={k: v for k, v in style.items() if v is not None},
        mask=mask)


def _bin_bytes(bin_data: Any, what: str) -> bytes:
    if bin_data is None:
        raise InvalidInputError(f"{what}: a Mask without its BinData")
    raw = bin_data.value
    data = raw if isinstance(raw, bytes) else base64.b64decode(raw or b"")
    if _enum(bin_data.compression) == "zlib":
        inflater = zlib.decompressobj()
        data = inflater.decompress(data, MAX_MASK_BYTES)
        if inflater.unconsumed_tail:
            raise InvalidInputError(f"{what}: a mask of more than {MAX_MASK_BYTES} bytes")
    elif _enum(bin_data.compression) not in (None, "none"):
        raise InvalidInputError(f"{what}: mask compression {_enum(bin_data.compression)} is "
                                "not supported; write it uncompressed or zlib")
    return data


def rois_of(ome: Any, what: str) -> list[Roi]:
    """Every ROI an image of the document refers to, with that image's series index
    (a ROI no image refers to belongs to no image, and is left out)."""
    by_id = {roi.id: roi for roi in ome.rois}
    found = []
    for index, image in enumerate(ome.images):
        for ref in image.roi_refs:
            roi = by_id.get(ref.id)
            if roi is None:
                continue
            shapes = list(roi.union)
            if len(shapes) > MAX_SHAPES_PER_ROI:
                raise InvalidInputError(f"{what}: {roi.id} has {len(shapes)} shapes; at most "
                                        f"{MAX_SHAPES_PER_ROI}")
            found.append(Roi(
                shapes=tuple(_shape(s, f"{what} {roi.id} {s.id}") for s in shapes),
                name=roi.name or "", description=roi.description or "", series=index))
    return found


def to_ome(rois: list[Roi], first_id: int = 0) -> list[Any]:
    """The ome-types ROI objects of ``rois`` (ids ROI:n and Shape:n from ``first_id``)."""
    import ome_types.model as model

    result = []
    shape_number = first_id
    for number, roi in enumerate(rois, start=first_id):
        union = []
        for shape in roi.shapes:
            union.append(_ome_shape(model, shape, f"Shape:{shape_number}"))
            shape_number += 1
        result.append(model.ROI(id=f"ROI:{number}", name=roi.name or None,
                                description=roi.description or None, union=union))
    return result


def _ome_shape(model: Any, shape: Shape, ident: str) -> Any:
    fields: dict[str, Any] = {"id": ident, "the_z": shape.z, "the_t": shape.t,
                              "the_c": shape.c, "text": shape.text or None,
                              "stroke_width": shape.stroke_width,
                              "font_size": shape.font_size}
    for key in ("stroke_color", "fill_color"):
        value = getattr(shape, key)
        if value is not None:
            fields[key] = model.Color(value & 0xFFFFFFFF if value < 0 else value)
    if shape.transform is not None:
        a00, a10, a01, a11, a02, a12 = shape.transform
        fields["transform"] = model.AffineTransform(a00=a00, a10=a10, a01=a01, a11=a11,
                                                    a02=a02, a12=a12)
    cls = getattr(model, OME_NAMES[shape.kind])
    allowed = set(cls.model_fields)
    fields.update({k: v for k, v in shape.style.items() if k in allowed})
    if shape.kind in ("polygon", "polyline"):
        fields["points"] = format_points(shape.coords)
    else:
        fields.update(shape.named())
    if shape.kind == "mask":
        fields["bin_data"] = model.BinData(value=shape.mask or b"", big_endian=True,
                                           length=len(shape.mask or b""))
    return cls(**{k: v for k, v in fields.items() if v is not None})
