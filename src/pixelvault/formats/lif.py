"""Leica LIF (and single-image LOF) through ``liffile``: each image of the project is a
series, with its Z, T and channels; dimensions Leica adds beyond those (mosaic
tiles, wavelength sweeps) are folded into T, as for other formats.

Grey images are memory-mapped, so a region reads only the rows it touches;
RGB images (which Leica stores as BGR) are read a frame at a time.
"""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixelvault.errors import CorruptFileError, UnsupportedFormatError
from pixelvault.formats.base import AxisMap, Channel, Metadata, Series, check_region, pixel_type_of
from pixelvault.formats.members import Members
from pixelvault.formats.xmlguard import refuse_entities

_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError,
           NotImplementedError, EOFError, SyntaxError, struct.error)
_LUT_COLOURS = {"red": 0xFF0000FF, "green": 0x00FF00FF, "blue": 0x0000FFFF,
                "cyan": 0x00FFFFFF, "magenta": 0xFF00FFFF, "yellow": 0xFFFF00FF,
                "gray": 0xFFFFFFFF, "grey": 0xFFFFFFFF}
_METRES = {"m": 1e6, "mm": 1e3, "um": 1.0, "µm": 1.0, "nm": 1e-3}
_SECONDS = {"s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}


def _signed(rgba: int) -> int:
    return rgba - (1 << 32) if rgba >= 1 << 31 else rgba


def _letter(label: str) -> str:
    """tifffile's axis letters, which AxisMap understands; others count as time."""
    first = label[:1]
    return first if first in "XYZTCS" else "Q"


def _axes_of(dims: tuple[str, ...] | list[str]) -> str:
    """An image's axis letters. A line scan (X-Z, X-T, X-Z-T: no Y) is read as
    Bio-Formats reads it: its scanned second axis, Z if there is one, else T, else the
    fastest other, becomes Y, so the scan is one plane instead of a file that cannot be
    imported."""
    letters = [_letter(label) for label in dims]
    if "Y" not in letters and "X" in letters:
        others = [i for i, letter in enumerate(letters) if letter not in "XCS"]
        if others:
            chosen = next((i for letter in "ZT" for i in others if letters[i] == letter),
                          others[-1])
            letters[chosen] = "Y"
    return "".join(letters)


_DIM_IDS = {"X": "1", "Y": "2", "Z": "3", "T": "4"}


def _header_xml(path: Path) -> None:
    """Refuse a header that declares entities before liffile's parser sees it."""
    with path.open("rb") as handle:
        head = handle.read(13)
        if len(head) < 13:
            raise CorruptFileError(f"{path.name}: not a readable LIF file (truncated header)")
        _, _, _, length = struct.unpack("<IIBI", head)
        text = handle.read(min(length, 256 << 20) * 2).decode("utf-16-le", "replace")
    refuse_entities(text, path.name, "LIF XML")


class LifReader:
    format_name: ClassVar[str] = "Leica LIF"
    version: ClassVar[str] = "1"

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int:
        if len(head) >= 13 and head[:4] == b"\x70\x00\x00\x00" and head[8:9] == b"\x2a":
            return 2
        return 1 if path.name.lower().endswith((".lif", ".lof")) else 0

    def __init__(self, path: Path, members: Members | None = None) -> None:
        import liffile

        self.path = (members or Members.beside(path)).check(path)
        _header_xml(path)
        try:
            self._lif = liffile.LifFile(str(path), squeeze=False)
            if self._lif.type not in (liffile.LifFileType.LIF, liffile.LifFileType.LOF):
                # Leica's XML containers name image files beside them; not read here
                raise UnsupportedFormatError(
                    f"{path.name}: a Leica XML container ({self._lif.type.name}), whose "
                    "images are in other files; pixelvault reads LIF and LOF files")
            images = [image for image in self._lif.images
                      if isinstance(image, liffile.LifImage)]
            if not images:
                raise ValueError("no images in it")
            self._images = images
            self._axes = [_axes_of(image.dims) for image in images]
            self._shapes = [tuple(int(n) for n in image.shape) for image in images]
            self._types = [pixel_type_of(np.dtype(image.dtype), path.name) for image in images]
        except UnsupportedFormatError:
            self._close_quietly()
            raise
        except _ERRORS as exc:
            self._close_quietly()
            raise CorruptFileError(f"{path.name}: not a readable LIF file ({exc})") from None
        self._arrays: dict[int, Any] = {}
        self._metadata: Metadata | None = None

    def _close_quietly(self) -> None:
        lif = getattr(self, "_lif", None)
        if lif is not None:
            with contextlib.suppress(*_ERRORS):
                lif.close()

    def used_files(self) -> list[Path]:
        return [self.path]

    def _step(self, image: Any, dim_id: str, table: dict[str, float]) -> float | None:
        """Pixel spacing along a dimension: Leica gives the extent from the first pixel's
        centre to the last one's."""
        for item in image.xml_element.iter("DimensionDescription"):
            if item.get("DimID") != dim_id:
                continue
            try:
                count, length = int(item.get("NumberOfElements", "0")), \
                    float(item.get("Length", "0"))
            except ValueError:
                return None
            factor = table.get(str(item.get("Unit", "")).strip())
            if count < 2 or not length or factor is None:
                return None
            return abs(length) * factor / (count - 1)
        return None

    def _y_dimension(self, index: int) -> str:
        """Leica's DimID of the axis read as Y: 2, or a line scan's Z (3) or T (4)."""
        image = self._images[index]
        position = self._axes[index].index("Y")
        label = str(image.dims[position])[:1]
        return _DIM_IDS.get(label, "")

    def _channels(self, index: int, size_c: int) -> tuple[Channel, ...]:
        image = self._images[index]
        element = image.xml_element
        names = [item.get("UserDefName", "") for item in element.iter()
                 if item.tag.endswith("ChannelInfo") and item.get("UserDefName")]
        emission = [item.get("EmissionWavelength") for item in element.iter()
                    if item.tag.endswith("ChannelInfo")]
        luts = [item.get("LUTName", "") for item in element.iter("ChannelDescription")]
        if "S" in self._axes[index]:
            colours = [0xFF0000FF, 0x00FF00FF, 0x0000FFFF, 0xFFFFFFFF]
            return tuple(Channel(name=("R", "G", "B", "A")[c] if c < 4 else "",
                                 color=_signed(colours[c % 4])) for c in range(size_c))
        channels = []
        for c in range(size_c):
            colour = _LUT_COLOURS.get(luts[c].lower()) if c < len(luts) else None
            wave: float | None
            try:
                text = emission[c] if c < len(emission) else None
                wave = float(text) if text else None
            except ValueError:
                wave = None
            channels.append(Channel(name=names[c] if c < len(names) else "",
                                    emission_wavelength=wave if wave and wave > 0 else None,
                                    color=_signed(colour) if colour is not None else None))
        return tuple(channels)

    def metadata(self) -> Metadata:
        if self._metadata is None:
            series = []
            for index, image in enumerate(self._images):
                axes = AxisMap(self._axes[index], self._shapes[index])
                size_x = self._shapes[index][self._axes[index].index("X")]
                size_y = self._shapes[index][self._axes[index].index("Y")]
                y_dim = self._y_dimension(index)
                pixel_type = self._types[index]
                try:
                    acquired = image.timestamps
                    first = acquired[0].astype("datetime64[us]").item() \
                        if acquired is not None and len(acquired) else None
                except _ERRORS:
                    first = None
                series.append(Series(
                    index=index, name=str(image.name or f"{self.path.name} #{index + 1}"),
                    size_x=size_x, size_y=size_y, size_z=axes.size_z, size_c=axes.size_c,
                    size_t=axes.size_t, pixel_type=pixel_type,
                    significant_bits=np.dtype(image.dtype).itemsize * 8,
                    levels=((size_x, size_y),),
                    channels=self._channels(index, axes.size_c),
                    physical_size_x=self._step(image, "1", _METRES),
                    physical_size_y=self._step(image, y_dim, _METRES),
                    physical_size_z=self._step(image, "3", _METRES) if y_dim != "3" else None,
                    time_increment=self._step(image, "4", _SECONDS) if y_dim != "4" else None,
                    acquisition_date=first))
            original = {"LIF version": str(self._lif.version),
                        "LIF images": ", ".join(str(i.path) for i in self._images)[:4096]}
            self._metadata = Metadata(series=series, original=original)
        return self._metadata

    def _array(self, index: int) -> Any:
        if index not in self._arrays:
            self._arrays[index] = self._images[index].asarray(out="memmap")
        return self._arrays[index]

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        described = self.metadata().series[series]
        check_region(described, level, z, c, t, x, y, width, height)
        axes = AxisMap(self._axes[series], self._shapes[series])
        key = axes.index(z, c, t, slice(y, y + height), slice(x, x + width))
        image = self._images[series]
        try:
            if "S" in self._axes[series]:  # RGB: liffile turns Leica's BGR round
                position = self._axes[series].index("S")
                indices = {label: int(key[i]) for i, label in enumerate(image.dims)
                           if label not in ("X", "Y", "S")}
                read_frame: Any = image.frame
                frame = read_frame(**indices)
                return np.array(frame[y:y + height, x:x + width, key[position]],
                                dtype=described.dtype)
            return np.array(self._array(series)[key], dtype=described.dtype)
        except _ERRORS as exc:
            raise CorruptFileError(f"{self.path.name}: pixels cannot be read ({exc}); the "
                                   "file is truncated or damaged") from None

    def close(self) -> None:
        self._arrays.clear()
        self._close_quietly()
