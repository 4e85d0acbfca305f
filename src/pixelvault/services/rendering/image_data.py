"""An image described for a viewer, in the shapes OMERO's viewers read: OMERO.web's
``imgData`` (``webgateway/marshal.py imageMarshal``), and the keys OMERO.iviewer's
``image_data`` and OMERO.figure's ``imgData`` add to it.

OMERO.web's quirks are kept where clients test for them: ``datasetName`` and
``projectName`` read "Multiple" unless the image sits in exactly one (also when
it sits in none), ``wellSampleId`` is always "", pixel sizes are micrometres.
Parents are only those the caller may read: the listings filter in their queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from pixelvault.catalog import Actor, Right
from pixelvault.catalog.models import Channel, Experimenter, Pixels
from pixelvault.errors import NotFoundError
from pixelvault.render import luts, split
from pixelvault.render.settings import Settings
from pixelvault.services.objects import containers, plates
from pixelvault.services.pixels.access import buffer_for
from pixelvault.services.rendering import images
from pixelvault.services.rendering import settings as rendering
from pixelvault.services.vault import Vault

ALL = 10_000
MAX_DATASETS = 100
MICROMETRE = ("MICROMETER", "µm")
# OMERO's length units from the smallest a pixel size is shown in to the largest, with
# their size in micrometres (iviewer shows a pixel size in the first that keeps it >= 1,
# as OMERO.web's lengthformat filter does).
LENGTH_UNITS = (("ANGSTROM", "Å", 1e-4), ("NANOMETER", "nm", 1e-3), ("MICROMETER", "µm", 1.0),
                ("MILLIMETER", "mm", 1e3), ("CENTIMETER", "cm", 1e4), ("METER", "m", 1e6),
                ("KILOMETER", "km", 1e9))
FAMILIES = ["linear", "polynomial", "exponential", "logarithmic"]


@dataclass(frozen=True)
class Facts:
    """What the image descriptions are made of, read once."""

    image: Any
    pixels: Pixels
    channels: list[Channel]
    author: str
    datasets: list[Any]
    projects: list[Any]
    well_id: int | None = None


def _facts(vault: Vault, actor: Actor, image_id: int) -> Facts:
    catalog = vault.catalog
    image = containers.get(catalog, actor, "image", image_id)  # NotFoundError if unreadable
    datasets = containers.listing(catalog, actor, "dataset", limit=ALL,
                                  child=("image", image_id)).rows
    projects: dict[int, Any] = {}
    # In more datasets than that, the image is taken to be in "Multiple" projects (the
    # answer for none or several) rather than listing each dataset's projects.
    for dataset in (datasets if len(datasets) <= MAX_DATASETS else []):
        for project in containers.listing(catalog, actor, "project", limit=ALL,
                                          child=("dataset", dataset.id)).rows:
            projects[project.id] = project
    with catalog.session() as session:
        pixels = session.scalar(select(Pixels).where(Pixels.image_id == image_id))
        if pixels is None:
            raise NotFoundError(f"image {image_id} has no pixels")
        channels = list(session.scalars(select(Channel).where(
            Channel.pixels_id == pixels.id).order_by(Channel.index)))
        owner = session.get(Experimenter, image.owner_id)
        author = ""
        if owner is not None:  # OMERO.web shows the owner's full name
            author = " ".join(p for p in (owner.first_name, owner.last_name) if p) or \
                owner.username
        well_id = plates.well_of_image(session, actor, image_id)
        session.expunge_all()
    return Facts(image, pixels, channels, author, datasets, list(projects.values()), well_id)


def _one(rows: list[Any], what: str) -> dict[str, Any]:
    if len(rows) == 1:
        return {f"{what}Name": rows[0].name, f"{what}Id": rows[0].id,
                f"{what}Description": rows[0].description or ""}
    return {f"{what}Name": "Multiple", f"{what}Id": None, f"{what}Description": ""}


def seconds(moment: datetime) -> float:
    """Seconds since 1970; SQLite hands back UTC times without their zone."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _timestamp(moment: datetime | None) -> float | None:
    return seconds(moment) if moment is not None else None


def split_channel(size_x: int, size_y: int, size_c: int) -> dict[str, Any]:
    """The split-channel grids: greyscale has a panel per channel, colour one more for
    the merged image."""
    return {"g": split.grid(size_x, size_y, size_c), "c": split.grid(size_x, size_y, size_c + 1)}


def _channels(facts: Facts, settings: Settings, low: float, high: float) -> list[dict[str, Any]]:
    found = []
    for index, shown in enumerate(settings.channels):
        row = facts.channels[index] if index < len(facts.channels) else None
        entry: dict[str, Any] = {
            "emissionWave": row.emission_wavelength if row is not None else None,
            "label": rendering.channel_label(row.name, row.emission_wavelength, index)
            if row is not None else str(index + 1), "color": shown.color,
            "inverted": shown.inverted, "reverseIntensity": shown.inverted,
            "family": "linear", "coefficient": 1.0,
            "window": {"min": row.min if row is not None and row.min is not None else low,
                       "max": row.max if row is not None and row.max is not None else high,
                       "start": shown.start, "end": shown.end},
            "active": shown.active}
        if shown.lut and luts.canonical(shown.lut):
            entry["lut"] = luts.BY_NAME[luts.canonical(shown.lut) or ""].file_name
        found.append(entry)
    return found


def image_data(vault: Vault, actor: Actor, image_id: int, *,
               defaults: bool = False) -> dict[str, Any]:
    """OMERO.web's imgData; ``defaults`` shows the settings the image would have if
    reset (OMERO's ``getDefaults=true``), without saving them."""
    return _marshal(vault, actor, _facts(vault, actor, image_id), defaults)


