"""What reading one image may cost, checked before any pixel is decoded.

A file is user input: a 1 MB TIFF can hold one zlib strip that decodes to a
gigabyte, a few kilobytes of OME-Zarr can declare 10^24 pixels in 1x1 chunks,
and every decode or loop over such an image holds a server thread and its
memory. So each image's declared sizes are compared, before the work starts,
with three limits a facility can set (``import.max_pixels``,
``import.max_chunk_bytes``, ``import.max_decompression_ratio``):

- pixels per image (X*Y*Z*C*T): the work of min/max, thumbnails and pyramids;
- bytes one decode yields (a compressed strip, tile, chunk or inline plane): the
  memory a single read needs, however small the region asked for;
- decoded bytes of the whole image per byte stored: what no real acquisition
  reaches and every decompression bomb does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from pixelvault.errors import LimitError


@dataclass(frozen=True)
class Piece:
    """The largest unit a reader decodes at once for one image."""

    decoded: int  # bytes it yields
    compressed: bool  # False: read as stored (no decode can make it larger)


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 10**12
    max_chunk_bytes: int = 256 << 20
    max_decompression_ratio: float = 10_000.0

    def check(self, what: str, sizes: tuple[int, int, int, int, int], itemsize: int,
              stored: int, pieces: Iterable[Piece] = ()) -> None:
        """Refuse an image of ``sizes`` (X, Y, Z, C, T) read from ``stored`` bytes whose
        largest decodes are ``pieces``; LimitError naming the setting to change."""
        pixels = math.prod(sizes)
        if pixels > self.max_pixels:
            raise LimitError(
                f"{what}: {'x'.join(map(str, sizes))} is {pixels:.3g} pixels, more than "
                f"import.max_pixels ({self.max_pixels:.3g}); raise that setting if the "
                "image is real")
        for piece in pieces:
            if piece.compressed and piece.decoded > self.max_chunk_bytes:
                raise LimitError(
                    f"{what}: one compressed strip, tile or chunk decodes to "
                    f"{piece.decoded / 2**20:.0f} MiB, more than import.max_chunk_bytes "
                    f"({self.max_chunk_bytes / 2**20:.0f} MiB); store it in smaller tiles "
                    "(for example `tifffile` or `bfconvert -tilex 512 -tiley 512`) or raise "
                    "that setting")
        ratio = pixels * itemsize / max(stored, 1)
        if ratio > self.max_decompression_ratio:
            raise LimitError(
                f"{what}: declares {pixels * itemsize / 2**20:.0f} MiB of pixels in "
                f"{stored} bytes of files ({ratio:.3g} times), more than "
                f"import.max_decompression_ratio ({self.max_decompression_ratio:g}); the "
                "file is a decompression bomb or damaged")
