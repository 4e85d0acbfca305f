"""What every reader tells about an image file, and the one protocol readers follow.

A file (or a set of files that belong together: an OME-TIFF with its
companion) holds one or more *series*; each becomes one image with its
pixels. Dimensions are OMERO's X, Y, Z, C, T; a series may have several
resolution levels, level 0 the full size. Readers are pure: they read files and
return numpy arrays and descriptions, and know nothing of the catalog or the
repository.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from pixelvault.errors import UnsupportedFormatError

if TYPE_CHECKING:
    from pixelvault.formats.plates import PlateLayout
    from pixelvault.formats.rois import Roi

# OMERO's pixel types and the numpy types that hold them.
PIXEL_TYPES: dict[str, np.dtype[Any]] = {
    "bit": np.dtype(np.bool_),
    "int8": np.dtype(np.int8),
    "uint8": np.dtype(np.uint8),
    "int16": np.dtype(np.int16),
    "uint16": np.dtype(np.uint16),
    "int32": np.dtype(np.int32),
    "uint32": np.dtype(np.uint32),
    "float": np.dtype(np.float32),
    "double": np.dtype(np.float64),
}


def pixel_type_of(dtype: np.dtype[Any], what: str) -> str:
    """OMERO's name for a numpy type; other types (64-bit integers, complex) are refused."""
    for name, known in PIXEL_TYPES.items():
        if np.dtype(dtype).newbyteorder("=") == known:
            return name
    raise UnsupportedFormatError(
        f"{what} holds {np.dtype(dtype).name} pixels, which OMERO's model has no type for "
        f"(it has {', '.join(PIXEL_TYPES)})")


@dataclass(frozen=True)
class Channel:
    name: str = ""
    emission_wavelength: float | None = None  # nm
    excitation_wavelength: float | None = None  # nm
    color: int | None = None  # RGBA as one signed 32-bit integer, as OME-XML writes it


@dataclass(frozen=True)
class Series:
    """One image of a file: its dimensions, type, calibration and resolution levels."""

    index: int
    name: str
    size_x: int
    size_y: int
    size_z: int
    size_c: int
    size_t: int
    pixel_type: str
    significant_bits: int
    levels: tuple[tuple[int, int], ...]  # (size_x, size_y) per level; level 0 is full size
    channels: tuple[Channel, ...] = ()
    physical_size_x: float | None = None  # micrometres
    physical_size_y: float | None = None
    physical_size_z: float | None = None
    time_increment: float | None = None  # seconds
    acquisition_date: datetime | None = None
    description: str = ""

    @property
    def plane_count(self) -> int:
        return self.size_z * self.size_c * self.size_t

    @property
    def dtype(self) -> np.dtype[Any]:
        return PIXEL_TYPES[self.pixel_type]


@dataclass(frozen=True)
class Annotation:
    """An annotation found in the file's metadata (OME-XML's map, tag and comment)."""

    type: str  # "map", "tag" or "comment"
    text: str = ""
    values: tuple[tuple[str, str], ...] = ()
    namespace: str = ""
    series: tuple[int, ...] = ()  # which series it belongs to; empty: all


@dataclass
class Metadata:
    """Everything a reader learned from the file besides the pixels."""

    series: list[Series]
    original: dict[str, str] = field(default_factory=dict)  # the format's own key-values
    annotations: list[Annotation] = field(default_factory=list)
    ome_xml: str | None = None
    rois: list[Roi] = field(default_factory=list)
    plates: list[PlateLayout] = field(default_factory=list)  # fields name series


class Reader(Protocol):
    """One open file (or file set) of one format.

    ``claims`` decides, without opening the file for real, whether this reader
    knows it: 2 by its content (magic bytes), 1 by its name only, 0 not at all.
    """

    format_name: ClassVar[str]
    version: ClassVar[str]

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int: ...

    def used_files(self) -> list[Path]:
        """Every file this image needs (the fileset), the opened one first."""
        ...

    def metadata(self) -> Metadata: ...

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        """A region of one plane, as a (height, width) array of the series' type."""
        ...

    def close(self) -> None: ...


def check_region(series: Series, level: int, z: int, c: int, t: int, x: int, y: int,
                 width: int, height: int) -> None:
    """Refuse reads outside the image: a reader never returns a clipped or padded region."""
    if not 0 <= level < len(series.levels):
        raise IndexError(f"level {level} outside 0..{len(series.levels) - 1}")
    size_x, size_y = series.levels[level]
    if not (0 <= z < series.size_z and 0 <= c < series.size_c and 0 <= t < series.size_t):
        raise IndexError(f"plane z={z} c={c} t={t} outside the image")
    if width <= 0 or height <= 0 or x < 0 or y < 0 or x + width > size_x \
            or y + height > size_y:
        raise IndexError(f"region {x},{y} {width}x{height} outside the {size_x}x{size_y} plane")


@dataclass(frozen=True)
class AxisMap:
    """Where Z, C and T sit in an array of any axis order (tifffile's letters).

    Samples (S, as in RGB) count as channels; axes other than X, Y, Z, C and S
    (tifffile's I, Q, R, ... for unlabelled page sequences) are folded into T,
    as Bio-Formats does with plain multi-page TIFFs.
    """

    axes: str
    shape: tuple[int, ...]

    def _sizes(self, letters: str) -> list[tuple[int, int]]:
        return [(i, self.shape[i]) for i, a in enumerate(self.axes) if a in letters]

    @property
    def time_axes(self) -> list[tuple[int, int]]:
        return [(i, n) for i, n in enumerate(self.shape) if self.axes[i] not in "XYZCS"]

    @property
    def size_z(self) -> int:
        return math.prod(n for _, n in self._sizes("Z"))

    @property
    def size_c(self) -> int:
        return math.prod(n for _, n in self._sizes("CS"))

    @property
    def size_t(self) -> int:
        return math.prod(n for _, n in self.time_axes)

    def index(self, z: int, c: int, t: int, rows: slice, cols: slice) -> tuple[Any, ...]:
        key: list[Any] = [0] * len(self.axes)
        for position, letter in enumerate(self.axes):
            if letter == "Y":
                key[position] = rows
            elif letter == "X":
                key[position] = cols
        for letters, value in (("Z", z), ("CS", c)):
            _unravel(key, self._sizes(letters), value)
        _unravel(key, self.time_axes, t)
        return tuple(key)


def _unravel(key: list[Any], axes: list[tuple[int, int]], value: int) -> None:
    for position, size in reversed(axes):
        key[position] = value % size
        value //= size