def _marshal(vault: Vault, actor: Actor, facts: Facts, defaults: bool) -> dict[str, Any]:
    image, pixels = facts.image, facts.pixels
    info = images.INFO.get(vault, actor, image.id)
    if defaults:
        with vault.catalog.session() as session:
            settings = rendering.defaults(session, pixels)
    else:
        settings = rendering.effective(vault, actor, image.id).settings
    buffer = buffer_for(vault, info)
    levels = buffer.levels
    low, high = rendering.type_range(info.pixel_type)
    tiled = len(levels) > 1 or info.size_x * info.size_y > images.MAX_TILE * images.MAX_TILE
    moment = image.acquisition_date or image.created_at
    return {
        "id": image.id,
        "meta": {"imageName": image.name, "imageDescription": image.description or "",
                 "imageAuthor": facts.author, "imageArchived": False,
                 **_one(facts.projects, "project"), **_one(facts.datasets, "dataset"),
                 "wellSampleId": "",
                 "wellId": facts.well_id if facts.well_id is not None else "",
                 "imageTimestamp": _timestamp(moment),
                 "imageId": image.id, "pixelsType": info.pixel_type},
        "perms": {"canAnnotate": actor.may(Right.ANNOTATE, image.owner_id, image.group_id),
                  "canEdit": actor.may(Right.EDIT, image.owner_id, image.group_id),
                  "canDelete": actor.may(Right.DELETE, image.owner_id, image.group_id),
                  "canLink": actor.may(Right.EDIT, image.owner_id, image.group_id)},
        "tiles": tiled,
        "tile_size": {"width": buffer.tile_size[0], "height": buffer.tile_size[1]},
        "levels": len(levels), "levels_ready": len(buffer.backend.levels),
        "resolutions": {str(i): {"sizeX": x, "sizeY": y} for i, (x, y) in enumerate(levels)},
        "zoomLevelScaling": {str(i): x / info.size_x for i, (x, _) in enumerate(levels)},
        "interpolate": True, "init_zoom": 0,
        "size": {"width": info.size_x, "height": info.size_y, "z": info.size_z,
                 "t": info.size_t, "c": info.size_c},
        "pixel_size": {"x": pixels.physical_size_x, "y": pixels.physical_size_y,
                       "z": pixels.physical_size_z},
        "pixel_range": [low, high],
        "channels": _channels(facts, settings, low, high),
        "split_channel": split_channel(info.size_x, info.size_y, info.size_c),
        "rdefs": {"model": settings.model, "projection": settings.projection,
                  "defaultZ": settings.default_z, "defaultT": settings.default_t,
                  "invertAxis": False},
    }


def delta_t(pixels: Pixels) -> list[float]:
    """Seconds from the first time point to each (OMERO's deltaT); [] for one time
    point, or when the file said nothing of its timing."""
    if pixels.size_t <= 1 or not pixels.time_increment:
        return []
    return [index * pixels.time_increment for index in range(pixels.size_t)]


def nice_length(micrometres: float) -> tuple[float, str, str]:
    """A length in the unit that shows it best: (value, symbol, OMERO's unit name)."""
    for name, symbol, size in LENGTH_UNITS:
        if abs(micrometres) < size * 1000 or name == "KILOMETER":
            return micrometres / size, symbol, name
    raise AssertionError("unreachable")


def for_iviewer(vault: Vault, actor: Actor, image_id: int, roi_count: int) -> dict[str, Any]:
    """OMERO.iviewer's ``image_data``: imgData with the pixel sizes in a readable unit,
    the import and acquisition dates, the ROI count and the mapping families."""
    facts = _facts(vault, actor, image_id)
    found = _marshal(vault, actor, facts, False)
    sizes = found["pixel_size"]
    for axis in ("x", "y", "z"):
        if sizes[axis] is not None:
            value, symbol, _ = nice_length(sizes[axis])
            sizes[f"unit_{axis}"], sizes[f"symbol_{axis}"] = value, symbol
            sizes[f"unit_id_{axis}"] = MICROMETRE[0]
    found["roi_count"] = roi_count
    found["delta_t_unit_symbol"] = "s" if delta_t(facts.pixels) else None
    found["import_date"] = _date(facts.image.created_at)
    if facts.image.acquisition_date is not None:
        found["acquisition_date"] = _date(facts.image.acquisition_date)
    found["families"] = FAMILIES
    return found


def for_figure(vault: Vault, actor: Actor, image_id: int,
               parents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """OMERO.figure's ``imgData``: imgData with each pixel size's value, symbol and
    unit, the time points' offsets, and the image's parents by type."""
    facts = _facts(vault, actor, image_id)
    found = _marshal(vault, actor, facts, False)
    sizes = found["pixel_size"]
    for axis in ("X", "Y", "Z"):
        value = sizes[axis.lower()]
        if value is not None:
            sizes[f"value{axis}"] = value
            sizes[f"unit{axis}"], sizes[f"symbol{axis}"] = MICROMETRE
    found["deltaT"] = delta_t(facts.pixels)
    found["parents"] = parents
    return found


def delta_t_of(vault: Vault, actor: Actor, image_id: int) -> dict[str, Any]:
    """OMERO.iviewer's ``image_data/{id}/delta_t/``."""
    facts = _facts(vault, actor, image_id)
    offsets = delta_t(facts.pixels)
    return {"delta_t": offsets, "delta_t_unit_symbol": "s" if offsets else None,
            "image_id": str(image_id)}


def _date(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else None
