"""OMERO's split-channel view: each channel in its own panel, then the merged image,
left to right and top to bottom on a white grid with a border between panels."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BORDER = 2


def grid(size_x: int, size_y: int, panels: int, border: int = BORDER) -> dict[str, int]:
    """The canvas for ``panels`` panels (omero-py's splitChannelDims): as many rows as
    the square root rounds to, and enough columns."""
    root = math.sqrt(panels)
    rows = round(root)
    columns = rows + 1 if root > rows else rows
    return {"width": size_x * columns + border * (columns + 1),
            "height": size_y * rows + border * (rows + 1), "border": border,
            "gridx": columns, "gridy": rows}


def _font_size(width: int) -> int | None:
    """OMERO's label size for panels this wide (none below 96 pixels)."""
    if width >= 640:
        return min(64, (width - 640) // 128 * 8 + 24)
    for least, size in ((512, 24), (384, 18), (298, 14), (256, 12), (213, 10), (96, 8)):
        if width >= least:
            return size
    return None


def compose(panels: list[np.ndarray[Any, Any] | None], labels: list[str],
            layout: dict[str, int]) -> np.ndarray[Any, Any]:
    """The panels ((h, w, 3) uint8, or None for an empty place) on the grid, each
    labelled in its top left corner; panels past the grid's last place are cut off, as
    OMERO's greyscale layout cuts off the merged panel when the grid is full."""
    canvas = Image.new("RGB", (layout["width"], layout["height"]), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    border = layout["border"]
    size = _font_size(next((p.shape[1] for p in panels if p is not None), 0))
    font = ImageFont.load_default(size) if size else None
    for place, (panel, label) in enumerate(zip(panels, labels, strict=True)):
        if place >= layout["gridx"] * layout["gridy"] or panel is None:
            continue
        row, column = divmod(place, layout["gridx"])
        x = border + column * (panel.shape[1] + border)
        y = border + row * (panel.shape[0] + border)
        canvas.paste(Image.fromarray(panel, "RGB"), (x, y))
        if font is not None:
            draw.text((x + 2, y + 2), label, fill=(255, 255, 255), font=font)
    return np.asarray(canvas)
