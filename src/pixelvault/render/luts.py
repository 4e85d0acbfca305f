"""Named lookup tables, as 256 RGB entries, for channels shown through a LUT instead of
a single colour (OMERO's ``$name.lut`` in ``c=``). Each is interpolated from a few
control points, which is how ImageJ's and OMERO's common tables are defined."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

# name -> control points (position 0..1, R, G, B)
_POINTS: dict[str, tuple[tuple[float, int, int, int], ...]] = {
    "gray": ((0.0, 0, 0, 0), (1.0, 255, 255, 255)),
    "red": ((0.0, 0, 0, 0), (1.0, 255, 0, 0)),
    "green": ((0.0, 0, 0, 0), (1.0, 0, 255, 0)),
    "blue": ((0.0, 0, 0, 0), (1.0, 0, 0, 255)),
    "fire": ((0.0, 0, 0, 0), (0.25, 112, 0, 170), (0.5, 230, 40, 60), (0.75, 255, 180, 0),
             (1.0, 255, 255, 255)),
    "ice": ((0.0, 0, 0, 0), (0.3, 0, 70, 170), (0.6, 40, 180, 230), (1.0, 230, 255, 255)),
    "hot": ((0.0, 0, 0, 0), (0.375, 255, 0, 0), (0.75, 255, 255, 0), (1.0, 255, 255, 255)),
    "cool": ((0.0, 0, 255, 255), (1.0, 255, 0, 255)),
    "viridis": ((0.0, 68, 1, 84), (0.25, 59, 82, 139), (0.5, 33, 145, 140),
                (0.75, 94, 201, 98), (1.0, 253, 231, 37)),
    "magma": ((0.0, 0, 0, 4), (0.25, 81, 18, 124), (0.5, 183, 55, 121),
              (0.75, 252, 137, 97), (1.0, 252, 253, 191)),
    "spectrum": ((0.0, 255, 0, 0), (0.17, 255, 255, 0), (0.33, 0, 255, 0),
                 (0.5, 0, 255, 255), (0.67, 0, 0, 255), (0.83, 255, 0, 255),
                 (1.0, 255, 0, 0)),
}
ALIASES = {"grays": "gray", "grey": "gray", "greys": "gray", "cyan hot": "ice"}


def names() -> list[str]:
    return sorted(_POINTS)


def canonical(name: str) -> str | None:
    """The table's name without ``.lut``, any case; None if there is no such table."""
    key = name.strip().lower()
    key = key.removesuffix(".lut")
    key = ALIASES.get(key, key)
    return key if key in _POINTS else None


@cache
def table(name: str) -> np.ndarray[Any, Any]:
    """(256, 3) uint8."""
    points = _POINTS[name]
    where = np.array([p[0] for p in points]) * 255
    steps = np.arange(256)
    rgb = [np.interp(steps, where, [p[i] for p in points]) for i in (1, 2, 3)]
    found: np.ndarray[Any, Any] = np.round(np.stack(rgb, axis=1)).astype(np.uint8)
    found.setflags(write=False)
    return found
