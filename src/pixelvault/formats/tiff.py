"""TIFF and everything tifffile reads: OME-TIFF (single and multi-file, pyramidal),
BigTIFF, tiled and striped, compressed, SubIFD pyramids, ImageJ hyperstacks, LSM,
STK, NDPI, SVS, QPTIFF, MicroManager.

Regions are read through tifffile's zarr view of each series and level, so a
tile of a huge slide decodes only the tiles it touches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixelvault.errors import CorruptFileError, UnsupportedFormatError
from pixelvault.formats import omexml
from pixelvault.formats.base import (
    AxisMap,
    Channel,
    Metadata,
    Series,
    check_region,
    pixel_type_of,
)
from pixelvault.formats.calibration import calibration
from pixelvault.formats.decoding import bounds
from pixelvault.formats.decoding.limits import Piece
from pixelvault.formats.members import Members
from pixelvault.formats.memo import metadata_from_json, metadata_to_json
from pixelvault.formats.omexml_file import OmeXmlReader
from pixelvault.formats.tiffdata import TiffDataPlanes, close_tiff, open_tiff
from pixelvault.formats.truncation import check_complete

MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
SUFFIXES = (".tif", ".tiff", ".btf", ".tf2", ".tf8", ".lsm", ".stk", ".ndpi", ".svs",
            ".qptiff", ".scn", ".bif", ".gel")
# Tags whose values are offsets, tables or blobs: not metadata a person reads.
_SKIPPED_TAGS = {"StripOffsets", "StripByteCounts", "TileOffsets", "TileByteCounts",
                 "JPEGTables", "ColorMap", "SubIFDs", "ImageDescription", "ICCProfile",
                 "XMP", "IJMetadata", "IJMetadataByteCounts", "LSMScanInfo", "MM_Header"}
WHOLE_PAGE_BYTES = 64 << 20


def _tifffile() -> Any:
    import tifffile

    return tifffile


def _stored_tile(page: Any) -> tuple[int, int]:
    """Rows and columns of one stored tile or strip of ``page`` (a last strip counted at
    the full height writers may code it at): no codec's frame there may be larger."""
    if page.is_tiled:
        return int(page.tilelength), int(page.tilewidth)
    rows = int(page.rowsperstrip or page.imagelength)
    return min(rows, int(page.imagelength)), int(page.imagewidth)


def _level_size(axes: str, shape: tuple[int, ...]) -> tuple[int, int]:
    return int(shape[axes.index("X")]), int(shape[axes.index("Y")])


