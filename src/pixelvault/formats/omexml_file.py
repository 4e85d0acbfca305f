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
from pixelvault.formats.decoding.limits import Piece
from pixelvault.formats.members import Members
from pixelvault.formats.tiffdata import TiffDataPlanes, plane_index

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

    def __init__(self, path: Path, members: Members | None = None) -> None:
        self.path = path
        self._members = members or Members.beside(path)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise UnsupportedFormatError(
                    f"{path.name}: OME-XML with inline pixels larger than 2 GiB; convert it "
                    "to OME-TIFF")
            with self._members.open(path) as handle:
                raw = handle.read()
        except OSError as exc:
            raise CorruptFileError(f"{path.name}: cannot be read ({exc.strerror})") from None
        self._setup(omexml.parse(raw, path.name), None)

    @classmethod
    def from_model(cls, path: Path, ome: Any, members: Members, own: Any) -> OmeXmlReader:
        """The reader of a multi-file OME-TIFF: ``path`` is the OME-TIFF opened, ``own``
        its open TiffFile, ``ome`` its XML; its planes are in the files the XML names."""
        reader = cls.__new__(cls)
        reader.path = path
        reader._members = members
        reader._setup(ome, own)
        return reader

    def _setup(self, ome: Any, own: Any | None) -> None:
        self._ome = ome
        if not self._ome.images:
            raise CorruptFileError(f"{self.path.name}: OME-XML without any image")
        self._planes: dict[tuple[int, int], np.ndarray[Any, Any]] = {}
        self._tiff_data = TiffDataPlanes(ome, self.path, self._members, own)
        self._tiff_series: set[int] = set()
        self._metadata: Metadata | None = None

    def used_files(self) -> list[Path]:
        self.metadata()
        files = {f for series in self._tiff_series
                 for f, _ in self._tiff_data.map(series).values()}
        files.discard(self.path)
        return [self.path, *sorted(files)]

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
                    self._tiff_data.map(index)
                    self._tiff_series.add(index)
                elif len(pixels.bin_data_blocks) != planes:
                    raise CorruptFileError(
                        f"{self.path.name} image {index}: {len(pixels.bin_data_blocks)} "
                        f"BinData planes for {planes} described; the metadata disagrees "
                        "with the pixel data")
                bits = 1 if kind == "bit" else PIXEL_TYPES[kind].itemsize * 8
                size = (int(pixels.size_x), int(pixels.size_y))
                series.append(omexml.describe(self._ome, index, (size,), kind, bits))
            rois, plates = omexml.rois_and_plates(self._ome, self.path.name)
            self._metadata = Metadata(series=series, annotations=omexml.annotations_of(
                self._ome), ome_xml=None, rois=rois, plates=plates)
        return self._metadata

    def pieces(self, series: int) -> list[Piece]:
        """A plane is decoded whole: from its BinData, or from its TIFF page."""
        described = self.metadata().series[series]
        plane = described.size_x * described.size_y * described.dtype.itemsize
        if series in self._tiff_series:
            return [Piece(plane, self._tiff_data.compressed(series))]
        blocks = self._ome.images[series].pixels.bin_data_blocks
        return [Piece(plane, any(b.compression is not None and b.compression.value != "none"
                                 for b in blocks))]

    def _plane_index(self, series: int, z: int, c: int, t: int) -> int:
        return plane_index(self._ome.images[series].pixels, z, c, t)

    def _plane(self, series: int, number: int) -> np.ndarray[Any, Any]:
        key = (series, number)
        if series in self._tiff_series:
            return self._tiff_data.plane(series, number, self.metadata().series[series])
        if key not in self._planes:
            described = self.metadata().series[series]
            block = self._ome.images[series].pixels.bin_data_blocks[number]
            data: bytes = block.value
            compression = block.compression.value if block.compression is not None else "none"
            count = described.size_x * described.size_y
            expected = (described.size_x + 7) // 8 * described.size_y \
                if described.pixel_type == "bit" else count * described.dtype.itemsize
            try:
                # never more than the plane holds: a small BinData can inflate to gigabytes
                if compression == "zlib":
                    data = zlib.decompressobj().decompress(data, expected + 1)
                elif compression == "bzip2":
                    data = bz2.BZ2Decompressor().decompress(data, expected + 1)
            except (zlib.error, OSError, ValueError, EOFError) as exc:
                raise CorruptFileError(f"{self.path.name}: plane {number} cannot be "
                                       f"decompressed ({exc})") from None
            if len(data) > expected:
                raise CorruptFileError(f"{self.path.name}: plane {number} inflates to more "
                                       f"bytes than its {described.size_x}x{described.size_y} "
                                       "plane holds; the file is damaged or a decompression "
                                       "bomb")
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
        self._tiff_data.close()
