"""OME-XML: parsed safely, and turned into series descriptions and annotations.

A document with a DOCTYPE is refused before any parser sees it: OME-XML never
needs one, and entity declarations are how XML external-entity attacks (OMERO
CVE-2026-22186) and entity-expansion bombs arrive.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pixelvault.errors import CorruptFileError
from pixelvault.formats import omexml_rois, plates
from pixelvault.formats.base import Annotation, Channel, Series
from pixelvault.formats.plates import PlateLayout
from pixelvault.formats.rois import Roi
from pixelvault.formats.xmlguard import refuse_entities

# Lengths in micrometres, times in seconds, wavelengths in nanometres.
_LENGTH = {"m": 1e6, "cm": 1e4, "mm": 1e3, "µm": 1.0, "um": 1.0, "nm": 1e-3, "pm": 1e-6,
           "Å": 1e-4, "in": 25400.0}
_TIME = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9, "min": 60.0, "h": 3600.0}
_WAVE = {"nm": 1.0, "µm": 1e3, "um": 1e3, "pm": 1e-3, "Å": 0.1, "m": 1e9}


def parse(xml: str | bytes, what: str) -> Any:
    """The OME model of ``xml``; CorruptFileError, naming ``what``, if it is not OME-XML."""
    import ome_types

    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    refuse_entities(raw, what, "OME-XML")
    try:
        return ome_types.from_xml(raw.decode("utf-8", "replace"), validate=False)
    except Exception as exc:  # the parser raises many types; all mean "not valid OME-XML"
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CorruptFileError(f"{what}: its OME-XML cannot be read ({reason})") from None


def _unit(value: Any, unit: Any, table: dict[str, float]) -> float | None:
    if value is None:
        return None
    symbol = getattr(unit, "value", unit) or ""
    factor = table.get(str(symbol))
    return None if factor is None else float(value) * factor


def _channel(channel: Any) -> Channel:
    color = channel.color.as_int32() if channel.color is not None else None
    return Channel(
        name=channel.name or "",
        emission_wavelength=_unit(channel.emission_wavelength,
                                  channel.emission_wavelength_unit, _WAVE),
        excitation_wavelength=_unit(channel.excitation_wavelength,
                                    channel.excitation_wavelength_unit, _WAVE),
        color=color)


def describe(ome: Any, index: int, levels: tuple[tuple[int, int], ...],
             pixel_type: str, significant_bits: int) -> Series:
    """Series ``index`` of the document; sizes and levels come from the pixels the
    caller really found (the XML is checked against them by the caller)."""
    image = ome.images[index]
    pixels = image.pixels
    channels = [_channel(c) for c in pixels.channels]
    size_c = int(pixels.size_c)
    while len(channels) < size_c:
        channels.append(Channel())
    date = image.acquisition_date
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return Series(
        index=index, name=image.name or "", size_x=int(pixels.size_x),
        size_y=int(pixels.size_y), size_z=int(pixels.size_z), size_c=size_c,
        size_t=int(pixels.size_t), pixel_type=pixel_type,
        significant_bits=int(pixels.significant_bits or significant_bits), levels=levels,
        channels=tuple(channels[:size_c]),
        physical_size_x=_unit(pixels.physical_size_x, pixels.physical_size_x_unit, _LENGTH),
        physical_size_y=_unit(pixels.physical_size_y, pixels.physical_size_y_unit, _LENGTH),
        physical_size_z=_unit(pixels.physical_size_z, pixels.physical_size_z_unit, _LENGTH),
        time_increment=_unit(pixels.time_increment, pixels.time_increment_unit, _TIME),
        acquisition_date=date, description=image.description or "")


def annotations_of(ome: Any) -> list[Annotation]:
    """Map, tag and comment annotations, with the series that refer to them."""
    structured = ome.structured_annotations
    if structured is None:
        return []
    users: dict[str, list[int]] = {}
    for index, image in enumerate(ome.images):
        for ref in image.annotation_refs:
            users.setdefault(ref.id, []).append(index)
    found: list[Annotation] = []
    for item in structured.map_annotations:
        pairs = tuple((m.k or "", m.value or "") for m in item.value.ms)
        found.append(Annotation("map", values=pairs, namespace=item.namespace or "",
                                series=tuple(users.get(item.id, ()))))
    for kind, items in (("tag", structured.tag_annotations),
                        ("comment", structured.comment_annotations)):
        for item in items:
            found.append(Annotation(kind, text=item.value or "", namespace=item.namespace or "",
                                    series=tuple(users.get(item.id, ()))))
    return found


def rois_and_plates(ome: Any, what: str) -> tuple[list[Roi], list[PlateLayout]]:
    """The document's ROIs and plates, each plate checked against its images."""
    found = plates.from_ome(ome, lambda value, unit: _unit(value, unit, _LENGTH))
    for plate in found:
        plates.check(plate, len(ome.images), what)
    return omexml_rois.rois_of(ome, what), found
