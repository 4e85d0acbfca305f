"""OME-Zarr (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3): a directory, one fileset.

Three layouts hold images: a single image (its multiscales are the image's
resolution levels), a high-content-screening plate (every field of every well
is a series, in the plate's well order) or a lone well, and bioformats2raw's
layout (numbered series ``0/``, ``1/``, ...). Label images are not images of
their own and are left out.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixelvault.errors import CorruptFileError
from pixelvault.formats.base import (
    AxisMap,
    Channel,
    Metadata,
    Series,
    check_region,
    pixel_type_of,
)
from pixelvault.formats.decoding.limits import Piece
from pixelvault.formats.members import ForeignFileError, Members
from pixelvault.formats.plates import Acquisition, Field, PlateLayout, WellLayout
from pixelvault.formats.plates import check as check_plate

_UNITS = {"micrometer": 1.0, "nanometer": 1e-3, "millimeter": 1e3, "meter": 1e6,
          "centimeter": 1e4, "angstrom": 1e-4}
_TIME = {"second": 1.0, "millisecond": 1e-3, "microsecond": 1e-6, "minute": 60.0,
         "hour": 3600.0}
_KEYS = ("multiscales", "plate", "well", "bioformats2raw.layout")
_ERRORS = (KeyError, TypeError, ValueError, OSError, IndexError, AttributeError)
MAX_METADATA = 256 << 20  # bytes of bioformats2raw's OME/METADATA.ome.xml


def _read_attributes(path: Path) -> tuple[dict[str, Any], str] | None:
    """The group's OME attributes and NGFF version, if ``path`` holds any."""
    try:
        if (path / "zarr.json").is_file():
            meta = json.loads((path / "zarr.json").read_text("utf-8"))
            ome = meta.get("attributes", {}).get("ome")
            if isinstance(ome, dict) and any(key in ome for key in _KEYS):
                return ome, str(ome.get("version", "0.5"))
            return None
        if (path / ".zattrs").is_file():
            attrs = json.loads((path / ".zattrs").read_text("utf-8"))
            if isinstance(attrs, dict) and any(key in attrs for key in _KEYS):
                scales = attrs.get("multiscales") or [{}]
                version = scales[0].get("version") or \
                    (attrs.get("plate") or attrs.get("well") or {}).get("version") or "0.4"
                return attrs, str(version)
    except (OSError, ValueError, AttributeError, IndexError, TypeError, RecursionError):
        # RecursionError: JSON nested deeper than the parser's stack (hostile, or garbage)
        raise CorruptFileError(f"{path.name}: OME-Zarr metadata cannot be read") from None
    return None


def _attributes(path: Path, what: str) -> dict[str, Any]:
    found = _read_attributes(path)
    if found is None:
        raise CorruptFileError(f"{what}: {path.name} is named by the OME-Zarr metadata but "
                               "holds no OME-Zarr group")
    return found[0]


