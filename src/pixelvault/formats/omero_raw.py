"""OMERO's legacy raw Pixels files: no header, big-endian, planes in XYZCT order.

``offset(z, c, t) = ((t * sizeC + c) * sizeZ + z) * planeSize`` (OMERO's ROMIO).
The file says nothing about itself, so its sizes and type come from the catalog;
a file whose length disagrees with them is refused rather than misread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pixelvault.errors import CorruptFileError, UnsupportedFormatError


class OmeroRawPixels:
    def __init__(self, path: Path, size_x: int, size_y: int, size_z: int, size_c: int,
                 size_t: int, dtype: np.dtype[Any]) -> None:
        if np.dtype(dtype) == np.bool_:
            raise UnsupportedFormatError(f"{path.name}: OMERO raw Pixels files of type bit "
                                         "are not read (OMERO packs them by bits)")
        self.path = path
        self.shape = (size_t, size_c, size_z, size_y, size_x)
        self.dtype = np.dtype(dtype).newbyteorder(">")
        expected = int(np.prod(self.shape)) * self.dtype.itemsize
        try:
            actual = path.stat().st_size
        except OSError as exc:
            raise CorruptFileError(f"{path}: the Pixels file cannot be read "
                                   f"({exc.strerror})") from None
        if actual != expected:
            raise CorruptFileError(f"{path}: {actual} bytes, but {size_x}x{size_y}x{size_z}x"
                                   f"{size_c}x{size_t} {np.dtype(dtype).name} pixels need "
                                   f"{expected}; the file is truncated or not these pixels")
        self._map: np.memmap[Any, Any] | None = None

    def array(self) -> np.ndarray[Any, Any]:
        """The whole file as a read-only [t, c, z, y, x] array (memory-mapped)."""
        if self._map is None:
            self._map = np.memmap(self.path, dtype=self.dtype, mode="r", shape=self.shape)
        return self._map

    def read(self, z: int, c: int, t: int, x: int, y: int, width: int,
             height: int) -> np.ndarray[Any, Any]:
        region = self.array()[t, c, z, y:y + height, x:x + width]
        return np.asarray(region, dtype=self.dtype.newbyteorder("="))

    def close(self) -> None:
        self._map = None


def write_omero_raw(path: Path, data: np.ndarray[Any, Any]) -> None:
    """A [t, c, z, y, x] array as OMERO writes it (for tests and adopted images)."""
    path.write_bytes(np.ascontiguousarray(data, dtype=data.dtype.newbyteorder(">")).tobytes())
