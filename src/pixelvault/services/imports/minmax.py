"""Per-channel minimum and maximum over every plane, in one streaming pass.

Planes are read in bands of ``TILE`` rows, as wide as the plane while a band
stays under ``BAND_BYTES`` (so a strip or tile spanning the width is decoded
once, not once per tile column), else in ``TILE`` x ``TILE`` tiles: memory
stays bounded whatever the image size. Work past its deadline stops with a
LimitError that fails the fileset, never the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from pixelvault.errors import LimitError
from pixelvault.formats import Reader, Series

TILE = 2048
BAND_BYTES = 64 << 20


def channel_ranges(reader: Reader, series_index: int, series: Series,
                   on_plane: Callable[[], None] | None = None, deadline: float | None = None
                   ) -> list[tuple[float, float] | None]:
    """(min, max) per channel; None for a channel with no finite value (all NaN).
    ``deadline``: a ``time.monotonic()`` past which the work stops (LimitError)."""
    lows = [np.inf] * series.size_c
    highs = [-np.inf] * series.size_c
    width = series.size_x if series.size_x * TILE * series.dtype.itemsize <= BAND_BYTES \
        else TILE
    for t in range(series.size_t):
        for c in range(series.size_c):
            for z in range(series.size_z):
                for y in range(0, series.size_y, TILE):
                    for x in range(0, series.size_x, width):
                        if deadline is not None and time.monotonic() > deadline:
                            raise LimitError(
                                f"series {series_index}: reading its pixels for statistics "
                                "took longer than import.max_seconds; raise that setting, "
                                "or import with --skip minmax")
                        tile = reader.read(series_index, 0, z, c, t, x, y,
                                           min(width, series.size_x - x),
                                           min(TILE, series.size_y - y))
                        if tile.dtype.kind == "f":
                            finite = tile[np.isfinite(tile)]
                            if finite.size == 0:
                                continue
                            tile = finite
                        lows[c] = min(lows[c], float(tile.min()))
                        highs[c] = max(highs[c], float(tile.max()))
                if on_plane is not None:
                    on_plane()
    return [(low, high) if low <= high else None for low, high in zip(lows, highs, strict=True)]