@dataclass
class _Image:
    """One multiscale image inside the directory."""

    name: str
    attrs: dict[str, Any]
    arrays: list[Any]
    axes: str
    scale: dict[str, Any]

    @classmethod
    def open(cls, path: Path, name: str, attrs: dict[str, Any], what: str,
             members: Members) -> _Image:
        import zarr

        multiscales = attrs.get("multiscales")
        if not isinstance(multiscales, list) or not multiscales:
            raise CorruptFileError(f"{what}: OME-Zarr without multiscales at {path.name}")
        scale = multiscales[0]
        try:
            arrays: list[Any] = [
                # a Path, never a string: zarr reads "a::b" as an fsspec URL chain
                zarr.open_array(members.resolve(path / ".zattrs", str(d["path"]),
                                                "the array", by=what), mode="r")
                for d in scale["datasets"]]
            if not arrays or not all(isinstance(a, zarr.Array) for a in arrays):
                raise ValueError("a dataset that is not an array")
            declared = scale.get("axes") or [{"name": a} for a in "tczyx"]
            axes = "".join(str(a["name"] if isinstance(a, dict) else a).upper()
                           for a in declared)
        except _ERRORS as exc:
            raise CorruptFileError(f"{what}: OME-Zarr arrays cannot be opened "
                                   f"({exc})") from None
        if "X" not in axes or "Y" not in axes or \
                any(len(a.shape) != len(axes) for a in arrays):
            raise CorruptFileError(f"{what}: axes {axes} do not match the arrays")
        return cls(str(scale.get("name") or name), attrs, arrays, axes, scale)

    def _scale_of(self, axis: str) -> tuple[float | None, str]:
        declared = self.scale.get("axes") or []
        transforms = self.scale["datasets"][0].get("coordinateTransformations") or []
        values = next((t.get("scale") for t in transforms if t.get("type") == "scale"), None)
        position = self.axes.find(axis)
        if values is None or position < 0 or position >= len(values):
            return None, ""
        unit = declared[position].get("unit", "") if position < len(declared) and \
            isinstance(declared[position], dict) else ""
        return float(values[position]), str(unit)

    def describe(self, index: int, what: str) -> Series:
        full = self.arrays[0]
        axes = AxisMap(self.axes, tuple(int(n) for n in full.shape))
        pixel_type = pixel_type_of(full.dtype, what)
        levels = tuple((int(a.shape[self.axes.index("X")]), int(a.shape[self.axes.index("Y")]))
                       for a in self.arrays)
        omero = self.attrs.get("omero") or {}
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
        return Series(
            index=index, name=self.name, size_x=levels[0][0], size_y=levels[0][1],
            size_z=axes.size_z, size_c=axes.size_c, size_t=axes.size_t, pixel_type=pixel_type,
            significant_bits=1 if pixel_type == "bit" else full.dtype.itemsize * 8,
            levels=levels, channels=tuple(channels), **calibration)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def _moment(value: Any) -> datetime | None:
    """An NGFF acquisition time: milliseconds since the epoch (the spec's unit)."""
    if not isinstance(value, int | float) or not 0 <= value < 1e14:
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


