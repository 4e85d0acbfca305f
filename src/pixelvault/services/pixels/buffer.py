"""One pixel buffer for every image, whatever holds its pixels: OMERO's ROMIO
``PixelBuffer`` in Python form, numpy arrays out.

Every read names a resolution level (0 is full resolution, as OMERO's
``tile=`` and OME-Zarr count) and is checked against the image before any
backend sees it, so a bad request gets a message naming the valid range and
never a clipped, padded or oversized answer.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pixelvault.errors import InvalidInputError, PendingError
from pixelvault.formats import PIXEL_TYPES

ORDERS = {"little": "<", "big": ">", "native": "="}


class Backend(Protocol):
    """What holds the pixels: it reads (and maybe writes) regions of planes."""

    levels: list[tuple[int, int]]  # (size_x, size_y) of the levels it has
    tile_size: tuple[int, int]

    def read(self, level: int, z: int, c: int, t: int, x: int, y: int, width: int,
             height: int) -> np.ndarray[Any, Any]: ...

    def close(self) -> None: ...


class WritableBackend(Backend, Protocol):
    def write(self, z: int, c: int, t: int, x: int, y: int,
              data: np.ndarray[Any, Any]) -> None: ...


@dataclass(frozen=True)
class Pending:
    """Levels planned but not built yet: the job's progress and why it may have failed."""

    progress: float
    failed: str = ""
    job_id: int | None = None


