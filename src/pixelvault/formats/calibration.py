"""Pixel sizes of TIFF flavours that are not OME-TIFF, each read where its maker put it.

Whole-slide scanners and acquisition programs each store the size of a pixel their own
way: Aperio in the ImageDescription (``MPP``), Hamamatsu and plain TIFFs in the
resolution tags (pixels per centimetre or inch), Leica SCN, Philips and PerkinElmer
in XML, Ventana in XMP, Micro-Manager in JSON, ImageJ in its description. Without
them a slide imports without a scale bar and measurements come out in pixels, so each
vendor gets one small function that reads what Bio-Formats reads for it.

Every function takes the open ``TiffFile`` and the first page of the series (its
full-resolution level) and returns the sizes it found, in micrometres and seconds,
under :class:`~pixelvault.formats.base.Series`' field names; an absent or unreadable
value is left out rather than guessed, so calibration never fails an import.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from pixelvault.errors import CorruptFileError
from pixelvault.formats.xmlguard import refuse_entities

Found = dict[str, float]

_IMAGEJ_UNITS = {"micron": 1.0, "microns": 1.0, "µm": 1.0, "μm": 1.0, "um": 1.0,
                 "\\u00B5m": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6}
# TIFF ResolutionUnit: 2 inch, 3 centimetre; micrometres in one of each.
_RESOLUTION_UNITS = {2: 25400.0, 3: 10000.0}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _positive(value: Any) -> float | None:
    """A finite, positive float, or None for anything else (text, 0, NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _square(size_x: float | None, size_y: float | None = None) -> Found:
    """X and Y sizes; Y is X's when not given (square pixels)."""
    found: Found = {}
    if size_y is None:
        size_y = size_x
    if size_x is not None:
        found["physical_size_x"] = size_x
    if size_y is not None:
        found["physical_size_y"] = size_y
    return found


def _description(page: Any) -> str:
    return str(getattr(page, "description", "") or "")


def _tag(page: Any, key: int | str) -> Any:
    tag = page.tags.get(key)
    return None if tag is None else tag.value


def _xml(text: str | bytes, what: str) -> ElementTree.Element | None:
    """The parsed document, or None when it is not well-formed or declares entities
    (a calibration is not worth failing or endangering the import for)."""
    try:
        refuse_entities(text, what, "TIFF XML")
        return ElementTree.fromstring(text)  # noqa: S314 (no DOCTYPE: refused above)
    except (CorruptFileError, ElementTree.ParseError, ValueError):
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def resolution_tags(tif: Any, page: Any) -> Found:
    """Plain TIFF (and Hamamatsu NDPI, QPTIFF): XResolution and YResolution, pixels per
    ResolutionUnit, when that unit is the inch or the centimetre."""
    unit = _RESOLUTION_UNITS.get(int(_tag(page, "ResolutionUnit") or 0))
    if unit is None:
        return {}
    sizes = []
    for name in ("XResolution", "YResolution"):
        value = _tag(page, name)
        try:
            numerator, denominator = value
            per_unit = _positive(numerator / denominator) if denominator else None
        except (TypeError, ValueError, ZeroDivisionError):
            per_unit = None
        sizes.append(unit / per_unit if per_unit else None)
    return _square(sizes[0], sizes[1]) if sizes[0] is not None else {}


def imagej(tif: Any, page: Any) -> Found:
    """ImageJ: the resolution tags in the description's ``unit``, ``spacing`` (Z) in it
    too, ``finterval`` (seconds)."""
    meta = tif.imagej_metadata or {}
    if not meta:
        return {}
    found: Found = {}
    unit = _IMAGEJ_UNITS.get(str(meta.get("unit", "")).strip())
    if unit is not None:
        for axis, name in (("x", "XResolution"), ("y", "YResolution")):
            value = _tag(page, name)
            try:
                numerator, denominator = value
            except (TypeError, ValueError):
                continue
            if _positive(numerator) and _positive(denominator):
                found[f"physical_size_{axis}"] = denominator / numerator * unit
        spacing = _positive(meta.get("spacing"))
        if spacing is not None:
            found["physical_size_z"] = spacing * unit
    interval = _positive(meta.get("finterval"))
    if interval is not None:
        found["time_increment"] = interval
    return found


def aperio(tif: Any, page: Any) -> Found:
    """Aperio SVS: ``MPP = 0.499`` (micrometres per pixel) among the description's
    ``|``-separated fields."""
    text = _description(tif.pages[0]) if not _description(page).startswith("Aperio") \
        else _description(page)
    if not text.startswith("Aperio"):
        return {}
    match = re.search(rf"\|\s*MPP\s*=\s*({_NUMBER})", text)
    return _square(_positive(match.group(1))) if match else {}


def hamamatsu(tif: Any, page: Any) -> Found:
    """Hamamatsu NDPI (its tag 65420 marks it): the resolution tags, in centimetres."""
    if 65420 not in page.tags:
        return {}
    return resolution_tags(tif, page)


def leica_scn(tif: Any, page: Any) -> Found:
    """Leica SCN: the XML gives each image's ``view`` size in nanometres and its
    full-resolution ``dimension`` in pixels; the series is the image whose r=0 dimension
    lives in this page's IFD."""
    text = _description(tif.pages[0])
    if not text.rstrip().endswith("</scn>"):
        return {}
    root = _xml(text, "Leica SCN")
    if root is None:
        return {}
    for image in root.iter():
        if _local(image.tag) != "image":
            continue
        view = next((e for e in image if _local(e.tag) == "view"), None)
        for dimension in image.iter():
            if _local(dimension.tag) != "dimension" or dimension.get("r", "0") != "0" \
                    or dimension.get("ifd") != str(page.index):
                continue
            if view is None:
                return {}
            width, height = (_positive(dimension.get("sizeX")),
                             _positive(dimension.get("sizeY")))
            span_x, span_y = _positive(view.get("sizeX")), _positive(view.get("sizeY"))
            if not (width and height and span_x and span_y):
                return {}
            return _square(span_x / 1000 / width, span_y / 1000 / height)
    return {}


def philips(tif: Any, page: Any) -> Found:
    """Philips TIFF: ``DICOM_PIXEL_SPACING`` (row then column spacing, millimetres) of
    the whole-slide image's first pixel data representation, its full resolution."""
    text = _description(tif.pages[0])
    if "DICOM_PIXEL_SPACING" not in text:
        return {}
    root = _xml(text, "Philips TIFF")
    if root is None:
        return {}
    spacings = []
    for scanned in root.iter("DataObject"):
        if scanned.get("ObjectType") != "DPScannedImage":
            continue
        kind = next((a.text for a in scanned.iter("Attribute")
                     if a.get("Name") == "PIM_DP_IMAGE_TYPE"), None)
        if (kind or "").strip().upper() == "WSI":
            spacings = [a.text or "" for a in scanned.iter("Attribute")
                        if a.get("Name") == "DICOM_PIXEL_SPACING"]
            break
    if not spacings:
        spacings = [a.text or "" for a in root.iter("Attribute")
                    if a.get("Name") == "DICOM_PIXEL_SPACING"]
    if not spacings:
        return {}
    values = [_positive(v) for v in re.findall(_NUMBER, spacings[0])]
    if len(values) < 2 or values[0] is None or values[1] is None:
        return {}
    return _square(values[1] * 1000, values[0] * 1000)


def ventana(tif: Any, page: Any) -> Found:
    """Ventana BIF: ``ScanRes`` (micrometres per pixel) of the ``iScan`` element in
    the XMP of the slide's pages."""
    for candidate in (page, *(tif.pages[i] for i in range(min(4, len(tif.pages))))):
        xmp = _tag(candidate, 700)
        if xmp is None:
            continue
        text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else str(xmp)
        match = re.search(rf"<iScan\b[^>]*\bScanRes\s*=\s*\"({_NUMBER})\"", text)
        if match:
            return _square(_positive(match.group(1)))
    return {}


def qptiff(tif: Any, page: Any) -> Found:
    """PerkinElmer QPTIFF: ``PixelSizeMicrons`` of the XML's ``ScanProfile``; older
    files have only the resolution tags (in centimetres, the XML's ResolutionUnit)."""
    text = _description(page) or _description(tif.pages[0])
    if "<PerkinElmer-QPI-ImageDescription" not in text:
        return {}
    root = _xml(text, "QPTIFF")
    if root is not None:
        for element in root.iter():
            if _local(element.tag) == "ScanProfile":
                profile = element.text or ""
                inner = _xml(profile, "QPTIFF ScanProfile") if profile.strip() else None
                holder = inner if inner is not None else element
                for item in holder.iter():
                    if _local(item.tag) == "PixelSizeMicrons":
                        size = _positive((item.text or "").strip())
                        if size is not None:
                            return _square(size)
    return resolution_tags(tif, page)


def micromanager(tif: Any, page: Any) -> Found:
    """Micro-Manager: ``PixelSize_um``, ``z-step_um`` and ``Interval_ms`` of the summary
    (the file's header), or ``PixelSizeUm`` of the plane's own JSON tag (51123)."""
    found: Found = {}
    summary = (getattr(tif, "micromanager_metadata", None) or {}).get("Summary") or {}
    frame = _tag(page, 51123)
    if isinstance(frame, (str, bytes)):
        try:
            frame = json.loads(frame)
        except ValueError:
            frame = None
    frame = frame if isinstance(frame, dict) else {}
    if not summary and not frame:
        return {}
    size = _positive(summary.get("PixelSize_um")) or _positive(frame.get("PixelSizeUm")) \
        or _positive(frame.get("PixelSize_um"))
    found.update(_square(size))
    z_step = _positive(summary.get("z-step_um")) or _positive(frame.get("z-step_um"))
    if z_step is not None:
        found["physical_size_z"] = z_step
    interval = _positive(summary.get("Interval_ms")) or _positive(frame.get("Interval_ms"))
    if interval is not None:
        found["time_increment"] = interval / 1000
    return found


# The order they are asked in: vendors' own metadata first, the generic tags last.
VENDORS: tuple[Callable[[Any, Any], Found], ...] = (
    imagej, aperio, leica_scn, philips, ventana, qptiff, micromanager, hamamatsu,
    resolution_tags)


def calibration(tif: Any, page: Any | None) -> Found:
    """The pixel sizes and time step of the series whose first page is ``page``: each
    quantity from the first vendor's function that gives it."""
    if page is None:
        return {}
    found: Found = {}
    for vendor in VENDORS:
        try:
            for key, value in vendor(tif, page).items():
                found.setdefault(key, value)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            continue  # a malformed vendor field: no calibration from it, no failure
    return found
