"""Per-channel minimum and maximum over every plane, in one streaming pass.

Planes are read in tiles of at most ``TILE`` x ``TILE`` pixels, so memory
stays bounded whatever the image size (never the whole image, nor a whole
huge plane).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pixelvault.formats import Reader, Series

TILE = 2048


def channel_ranges(reader: Reader, series_index: int, series: Series,
                   on_plane: Callable[[], None] | None = None
                   ) -> list[tuple[float, float] | None]:
    """(min, max) per channel; None for a channel with no finite value (all NaN)."""
    lows = [np.inf] * series.size_c
    highs = [-np.inf] * series.size_c
    for t in range(series.size_t):
        for c in range(series.size_c):
            for z in range(series.size_z):
                for y in range(0, series.size_y, TILE):
                    for x in range(0, series.size_x, TILE):
                        tile = reader.read(series_index, 0, z, c, t, x, y,
                                           min(TILE, series.size_x - x),
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