class TiffReader:
    format_name: ClassVar[str] = "TIFF"
    # 2: members checked, multi-file sets keep no memo; 3: a plane's layout is in its memo
    version: ClassVar[str] = "3"

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int:
        if head[:4] in MAGIC:
            return 2
        return 1 if path.name.lower().endswith(SUFFIXES) else 0

    def __init__(self, path: Path, members: Members | None = None,
                 memo: dict[str, Any] | None = None) -> None:
        """Open ``path``, a member of ``members`` (the files it may name); with a ``memo``
        (from :meth:`memo`), skip scanning every page."""
        tifffile = _tifffile()
        self.path = path
        self._members = members or Members.beside(path)
        self._arrays: dict[tuple[int, int], Any] = {}
        self._metadata: Metadata | None = None
        # "series/level" -> where its striped pages are (None: read through zarr); from a
        # memo, or worked out on the first read
        self._planes: dict[str, Any] = {}
        self._scanned: list[Any] | None = None
        self._used: list[Path] | None = None
        # a multi-file OME-TIFF: its planes are read through the files its XML names
        self._spread: OmeXmlReader | None = None
        try:
            self._tif = open_tiff(self._members, path)
        except (OSError, ValueError, IndexError, KeyError, EOFError, RuntimeError,
                tifffile.TiffFileError) as exc:
            raise CorruptFileError(f"{path.name}: not a readable TIFF ({exc})") from None
        if memo is not None:
            try:
                metadata = metadata_from_json(memo["metadata"])
                used = [Path(p) for p in memo["used"]]
                if all(self._members.contains(p) for p in used):
                    self._metadata, self._planes, self._used = \
                        metadata, dict(memo["planes"]), used
                    return
            except (KeyError, TypeError, ValueError):
                pass  # not ours after all: parse
            self._metadata, self._planes, self._used = None, {}, None
        try:
            if self._tif.is_ome:
                self._open_spread()
        except BaseException:
            self._close_quietly()
            raise
        if self._spread is None:
            self._scan()

    def _open_spread(self) -> None:
        """A set whose XML places planes in other files is read plane by plane through
        those files, each checked to be a member; tifffile never opens them itself."""
        ome = self._ome()
        if TiffDataPlanes(ome, self.path, self._members, self._tif).references():
            self._spread = OmeXmlReader.from_model(self.path, ome, self._members, self._tif)

    def _scan(self) -> list[Any]:
        """tifffile's series: every page of the file is visited (what a memo spares)."""
        if self._scanned is None:
            try:
                scanned = list(self._tif.series)
                if not scanned:
                    raise ValueError("no images in it")
                for series in scanned:
                    for axis in "XY":
                        if axis not in series.axes:
                            raise ValueError(f"a series without a {axis} axis "
                                             f"({series.axes})")
            except (OSError, ValueError, IndexError, KeyError, EOFError, RuntimeError,
                    _tifffile().TiffFileError) as exc:
                self._close_quietly()
                raise CorruptFileError(f"{self.path.name}: not a readable TIFF ({exc})") \
                    from None
            self._scanned = scanned
        return self._scanned

    @property
    def _series(self) -> list[Any]:
        return self._scan()

    def memo(self) -> dict[str, Any]:
        """What a later open needs to skip the scan: the metadata, the files of the set,
        and where each striped plane's directory (IFD) starts."""
        if self._spread is not None:
            raise UnsupportedFormatError(f"{self.path.name}: a multi-file set keeps no memo")
        planes: dict[str, Any] = {}
        for index, tiff_series in enumerate(self._series):
            for level in range(len(tiff_series.levels)):
                layout = self._layout(index, level)
                if layout is not None:
                    planes[f"{index}/{level}"] = layout
        return {"metadata": metadata_to_json(self.metadata()), "planes": planes,
                "used": [str(p) for p in self.used_files()]}

    def _layout(self, series: int, level: int) -> dict[str, Any] | None:
        """Where each plane's directory (IFD) starts, for planes stored as whole striped
        pages of this file; None for tiled or huge pages and planes in other files, which
        are read through tifffile's zarr view (decoding only the tiles a region needs)."""
        key = f"{series}/{level}"
        if key not in self._planes:
            level_series = self._series[series].levels[level]
            keyframe = level_series.keyframe
            pages = level_series.pages
            if keyframe.is_tiled or keyframe.nbytes > WHOLE_PAGE_BYTES or any(
                    page is None or page.parent is not self._tif for page in pages):
                self._planes[key] = None
                return None
            self._planes[key] = {
                "shape": list(level_series.shape), "axes": level_series.axes,
                "page_dims": len(keyframe.shape), "compression": int(keyframe.compression),
                "dtype": np.dtype(keyframe.dtype).str,
                "offsets": [int(page.offset) for page in pages]}
        layout: dict[str, Any] | None = self._planes[key]
        return layout

    def _close_quietly(self) -> None:
        tif = getattr(self, "_tif", None)
        if tif is not None:
            close_tiff(tif)

    @property
    def kind(self) -> str:
        """The TIFF flavour tifffile recognised (ome, imagej, lsm, svs, ...)."""
        return str(self._series[0].kind or "generic")

    def used_files(self) -> list[Path]:
        if self._used is not None:
            return list(self._used)
        if self._spread is not None:
            return self._spread.used_files()
        return [self.path]

    def _ome(self) -> Any:
        if not hasattr(self, "_ome_model"):
            self._ome_model = omexml.parse(self._tif.ome_metadata or "", self.path.name)
            binary_only = getattr(self._ome_model, "binary_only", None)
            if binary_only is not None:
                raise UnsupportedFormatError(
                    f"{self.path.name} holds pixels of the set described by "
                    f"{binary_only.metadata_file}; import that file or the directory")
        return self._ome_model

    def metadata(self) -> Metadata:
        if self._metadata is None:
            if self._spread is not None:
                spread = self._spread.metadata()
                self._metadata = Metadata(series=spread.series, original=self._original(),
                                          annotations=spread.annotations,
                                          ome_xml=self._tif.ome_metadata, rois=spread.rois,
                                          plates=spread.plates)
            else:
                self._metadata = self._build_metadata()
        return self._metadata

    def _build_metadata(self) -> Metadata:
        check_complete(self._tif, self.path.name)
        ome = self._ome() if self._tif.is_ome else None
        if ome is not None and len(ome.images) != len(self._series):
            raise CorruptFileError(
                f"{self.path.name}: its OME-XML describes {len(ome.images)} images but the "
                f"file holds {len(self._series)}")
        found = []
        for index, tiff_series in enumerate(self._series):
            axes_map = AxisMap(tiff_series.axes, tuple(tiff_series.shape))
            levels = tuple(_level_size(level.axes, tuple(level.shape))
                           for level in tiff_series.levels)
            what = f"{self.path.name} series {index}"
            missing = sum(page is None for page in tiff_series.pages)
            if missing:
                raise CorruptFileError(
                    f"{what}: {missing} of the {len(tiff_series.pages)} planes its metadata "
                    "describes are not in the file (or in the other files of its set); the "
                    "metadata disagrees with the pixel data or a file is missing")
            pixel_type = pixel_type_of(tiff_series.dtype, what)
            bits = int(np.dtype(tiff_series.dtype).itemsize * 8) if pixel_type != "bit" else 1
            size_x, size_y = levels[0]
            if ome is not None:
                series = omexml.describe(ome, index, levels, pixel_type, bits)
                found_sizes = (size_x, size_y, axes_map.size_z, axes_map.size_c,
                               axes_map.size_t)
                said = (series.size_x, series.size_y, series.size_z, series.size_c,
                        series.size_t)
                if found_sizes != said:
                    raise CorruptFileError(
                        f"{what}: the OME-XML says XYZCT {said} but the pixel data is "
                        f"{found_sizes}; the file is damaged or was edited")
            else:
                series = Series(
                    index=index, name=tiff_series.name or self.path.name, size_x=size_x,
                    size_y=size_y, size_z=axes_map.size_z, size_c=axes_map.size_c,
                    size_t=axes_map.size_t, pixel_type=pixel_type, significant_bits=bits,
                    levels=levels, channels=tuple(Channel() for _ in range(axes_map.size_c)),
                    **self._calibration(tiff_series))
            found.append(series)
        rois, plates = omexml.rois_and_plates(ome, self.path.name) if ome is not None \
            else ([], [])
        return Metadata(series=found, original=self._original(),
                        annotations=omexml.annotations_of(ome) if ome is not None else [],
                        ome_xml=self._tif.ome_metadata if ome is not None else None,
                        rois=rois, plates=plates)

    def _calibration(self, tiff_series: Any) -> dict[str, Any]:
        """Pixel sizes and time step where the file's maker put them (ImageJ, Aperio,
        Hamamatsu, Leica SCN, Philips, Ventana, QPTIFF, Micro-Manager, resolution tags)."""
        page = tiff_series.keyframe if tiff_series.pages else None
        return dict(calibration(self._tif, page))

    def _original(self) -> dict[str, str]:
        original: dict[str, str] = {"TIFF flavour": self.kind}
        page = self._tif.pages.first if hasattr(self._tif.pages, "first") else self._tif.pages[0]
        for tag in page.tags.values():
            if tag.name in _SKIPPED_TAGS:
                continue
            text = str(tag.value)
            if len(text) <= 1024:
                original[tag.name] = text
        for key, value in (self._tif.imagej_metadata or {}).items():
            text = str(value)
            if len(text) <= 1024:
                original[f"ImageJ {key}"] = text
        return original

    def pieces(self, series: int) -> list[Piece]:
        """The strip or tile each level decodes at once (a level's pages all share its
        first page's layout: tifffile decodes them with that page's parameters)."""
        if self._spread is not None:
            return self._spread.pieces(series)
        found = []
        for level in self._series[series].levels:
            page = level.keyframe
            itemsize = np.dtype(page.dtype).itemsize if page.dtype is not None else 1
            found.append(Piece(int(np.prod(page.chunks, dtype=np.float64)) * itemsize,
                               int(page.compression) != 1))
        return found

    def _array(self, series: int, level: int) -> Any:
        key = (series, level)
        if key not in self._arrays:
            import zarr

            self._arrays[key] = zarr.open(self._tif.aszarr(series=series, level=level),
                                          mode="r")
        return self._arrays[key]

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        if self._spread is not None:
            return self._spread.read(series, level, z, c, t, x, y, width, height)
        described = self.metadata().series[series]
        check_region(described, level, z, c, t, x, y, width, height)
        try:
            layout = self._layout(series, level)
            if layout is None:
                level_series = self._series[series].levels[level]
                key = AxisMap(level_series.axes, tuple(level_series.shape)).index(
                    z, c, t, slice(y, y + height), slice(x, x + width))
                with bounds.tiles(*_stored_tile(level_series.keyframe)):
                    region = self._array(series, level)[key]
            else:
                region = self._read_page(layout, z, c, t, x, y, width, height)
        except (ValueError, OSError, RuntimeError, IndexError, KeyError,
                _tifffile().TiffFileError) as exc:
            raise CorruptFileError(f"{self.path.name}: pixels cannot be decoded ({exc}); "
                                   "the file is truncated or damaged") from None
        return np.asarray(region, dtype=described.dtype)

    def _read_page(self, layout: dict[str, Any], z: int, c: int, t: int, x: int, y: int,
                   width: int, height: int) -> np.ndarray[Any, Any]:
        """A region of a plane stored as one striped page, found by its directory's offset:
        one directory read, whether or not the file's pages were scanned (a memo)."""
        shape = tuple(layout["shape"])
        key = AxisMap(layout["axes"], shape).index(z, c, t, slice(y, y + height),
                                                   slice(x, x + width))
        leading = shape[:len(shape) - int(layout["page_dims"])]
        number = int(np.ravel_multi_index(key[:len(leading)], leading)) if leading else 0
        self._tif.filehandle.seek(int(layout["offsets"][number]))
        page = _tifffile().TiffPage(self._tif, index=number)
        # A page's own tags decide what it decodes to: one that is not laid out like the
        # first page of its series (a crafted, taller or otherwise compressed page) is
        # refused before it is decoded.
        if (tuple(page.shape) != shape[len(leading):] or page.dtype is None
                or np.dtype(page.dtype).str != layout["dtype"]
                or int(page.compression) != int(layout["compression"])):
            raise CorruptFileError(f"{self.path.name}: plane {number} is not stored like the "
                                   "first plane of its series; the file is damaged or crafted")
        with bounds.tiles(*_stored_tile(page)):
            decoded = page.asarray()
        region: np.ndarray[Any, Any] = decoded.reshape(shape[len(leading):])[key[len(leading):]]
        return region

    def close(self) -> None:
        self._arrays.clear()
        if self._spread is not None:
            self._spread.close()
        close_tiff(self._tif)