class OmeZarrReader:
    format_name: ClassVar[str] = "OME-Zarr"
    version: ClassVar[str] = "2"

    @classmethod
    def claims_directory(cls, path: Path) -> bool:
        try:
            return _read_attributes(path) is not None
        except CorruptFileError:
            return True  # ours, and damaged: opening it says so

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int:
        return 0  # a directory, never a file

    def __init__(self, path: Path, members: Members | None = None) -> None:
        self.path = path
        self._members = members or Members.beside(path)
        self._members.check(path)
        found = _read_attributes(path)
        if found is None:
            raise CorruptFileError(f"{path.name}: not an OME-Zarr image")
        attrs, self.ngff = found
        self.layout = "image"
        self._images: list[_Image] = []
        self._plates: list[PlateLayout] = []
        self._rois: list[Any] = []
        try:
            if "plate" in attrs:
                self.layout = "plate"
                self._open_plate(attrs["plate"])
            elif "well" in attrs:
                self.layout = "well"
                self._open_lone_well(Path(os.path.abspath(path)), attrs["well"])
            elif "multiscales" in attrs:
                self._images.append(_Image.open(path, path.name, attrs, path.name,
                                                self._members))
            else:
                self.layout = "bioformats2raw"
                self._open_series()
            if self.layout in ("image", "plate"):
                self._described_rois()
        except _ERRORS as exc:
            raise CorruptFileError(f"{path.name}: OME-Zarr metadata is not what NGFF "
                                   f"describes ({type(exc).__name__}: {exc})") from None
        if not self._images:
            raise CorruptFileError(f"{path.name}: an OME-Zarr {self.layout} without images")
        self._metadata: Metadata | None = None

    def _inside(self, base: Path, relative: str) -> Path:
        """A group named by the metadata: refused unless it is part of the fileset (inside
        the directory, through no symbolic link)."""
        return self._members.resolve(base / ".zattrs", str(relative), "the group",
                                     by=self.path.name)

    def _open_plate(self, plate: dict[str, Any]) -> None:
        rows = [str(r["name"]) for r in plate.get("rows", [])]
        columns = [str(c["name"]) for c in plate.get("columns", [])]
        runs = [a for a in plate.get("acquisitions") or [] if isinstance(a, dict)]
        run_index = {a.get("id"): number for number, a in enumerate(runs)}
        wells = []
        for well in plate["wells"]:
            path = str(well["path"])
            row, column = well.get("rowIndex"), well.get("columnIndex")
            if not isinstance(row, int) or not isinstance(column, int):
                # NGFF before 0.4 names wells by path only: "row/column"
                row_name, _, column_name = path.partition("/")
                row = rows.index(row_name) if row_name in rows else -1
                column = columns.index(column_name) if column_name in columns else -1
            if not (0 <= row < len(rows) and 0 <= column < len(columns)):
                raise CorruptFileError(f"{self.path.name}: well {path} lies outside the "
                                       f"plate's {len(rows)} rows and {len(columns)} columns")
            where = self._inside(self.path, path)
            fields = self._open_well(where, _attributes(where, self.path.name)["well"],
                                     path, run_index)
            wells.append(WellLayout(row=row, column=column, fields=fields))
        self._plates.append(PlateLayout(
            name=str(plate.get("name") or self.path.name), rows=len(rows),
            columns=len(columns), wells=tuple(wells), row_names=tuple(rows),
            column_names=tuple(columns),
            acquisitions=tuple(Acquisition(
                name=str(a.get("name") or a.get("id") or ""),
                description=str(a.get("description") or ""),
                maximum_field_count=_count(a.get("maximumfieldcount")),
                start_time=_moment(a.get("starttime")), end_time=_moment(a.get("endtime")))
                for a in runs)))

    def _open_lone_well(self, where: Path, well: dict[str, Any]) -> None:
        """A well opened alone: a one-well plate, named by the directories above it."""
        row, column = where.parent.name, where.name
        fields = self._open_well(where, well, f"{row}/{column}", {})
        self._plates.append(PlateLayout(
            name=where.parent.parent.name or f"{row}{column}", rows=1, columns=1,
            wells=(WellLayout(row=0, column=0, fields=fields),), row_names=(row,),
            column_names=(column,)))

    def _open_well(self, where: Path, well: dict[str, Any], path: str,
                   run_index: dict[Any, int]) -> tuple[Field, ...]:
        """The well's fields as series, each named by its full-resolution array's path
        ("A/1/0/0"), as Bio-Formats' Zarr reader names them for OMERO."""
        fields = []
        for field in well["images"]:
            image = self._inside(where, str(field["path"]))
            opened = _Image.open(image, "", _attributes(image, self.path.name),
                                 self.path.name, self._members)
            opened.name = f"{path}/{field['path']}/{opened.scale['datasets'][0]['path']}"
            fields.append(Field(series=len(self._images),
                                acquisition=run_index.get(field.get("acquisition"))))
            self._images.append(opened)
        return tuple(fields)

    def _described(self) -> Any:
        """bioformats2raw's ``OME/METADATA.ome.xml`` (the whole set's OME-XML), if any."""
        from pixelvault.formats import omexml

        path = self.path / "OME" / "METADATA.ome.xml"
        if not path.is_file() or not self._members.contains(path):
            return None
        if path.stat().st_size > MAX_METADATA:
            raise CorruptFileError(f"{self.path.name}: OME/METADATA.ome.xml is larger than "
                                   f"{MAX_METADATA >> 20} MiB")
        return omexml.parse(path.read_bytes(), f"{self.path.name}/OME/METADATA.ome.xml")

    def _described_rois(self) -> None:
        """The ROIs in ``OME/METADATA.ome.xml`` beside an image or a plate, which
        Bio-Formats' Zarr reader takes whatever the layout (pixelvault's exports write
        them there): a plate's by the well and place of the field the document puts them
        on."""
        from pixelvault.formats import omexml

        described = self._described()
        if described is None:
            return
        found, plates = omexml.rois_and_plates(described,
                                               f"{self.path.name}/OME/METADATA.ome.xml")
        if self.layout == "image":
            self._rois = [r for r in found if r.series == 0]
            return
        fields = {(w.row, w.column): w.fields for p in self._plates for w in p.wells}
        series_of: dict[int, int] = {}
        for well in plates[0].wells if plates else ():
            for mine, theirs in zip(fields.get((well.row, well.column), ()), well.fields,
                                    strict=False):
                series_of[theirs.series] = mine.series
        self._rois = [replace(r, series=series_of[r.series]) for r in found
                      if r.series in series_of]

    def _open_series(self) -> None:
        from pixelvault.formats import omexml

        numbered = sorted((int(p.name), p) for p in self.path.iterdir()
                          if p.is_dir() and p.name.isdigit() and self._members.contains(p))
        described = self._described()
        if described is not None:
            present = {number for number, _ in numbered}
            missing = [i for i in range(len(described.images)) if i not in present]
            if missing:
                raise CorruptFileError(
                    f"{self.path.name}: OME/METADATA.ome.xml describes "
                    f"{len(described.images)} series but series {missing[0]} is not there; "
                    "the conversion was cut short, convert the file again")
            numbered = [(n, p) for n, p in numbered if n < len(described.images)]
            self._rois, self._plates = omexml.rois_and_plates(described, self.path.name)
        for number, where in numbered:
            found = _read_attributes(where)
            if found is None or "multiscales" not in found[0]:
                if described is not None:  # its plate and ROIs count series by number
                    raise CorruptFileError(f"{self.path.name}: series {number} holds no "
                                           "image; convert the file again")
                continue
            self._images.append(_Image.open(where, f"{self.path.name} #{number}", found[0],
                                            self.path.name, self._members))

    def used_files(self) -> list[Path]:
        """Every file below the directory; a symbolic link anywhere in it is refused, since
        what it points at is not part of the image."""
        found: list[Path] = []
        for folder, dirs, files in os.walk(self.path):
            for name in (*dirs, *files):
                if os.path.islink(os.path.join(folder, name)):
                    raise ForeignFileError(
                        f"{self.path.name} holds a symbolic link "
                        f"({Path(folder, name).relative_to(self.path)}); copy what it points "
                        "at into the OME-Zarr directory, or import without it")
            found.extend(Path(folder, name) for name in files)
        return sorted(found)

    def metadata(self) -> Metadata:
        if self._metadata is None:
            series = [image.describe(index, self.path.name)
                      for index, image in enumerate(self._images)]
            first = self._images[0]
            for plate in self._plates:
                check_plate(plate, len(series), self.path.name)
            self._metadata = Metadata(series=series, original={
                "NGFF version": self.ngff, "OME-Zarr layout": self.layout, "axes": first.axes,
                "datasets": ", ".join(d["path"] for d in first.scale["datasets"])},
                plates=list(self._plates), rois=list(self._rois))
        return self._metadata

    def pieces(self, series: int) -> list[Piece]:
        """Each level's chunk (a shard's inner chunk: what zarr decodes at once)."""
        found = []
        for array in self._images[series].arrays:
            decoded = int(np.prod(array.chunks, dtype=np.float64)) * array.dtype.itemsize
            found.append(Piece(decoded, bool(array.compressors) or bool(array.filters)))
        return found

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        described = self.metadata().series[series]
        check_region(described, level, z, c, t, x, y, width, height)
        image = self._images[series]
        array = image.arrays[level]
        key = AxisMap(image.axes, tuple(int(n) for n in array.shape)).index(
            z, c, t, slice(y, y + height), slice(x, x + width))
        try:
            return np.asarray(array[key], dtype=described.dtype)
        except (ValueError, OSError, RuntimeError, KeyError) as exc:
            raise CorruptFileError(f"{self.path.name}: chunks cannot be decoded ({exc}); "
                                   "the image is damaged") from None

    def close(self) -> None:
        for image in self._images:
            image.arrays = []