@dataclass
class PixelBuffer:
    """An image's pixels: sizes, type, levels, and every read and write of ROMIO."""

    image_id: int
    size_x: int
    size_y: int
    size_z: int
    size_c: int
    size_t: int
    pixel_type: str
    levels: list[tuple[int, int]]  # every level the image has or will have
    backend: Backend
    pending: Pending | None = None  # levels beyond the backend's are being built
    max_bytes: int = 256 << 20

    # Sizes and type -----------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype[Any]:
        return PIXEL_TYPES[self.pixel_type]

    @property
    def byte_width(self) -> int:
        return int(self.dtype.itemsize)

    @property
    def signed(self) -> bool:
        return self.dtype.kind in "if"

    @property
    def is_float(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def tile_size(self) -> tuple[int, int]:
        return self.backend.tile_size

    @property
    def resolution_levels(self) -> int:
        return len(self.levels)

    def level_size(self, level: int) -> tuple[int, int]:
        self._check_level(level)
        return self.levels[level]

    @property
    def plane_bytes(self) -> int:
        return self.size_x * self.size_y * self.byte_width

    # Checks -------------------------------------------------------------------------
    def _check_level(self, level: int) -> None:
        if not 0 <= level < len(self.levels):
            raise InvalidInputError(f"level {level} is outside 0..{len(self.levels) - 1} "
                                    "(0 is full resolution)")

    def _check_plane(self, z: int, c: int, t: int) -> None:
        for name, value, size in (("z", z, self.size_z), ("c", c, self.size_c),
                                  ("t", t, self.size_t)):
            if not 0 <= value < size:
                raise InvalidInputError(f"{name}={value} is outside 0..{size - 1}")

    def check(self, level: int, z: int, c: int, t: int, x: int, y: int, width: int,
              height: int, planes: int = 1) -> None:
        self._check_level(level)
        self._check_plane(z, c, t)
        size_x, size_y = self.levels[level]
        if width <= 0 or height <= 0:
            raise InvalidInputError(f"a region of {width}x{height} pixels: width and height "
                                    "must be at least 1")
        if x < 0 or y < 0 or x + width > size_x or y + height > size_y:
            raise InvalidInputError(
                f"region x={x} y={y} {width}x{height} leaves the {size_x}x{size_y} plane of "
                f"level {level} (x 0..{size_x - 1}, y 0..{size_y - 1})")
        asked = width * height * self.byte_width * planes
        if asked > self.max_bytes:
            raise InvalidInputError(f"{asked} bytes asked for, at most {self.max_bytes} per "
                                    "request (pixels.max_request); read smaller regions")

    def _backend_for(self, level: int) -> tuple[Backend, int]:
        available = len(self.backend.levels)
        if level < available:
            return self.backend, level
        pending = self.pending or Pending(0.0)
        if pending.failed:
            raise PendingError(
                f"level {level} of image {self.image_id} does not exist: building its "
                f"pyramid failed ({pending.failed}); an administrator can retry it with "
                f"`pixelvault admin pyramids retry {pending.job_id}`; levels "
                f"0..{available - 1} can be read", retry_after=300)
        raise PendingError(
            f"level {level} of image {self.image_id} is being built "
            f"({pending.progress:.0%} done); levels 0..{available - 1} can be read now",
            retry_after=max(1, math.ceil(5 * (1 - pending.progress))),
            progress=pending.progress)

    # Reads --------------------------------------------------------------------------
    def get_region(self, z: int, c: int, t: int, x: int, y: int, width: int, height: int,
                   level: int = 0, order: str = "=") -> np.ndarray[Any, Any]:
        """A (height, width) region of one plane at ``level``."""
        self.check(level, z, c, t, x, y, width, height)
        backend, index = self._backend_for(level)
        data = backend.read(index, z, c, t, x, y, width, height)
        return _ordered(data, order)

    get_tile = get_region

    def get_plane(self, z: int, c: int, t: int, level: int = 0,
                  order: str = "=") -> np.ndarray[Any, Any]:
        size_x, size_y = self.level_size(level)
        return self.get_region(z, c, t, 0, 0, size_x, size_y, level, order)

    def get_row(self, y: int, z: int, c: int, t: int, level: int = 0,
                order: str = "=") -> np.ndarray[Any, Any]:
        size_x, _ = self.level_size(level)
        row: np.ndarray[Any, Any] = self.get_region(z, c, t, 0, y, size_x, 1, level, order)[0]
        return row

    def get_col(self, x: int, z: int, c: int, t: int, level: int = 0,
                order: str = "=") -> np.ndarray[Any, Any]:
        _, size_y = self.level_size(level)
        column: np.ndarray[Any, Any] = self.get_region(z, c, t, x, 0, 1, size_y, level,
                                                       order)[:, 0]
        return column

    def get_stack(self, c: int, t: int, level: int = 0,
                  order: str = "=") -> np.ndarray[Any, Any]:
        """Every z of one channel and time point: (Z, height, width)."""
        size_x, size_y = self.level_size(level)
        self.check(level, 0, c, t, 0, 0, size_x, size_y, planes=self.size_z)
        return np.stack([self.get_plane(z, c, t, level, order) for z in range(self.size_z)])

    def get_timepoint(self, t: int, level: int = 0, order: str = "=") -> np.ndarray[Any, Any]:
        """Every plane of one time point: (C, Z, height, width)."""
        size_x, size_y = self.level_size(level)
        self.check(level, 0, 0, t, 0, 0, size_x, size_y, planes=self.size_z * self.size_c)
        return np.stack([self.get_stack(c, t, level, order) for c in range(self.size_c)])

    def get_hypercube(self, offset: tuple[int, int, int, int, int],
                      size: tuple[int, int, int, int, int], level: int = 0,
                      order: str = "=") -> np.ndarray[Any, Any]:
        """ROMIO's hypercube: ``offset`` and ``size`` as (x, y, z, c, t); (T, C, Z, Y, X)."""
        x, y, z0, c0, t0 = offset
        width, height, size_z, size_c, size_t = size
        if min(size_z, size_c, size_t) <= 0:
            raise InvalidInputError("a hypercube needs at least one plane in z, c and t")
        self.check(level, z0, c0, t0, x, y, width, height, planes=size_z * size_c * size_t)
        self._check_plane(z0 + size_z - 1, c0 + size_c - 1, t0 + size_t - 1)
        return np.stack([np.stack([np.stack([
            self.get_region(z, c, t, x, y, width, height, level, order)
            for z in range(z0, z0 + size_z)]) for c in range(c0, c0 + size_c)])
            for t in range(t0, t0 + size_t)])

    def digest(self) -> str:
        """ROMIO's message digest: SHA-1 over every full-resolution plane, t, c, z order,
        big-endian as OMERO's files hold them."""
        sha = hashlib.sha1(usedforsecurity=False)
        for t in range(self.size_t):
            for c in range(self.size_c):
                for z in range(self.size_z):
                    sha.update(self.get_plane(z, c, t, order=">").tobytes())
        return sha.hexdigest()

    # Writes (images created through the API) ---------------------------------------
    def _writable(self) -> WritableBackend:
        if not hasattr(self.backend, "write"):
            raise InvalidInputError(f"image {self.image_id}'s pixels are its imported "
                                    "original files, which are never changed; only images "
                                    "created through the API take writes")
        writable: WritableBackend = self.backend  # type: ignore[assignment]
        return writable

    def set_region(self, z: int, c: int, t: int, x: int, y: int,
                   data: np.ndarray[Any, Any]) -> None:
        if data.ndim != 2:
            raise InvalidInputError(f"a region is 2-dimensional (rows, columns), not "
                                    f"{data.ndim}-dimensional")
        height, width = data.shape
        self.check(0, z, c, t, x, y, width, height)
        self._writable().write(z, c, t, x, y, np.asarray(data, dtype=self.dtype))

    set_tile = set_region

    def set_plane(self, z: int, c: int, t: int, data: np.ndarray[Any, Any]) -> None:
        if data.shape != (self.size_y, self.size_x):
            raise InvalidInputError(f"a plane is {self.size_y}x{self.size_x} (rows x "
                                    f"columns); this one is {'x'.join(map(str, data.shape))}")
        self.set_region(z, c, t, 0, 0, data)

    def set_stack(self, c: int, t: int, data: np.ndarray[Any, Any]) -> None:
        if data.shape != (self.size_z, self.size_y, self.size_x):
            raise InvalidInputError(f"a stack is {self.size_z}x{self.size_y}x{self.size_x}")
        for z in range(self.size_z):
            self.set_plane(z, c, t, data[z])

    def set_timepoint(self, t: int, data: np.ndarray[Any, Any]) -> None:
        if data.shape != (self.size_c, self.size_z, self.size_y, self.size_x):
            raise InvalidInputError(f"a time point is {self.size_c}x{self.size_z}x"
                                    f"{self.size_y}x{self.size_x}")
        for c in range(self.size_c):
            self.set_stack(c, t, data[c])


def _ordered(data: np.ndarray[Any, Any], order: str) -> np.ndarray[Any, Any]:
    symbol = ORDERS.get(order, order)
    if symbol not in ("<", ">", "="):
        raise InvalidInputError(f"byte order {order!r}: use little, big or native")
    if symbol == "=" or data.dtype.itemsize == 1:
        return data
    wanted = data.dtype.newbyteorder(symbol)
    converted: np.ndarray[Any, Any] = data if data.dtype == wanted else data.astype(wanted)
    return converted
