"""The lookup tables as OMERO.web lists and draws them for LUT pickers
(``webgateway/luts/`` and ``luts_png/``): OMERO.iviewer and OMERO.figure show each
table as its row of one PNG, found by ``png_index_new``."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import numpy as np
from PIL import Image

from pixelvault.render import luts

ROW = 10  # pixels per table in the PNG
GRADIENT = 180  # the slider gradient fades over this many columns


def listing(with_rgb: bool = False) -> dict[str, Any]:
    """``{"luts": [...], "png_luts": [], "png_luts_new": [...]}``; ``png_luts`` names
    rows of OMERO's own static image, which is not served here, so it is empty and
    every ``png_index`` is -1 (a client then uses ``luts_png`` and ``png_index_new``)."""
    tables = luts.listing()
    found = []
    for row, lut in enumerate(tables):
        entry: dict[str, Any] = {"id": row + 1, "path": lut.path, "name": lut.file_name,
                                 "size": 768, "png_index": -1, "png_index_new": row}
        if with_rgb:
            entry["rgb"] = luts.table(lut.name).tolist()
        found.append(entry)
    return {"luts": found, "png_luts": [],
            "png_luts_new": [lut.path + lut.file_name for lut in tables] + ["gradient.png"]}


@cache
def png() -> bytes:
    """A 256-pixel-wide RGBA PNG: a 10-pixel row per table in ``listing`` order, then a
    black row fading from opaque to clear (the background of OMERO's sliders)."""
    tables = luts.listing()
    canvas = np.full((ROW * (len(tables) + 1), 256, 4), 255, np.uint8)
    for row, lut in enumerate(tables):
        canvas[row * ROW:(row + 1) * ROW, :, :3] = luts.table(lut.name)[np.newaxis]
    last = canvas[len(tables) * ROW:]
    last[..., :3] = 0
    last[..., 3] = 0
    last[:, :GRADIENT, 3] = np.linspace(255, 0, GRADIENT).round().astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(canvas, "RGBA").save(out, format="PNG")
    return out.getvalue()
