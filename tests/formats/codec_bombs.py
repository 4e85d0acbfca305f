"""Files whose compressed pieces decode to far more than the file declares: a tile's
codec stream of another size, a Zarr chunk that inflates past its shape.

Each is built from an honest file (written by tifffile or zarr) whose one tile or
chunk is then replaced, so every other byte is what a real writer produces.
"""

from __future__ import annotations

import bz2
import json
import struct
from pathlib import Path

import imagecodecs
import numpy as np
import tifffile

TILE = 16


def tile_tiff(path: Path, compression: str, stream: bytes | bytearray, samples: int = 1,
              pages: int = 1) -> Path:
    """``pages`` 16x16 planes, each in one 16x16 tile compressed with ``compression``;
    the last one's tile is then replaced by ``stream`` (appended to the file; the tile's
    offset and byte count are rewritten in place)."""
    shape = (TILE, TILE, samples) if samples > 1 else (TILE, TILE)
    tifffile.imwrite(path, np.zeros((pages, *shape), np.uint8), tile=(TILE, TILE),
                     compression=compression,
                     photometric="rgb" if samples > 1 else "minisblack")
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[pages - 1]
        assert isinstance(page, tifffile.TiffPage)
        offsets = page.tags["TileOffsets"].valueoffset
        counts = page.tags["TileByteCounts"].valueoffset
        kinds = page.tags["TileOffsets"].dtype, page.tags["TileByteCounts"].dtype
    with path.open("r+b") as handle:
        end = handle.seek(0, 2)
        handle.write(stream)
        for where, value, kind in ((offsets, end, kinds[0]), (counts, len(stream), kinds[1])):
            handle.seek(where)
            handle.write(struct.pack("<H" if kind == 3 else "<I", value))
    return path


def _zeros(shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape, np.uint8)


def jpeg_tile(path: Path) -> Path:
    """A 16x16 tile holding a JPEG of 20000x20000 (400 MB decoded)."""
    return tile_tiff(path, "jpeg", imagecodecs.jpeg8_encode(_zeros((20_000, 20_000))))


def png_tile(path: Path) -> Path:
    """A 16x16 tile holding a PNG of 20000x20000 (400 MB decoded)."""
    return tile_tiff(path, "png", imagecodecs.png_encode(_zeros((20_000, 20_000)), level=9))


def webp_tile(path: Path) -> Path:
    """A 16x16 RGB tile holding a lossless WebP of 8192x8192 (256 MB decoded)."""
    return tile_tiff(path, "webp", imagecodecs.webp_encode(_zeros((8192, 8192, 3)),
                                                          lossless=True), samples=3)


def jpeg2k_tile(path: Path) -> Path:
    """A 16x16 tile holding a JPEG 2000 of 8192x8192 (64 MB decoded)."""
    return tile_tiff(path, "jpeg2000", imagecodecs.jpeg2k_encode(_zeros((8192, 8192))))


def zarr_v2_chunk(path: Path, compressor: dict[str, object], chunk: bytes) -> Path:
    """An OME-Zarr 0.4 image of 4x4 uint8 pixels in one 4x4 chunk whose bytes are
    ``chunk``, compressed as ``compressor`` (numcodecs' configuration) says."""
    path.mkdir(parents=True)
    axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    (path / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (path / ".zattrs").write_text(json.dumps({"multiscales": [{
        "version": "0.4", "axes": axes, "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 1.0]}]}]}]}))
    (path / "0").mkdir()
    (path / "0" / ".zarray").write_text(json.dumps({
        "zarr_format": 2, "shape": [4, 4], "chunks": [4, 4], "dtype": "|u1",
        "compressor": compressor, "fill_value": 0, "filters": None, "order": "C",
        "dimension_separator": "/"}))
    (path / "0" / "0").mkdir()
    (path / "0" / "0" / "0").write_bytes(chunk)
    return path


def bz2_chunk(path: Path) -> Path:
    """A 4x4 chunk whose 79 bytes of bz2 inflate to 64 MiB."""
    return zarr_v2_chunk(path, {"id": "bz2", "level": 9}, bz2.compress(bytes(64 << 20)))


def blosc_chunk(path: Path) -> Path:
    """A 4x4 chunk whose Blosc header declares (and holds) 256 MiB."""
    import numcodecs

    return zarr_v2_chunk(path, {"id": "blosc", "cname": "zstd", "clevel": 9, "shuffle": 0},
                         numcodecs.Blosc(cname="zstd", clevel=9).encode(bytes(256 << 20)))
