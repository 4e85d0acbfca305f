"""OME-Zarr images (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3): a directory, whose multiscales
are the image's resolution levels. Plates and label images are not read yet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixelvault.errors import CorruptFileError, UnsupportedFormatError
from pixelvault.formats.base import (
    AxisMap,
    Channel,
    Metadata,
    Series,
    check_region,
    pixel_type_of,
)

_UNITS = {"micrometer": 1.0, "nanometer": 1e-3, "millimeter": 1e3, "meter": 1e6,
          "centimeter": 1e4, "angstrom": 1e-4}
_TIME = {"second": 1.0, "millisecond": 1e-3, "microsecond": 1e-6, "minute": 60.0,
         "hour": 3600.0}


def _attributes(path: Path) -> tuple[dict[str, Any], str] | None:
    """The group's OME attributes and NGFF version, if ``path`` is an OME-Zarr image."""
    try:
        if (path / "zarr.json").is_file():
            meta = json.loads((path / "zarr.json").read_text("utf-8"))
            ome = meta.get("attributes", {}).get("ome")
            if isinstance(ome, dict):
                return ome, str(ome.get("version", "0.5"))
        if (path / ".zattrs").is_file():
            attrs = json.loads((path / ".zattrs").read_text("utf-8"))
            if isinstance(attrs, dict) and ("multiscales" in attrs or "plate" in attrs):
                scales = attrs.get("multiscales") or [{}]
                return attrs, str(scales[0].get("version", "0.4"))
    except (OSError, ValueError, AttributeError, IndexError, TypeError):
        raise CorruptFileError(f"{path.name}: OME-Zarr metadata cannot be read") from None
    return None


class OmeZarrReader:
    format_name: ClassVar[str] = "OME-Zarr"
    version: ClassVar[str] = "1"

    @classmethod
    def claims_directory(cls, path: Path) -> bool:
        try:
            return _attributes(path) is not None
        except CorruptFileError:
            return True  # ours, and damaged: opening it says so

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int:
        return 0  # a directory, never a file

    def __init__(self, path: Path) -> None:
        import zarr

        self.path = path
        found = _attributes(path)
        if found is None:
            raise CorruptFileError(f"{path.name}: not an OME-Zarr image")
        self._attrs, self.ngff = found
        if "plate" in self._attrs or "well" in self._attrs:
            raise UnsupportedFormatError(f"{path.name}: an OME-Zarr plate; import its images "
                                         "one by one (plates are not read yet)")
        multiscales = self._attrs.get("multiscales")
        if not isinstance(multiscales, list) or not multiscales:
            raise CorruptFileError(f"{path.name}: OME-Zarr without multiscales")
        self._scale = multiscales[0]
        try:
            self._group = zarr.open_group(str(path), mode="r")
            self._arrays: list[Any] = [self._group[d["path"]] for d in self._scale["datasets"]]
            if not self._arrays or not all(isinstance(a, zarr.Array) for a in self._arrays):
                raise ValueError("a dataset that is not an array")
            axes = self._scale.get("axes") or [{"name": a} for a in "tczyx"]
            self._axes = "".join(str(a["name"] if isinstance(a, dict) else a).upper()
                                 for a in axes)
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise CorruptFileError(f"{path.name}: OME-Zarr arrays cannot be opened "
                                   f"({exc})") from None
        if "X" not in self._axes or "Y" not in self._axes or \
                any(len(a.shape) != len(self._axes) for a in self._arrays):
            raise CorruptFileError(f"{path.name}: axes {self._axes} do not match the arrays")
        self._metadata: Metadata | None = None

    def used_files(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*") if p.is_file())

    def _scale_of(self, axis: str) -> tuple[float | None, str]:
        axes = self._scale.get("axes") or []
        transforms = self._scale["datasets"][0].get("coordinateTransformations") or []
        scale = next((t.get("scale") for t in transforms if t.get("type") == "scale"), None)
        position = self._axes.find(axis)
        if scale is None or position < 0 or position >= len(scale):
            return None, ""
        unit = axes[position].get("unit", "") if position < len(axes) and \
            isinstance(axes[position], dict) else ""
        return float(scale[position]), str(unit)

    def metadata(self) -> Metadata:
        if self._metadata is None:
            full = self._arrays[0]
            shape = tuple(int(n) for n in full.shape)
            axes = AxisMap(self._axes, shape)
            pixel_type = pixel_type_of(full.dtype, self.path.name)
            levels = tuple((int(a.shape[self._axes.index("X")]),
                            int(a.shape[self._axes.index("Y")])) for a in self._arrays)
            omero = self._attrs.get("omero") or {}
            channels = []
            for entry in (omero.get("channels") or [])[:axes.size_c]:
                colour = entry.get("color")
                try:
                    rgba = (int(str(colour), 16) << 8 | 0xFF) if colour else None
                except ValueError:
                    rgba = None
                if rgba is not None and rgba >= 1 << 31:
                    rgba -= 1 << 32
                channels.append(Channel(name=str(entry.get("label", "")), color=rgba))
            channels += [Channel()] * (axes.size_c - len(channels))
            calibration: dict[str, Any] = {}
            for axis, key, table in (("X", "physical_size_x", _UNITS),
                                     ("Y", "physical_size_y", _UNITS),
                                     ("Z", "physical_size_z", _UNITS),
                                     ("T", "time_increment", _TIME)):
                value, unit = self._scale_of(axis)
                if value is not None and unit in table:
                    calibration[key] = value * table[unit]
            series = Series(
                index=0, name=str(self._scale.get("name") or self.path.name),
                size_x=levels[0][0], size_y=levels[0][1], size_z=axes.size_z,
                size_c=axes.size_c, size_t=axes.size_t, pixel_type=pixel_type,
                significant_bits=1 if pixel_type == "bit" else full.dtype.itemsize * 8,
                levels=levels, channels=tuple(channels), **calibration)
            self._metadata = Metadata(series=[series], original={
                "NGFF version": self.ngff, "axes": self._axes,
                "datasets": ", ".join(d["path"] for d in self._scale["datasets"])})
        return self._metadata

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        if series != 0:
            raise IndexError(f"series {series} outside 0..0")
        described = self.metadata().series[0]
        check_region(described, level, z, c, t, x, y, width, height)
        array = self._arrays[level]
        key = AxisMap(self._axes, tuple(int(n) for n in array.shape)).index(
            z, c, t, slice(y, y + height), slice(x, x + width))
        try:
            return np.asarray(array[key], dtype=described.dtype)
        except (ValueError, OSError, RuntimeError, KeyError) as exc:
            raise CorruptFileError(f"{self.path.name}: chunks cannot be decoded ({exc}); "
                                   "the image is damaged") from None

    def close(self) -> None:
        self._arrays = []
