"""Named lookup tables, as 256 RGB entries, for channels shown through a LUT instead of
a single colour (OMERO's ``$name.lut`` in ``c=``).

The names and folders are OMERO's (``/luts/fire.lut``, ``/luts/matplotlib/viridis.lut``)
so that a viewer's saved ``cool.lut``-style settings and the LUT pickers of
OMERO.iviewer and OMERO.figure find the same tables here. The tables themselves
come from ``cmap``, which carries ImageJ's, matplotlib's, seaborn's and Glasbey's
published data, or from ImageJ's formulas where the table is one (grays, 3-3-2 RGB,
spectrum). OMERO tables with no public definition to build them from (the NCSA
PalEdit and WCIF sets) are not offered: a table under OMERO's name that draws
different colours would be worse than none. ``red``, ``green``, ``blue`` and ``hot``
are pixelvault's own, outside OMERO's list.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Lut:
    name: str  # canonical: lower case, no ".lut"
    path: str  # OMERO's folder of the file, "/luts/" or "/luts/matplotlib/"
    source: str  # "cmap:<namespace:name>" or "formula"
    omero: bool = True  # one of OMERO's own tables

    @property
    def file_name(self) -> str:
        return f"{self.name}.lut"


_TABLES = (
    Lut("3-3-2_rgb", "/luts/", "formula"),
    Lut("cividis", "/luts/", "cmap:cividis:cividis"),
    Lut("fire", "/luts/", "cmap:imagej:fire"),
    Lut("glasbey", "/luts/", "cmap:glasbey:glasbey"),
    Lut("grays", "/luts/", "formula"),
    Lut("green_fire_blue", "/luts/wcif/", "cmap:imagej:GreenFireBlue"),
    Lut("hilo", "/luts/wcif/", "cmap:imagej:HiLo"),
    Lut("ice", "/luts/", "cmap:imagej:ice"),
    Lut("inferno", "/luts/matplotlib/", "cmap:bids:inferno"),
    Lut("magma", "/luts/matplotlib/", "cmap:bids:magma"),
    Lut("mako", "/luts/seaborn/", "cmap:seaborn:mako"),
    Lut("plasma", "/luts/matplotlib/", "cmap:bids:plasma"),
    Lut("rocket", "/luts/seaborn/", "cmap:seaborn:rocket"),
    Lut("spectrum", "/luts/", "formula"),
    Lut("turbo", "/luts/", "cmap:google:turbo"),
    Lut("viridis", "/luts/matplotlib/", "cmap:bids:viridis"),
    Lut("red", "/luts/pixelvault/", "formula", omero=False),
    Lut("green", "/luts/pixelvault/", "formula", omero=False),
    Lut("blue", "/luts/pixelvault/", "formula", omero=False),
    Lut("hot", "/luts/pixelvault/", "formula", omero=False),
)
BY_NAME = {lut.name: lut for lut in _TABLES}
ALIASES = {"gray": "grays", "grey": "grays", "greys": "grays", "green fire blue": "green_fire_blue",
           "3-3-2 rgb": "3-3-2_rgb"}


def names() -> list[str]:
    return sorted(BY_NAME)


def listing() -> list[Lut]:
    """Every table in the order OMERO lists them: by file name, case ignored."""
    return sorted(_TABLES, key=lambda lut: lut.file_name.lower())


def canonical(name: str) -> str | None:
    """The table's name without ``.lut`` or its folder, any case; None if there is no
    such table."""
    key = name.strip().lower().rsplit("/", 1)[-1].removesuffix(".lut")
    key = ALIASES.get(key, key)
    return key if key in BY_NAME else None


def _ramp(red: bool, green: bool, blue: bool) -> np.ndarray[Any, Any]:
    steps = np.arange(256)
    return np.stack([steps * red, steps * green, steps * blue], axis=1)


def _formula(name: str) -> np.ndarray[Any, Any]:
    steps = np.arange(256)
    if name == "grays":
        return _ramp(True, True, True)
    if name in ("red", "green", "blue"):
        return _ramp(name == "red", name == "green", name == "blue")
    if name == "3-3-2_rgb":  # ImageJ: three bits of red, three of green, two of blue
        return np.stack([steps & 0xE0, (steps << 3) & 0xE0, (steps << 6) & 0xC0], axis=1)
    if name == "spectrum":  # ImageJ: the hue circle at full saturation and brightness
        return np.array([[round(v * 255) for v in colorsys.hsv_to_rgb(i / 255, 1, 1)]
                         for i in steps])
    if name == "hot":  # black, red, yellow, white
        where = [0, 96, 192, 255]
        return np.stack([np.interp(steps, where, [0, 255, 255, 255]),
                         np.interp(steps, where, [0, 0, 255, 255]),
                         np.interp(steps, where, [0, 0, 0, 255])], axis=1)
    raise KeyError(name)


@cache
def table(name: str) -> np.ndarray[Any, Any]:
    """(256, 3) uint8 for a canonical name (or any spelling :func:`canonical` knows)."""
    lut = BY_NAME[canonical(name) or name]
    if lut.source.startswith("cmap:"):
        from cmap import Colormap

        rgba = Colormap(lut.source.removeprefix("cmap:")).lut(256)
        values = np.asarray(rgba)[:, :3] * 255
    else:
        values = _formula(lut.name)
    found: np.ndarray[Any, Any] = np.clip(np.round(values), 0, 255).astype(np.uint8)
    found.setflags(write=False)
    return found
