"""OME-XML files: with their pixels inline (``.ome.xml``, BinData: every pixel type and
compression the schema allows, either byte order, any dimension order), or as the
companion of a set of TIFF files holding the pixels (``.companion.ome``: TiffData
blocks name each plane's file and directory). Planes are decoded when first read."""

from __future__ import annotations

import bz2
import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixelvault.errors import CorruptFileError, UnsupportedFormatError
from pixelvault.formats import omexml
from pixelvault.formats.base import PIXEL_TYPES, Metadata, check_region

MAX_BYTES = 2 << 30  # inline pixels are for small images; larger ones belong in OME-TIFF


class OmeXmlReader:
    format_name: ClassVar[str] = "OME-XML"
    version: ClassVar[str] = "1"

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text.startswith(b"<") and b"<OME" in head and b"openmicroscopy.org/Schemas/OME" \
                in head:
            return 2
        return 1 if path.name.lower().endswith((".ome.xml", ".ome", ".companion.ome")) else 0

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            if path.stat().st_size > MAX_BYTES:
                raise UnsupportedFormatError(
                    f"{path.name}: OME-XML with inline pixels larger than 2 GiB; convert it "
                    "to OME-TIFF")
            raw = path.read_bytes()
        except OSError as exc:
            raise CorruptFileError(f"{path.name}: cannot be read ({exc.strerror})") from None
        self._ome = omexml.parse(raw, path.name)
        if not self._ome.images:
            raise CorruptFileError(f"{path.name}: OME-XML without any image")
        self._planes: dict[tuple[int, int], np.ndarray[Any, Any]] = {}
        self._tiff_planes: dict[int, dict[int, tuple[Path, int]]] = {}
        self._tiffs: dict[Path, Any] = {}
        self._metadata: Metadata | None = None

    def used_files(self) -> list[Path]:
        self.metadata()
        files = {f for planes in self._tiff_planes.values() for f, _ in planes.values()}
        return [self.path, *sorted(files)]

    def _map_tiff_planes(self, series: int, planes: int) -> None:
        """Which file and directory (IFD) holds each plane, from the TiffData blocks."""
        pixels = self._ome.images[series].pixels
        found: dict[int, tuple[Path, int]] = {}
        for block in pixels.tiff_data_blocks:
            name = block.uuid.file_name if block.uuid is not None else None
            if not name:
                raise CorruptFileError(f"{self.path.name}: a TiffData block names no file")
            file = self.path.parent / Path(name).name  # never outside the set's directory
            first = self._plane_index(series, int(block.first_z or 0), int(block.first_c or 0),
                                      int(block.first_t or 0))
            ifd = int(block.ifd or 0)
            given = block.plane_count if block.plane_count is not None else (
                1 if block.ifd is not None else planes - first)
            for step in range(int(given)):
                found[first + step] = (file, ifd + step)
        if sorted(found) != list(range(planes)):
            raise CorruptFileError(f"{self.path.name}: its TiffData blocks place "
                                   f"{len(found)} of {planes} planes; the metadata disagrees "
                                   "with the pixel data")
        missing = sorted({f for f, _ in found.values() if not f.is_file()})
        if missing:
            raise CorruptFileError(f"{self.path.name}: needs {missing[0].name}, which is "
                                   "missing")
        self._tiff_planes[series] = found

    def metadata(self) -> Metadata:
        if self._metadata is None:
            series = []
            for index, image in enumerate(self._ome.images):
                pixels = image.pixels
                kind = pixels.type.value
                if kind not in PIXEL_TYPES:
                    raise UnsupportedFormatError(
                        f"{self.path.name}: {kind} pixels, which OMERO's model has no type for")
                planes = int(pixels.size_z) * int(pixels.size_c) * int(pixels.size_t)
                if pixels.tiff_data_blocks and not pixels.bin_data_blocks:
                    self._map_tiff_planes(index, planes)
                elif len(pixels.bin_data_blocks) != planes:
                    raise CorruptFileError(
                        f"{self.path.name} image {index}: {len(pixels.bin_data_blocks)} "
                        f"BinData planes for {planes} described; the metadata disagrees "
                        "with the pixel data")
                bits = 1 if kind == "bit" else PIXEL_TYPES[kind].itemsize * 8
                size = (int(pixels.size_x), int(pixels.size_y))
                series.append(omexml.describe(self._ome, index, (size,), kind, bits))
            self._metadata = Metadata(series=series, annotations=omexml.annotations_of(
                self._ome), ome_xml=None)
        return self._metadata

    def _plane_index(self, series: int, z: int, c: int, t: int) -> int:
        pixels = self._ome.images[series].pixels
        order = pixels.dimension_order.value[2:]  # e.g. "ZCT": fastest first
        sizes = {"Z": int(pixels.size_z), "C": int(pixels.size_c), "T": int(pixels.size_t)}
        position = {"Z": z, "C": c, "T": t}
        index, stride = 0, 1
        for axis in order:
            index += position[axis] * stride
            stride *= sizes[axis]
        return index

    def _tiff_plane(self, series: int, number: int) -> np.ndarray[Any, Any]:
        import tifffile

        described = self.metadata().series[series]
        file, ifd = self._tiff_planes[series][number]
        try:
            if file not in self._tiffs:
                self._tiffs[file] = tifffile.TiffFile(file)
            plane = self._tiffs[file].pages[ifd].asarray()
        except (OSError, ValueError, IndexError, KeyError, RuntimeError,
                tifffile.TiffFileError) as exc:
            raise CorruptFileError(f"{file.name}: plane {ifd} cannot be read ({exc}); the "
                                   "file is truncated or damaged") from None
        if plane.shape != (described.size_y, described.size_x):
            raise CorruptFileError(f"{file.name}: plane {ifd} is {plane.shape}, the "
                                   "companion says otherwise; the metadata disagrees with "
                                   "the pixel data")
        return np.asarray(plane, dtype=described.dtype)

    def _plane(self, series: int, number: int) -> np.ndarray[Any, Any]:
        key = (series, number)
        if series in self._tiff_planes:
            return self._tiff_plane(series, number)
        if key not in self._planes:
            described = self.metadata().series[series]
            block = self._ome.images[series].pixels.bin_data_blocks[number]
            data: bytes = block.value
            compression = block.compression.value if block.compression is not None else "none"
            try:
                if compression == "zlib":
                    data = zlib.decompress(data)
                elif compression == "bzip2":
                    data = bz2.decompress(data)
            except (zlib.error, OSError, ValueError) as exc:
                raise CorruptFileError(f"{self.path.name}: plane {number} cannot be "
                                       f"decompressed ({exc})") from None
            count = described.size_x * described.size_y
            if described.pixel_type == "bit":
                bits = np.unpackbits(np.frombuffer(data, np.uint8))
                if bits.size < count:
                    raise CorruptFileError(f"{self.path.name}: plane {number} is too short")
                plane = bits[:count].astype(bool)
            else:
                dtype = described.dtype.newbyteorder(">" if block.big_endian else "<")
                if len(data) != count * dtype.itemsize:
                    raise CorruptFileError(
                        f"{self.path.name}: plane {number} holds {len(data)} bytes, "
                        f"{count * dtype.itemsize} expected; the file is damaged")
                plane = np.frombuffer(data, dtype).astype(described.dtype)
            self._planes = {key: plane.reshape(described.size_y, described.size_x)}
        return self._planes[key]

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        described = self.metadata().series[series]
        check_region(described, level, z, c, t, x, y, width, height)
        plane = self._plane(series, self._plane_index(series, z, c, t))
        return np.ascontiguousarray(plane[y:y + height, x:x + width])

    def close(self) -> None:
        self._planes.clear()
        for tiff in self._tiffs.values():
            tiff.close()
        self._tiffs.clear()
