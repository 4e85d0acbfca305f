"""Planes of OME images held in TIFF files named by OME-XML ``TiffData`` blocks.

Two readers need this: a companion ``.companion.ome`` whose planes are in
BinaryOnly OME-TIFFs, and a multi-file OME-TIFF whose own XML spreads an image
over several files. Both name files from inside a file, so every name goes
through the fileset's :class:`~pixelvault.formats.members.Members`; a TiffData
block whose UUID is the referring file's own means that file, whatever name it
carries (a file renamed after acquisition), as Bio-Formats reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pixelvault.errors import CorruptFileError
from pixelvault.formats.base import Series
from pixelvault.formats.members import Members


def open_tiff(members: Members, path: Path) -> Any:
    """A tifffile ``TiffFile`` over a member, read as a stream (it cannot open files
    beside it); close it with :func:`close_tiff`."""
    import tifffile

    stream = members.open(path)
    try:
        tif = tifffile.TiffFile(stream, name=path.name)
    except BaseException:
        stream.close()
        raise
    tif.pixelvault_stream = stream  # type: ignore[attr-defined]
    return tif


def close_tiff(tif: Any) -> None:
    tif.close()
    stream = getattr(tif, "pixelvault_stream", None)
    if stream is not None:
        stream.close()


def plane_index(pixels: Any, z: int, c: int, t: int) -> int:
    """Where plane (z, c, t) is in the image's dimension order."""
    order = pixels.dimension_order.value[2:]  # e.g. "ZCT": fastest first
    sizes = {"Z": int(pixels.size_z), "C": int(pixels.size_c), "T": int(pixels.size_t)}
    position = {"Z": z, "C": c, "T": t}
    index, stride = 0, 1
    for axis in order:
        index += position[axis] * stride
        stride *= sizes[axis]
    return index


def _uuid_text(value: Any) -> str:
    return str(value or "").strip().lower().removeprefix("urn:uuid:")


class TiffDataPlanes:
    """Which file and directory (IFD) holds each plane, and the planes themselves."""

    def __init__(self, ome: Any, referrer: Path, members: Members,
                 own: Any | None = None) -> None:
        """``own``: the referrer's open TiffFile, when the referrer is an OME-TIFF (its
        blocks may point at itself); None for a companion, which holds no pixels."""
        self._ome = ome
        self._referrer = referrer
        self._members = members
        self._own_uuid = _uuid_text(getattr(ome, "uuid", None))
        self._tiffs: dict[Path, Any] = {}
        self._own = own
        self._planes: dict[int, dict[int, tuple[Path, int]]] = {}
        self._cached: tuple[tuple[int, int], np.ndarray[Any, Any]] | None = None

    def _target(self, block: Any) -> Path:
        uuid = block.uuid
        if self._own is not None and (
                uuid is None or (self._own_uuid and _uuid_text(uuid.value) == self._own_uuid)):
            return self._referrer
        name = uuid.file_name if uuid is not None else None
        if not name:
            raise CorruptFileError(f"{self._referrer.name}: a TiffData block names no file")
        return self._members.resolve(self._referrer, name, "the TIFF file")

    def references(self) -> list[Path]:
        """Every file the blocks name, the referrer's own excluded, in order found."""
        found: list[Path] = []
        for image in self._ome.images:
            for block in image.pixels.tiff_data_blocks:
                target = self._target(block)
                if target != self._referrer and target not in found:
                    found.append(target)
        return found

    def map(self, series: int) -> dict[int, tuple[Path, int]]:
        """Each plane of ``series`` -> (file, IFD); every plane placed, every file there."""
        if series in self._planes:
            return self._planes[series]
        pixels = self._ome.images[series].pixels
        planes = int(pixels.size_z) * int(pixels.size_c) * int(pixels.size_t)
        found: dict[int, tuple[Path, int]] = {}
        for block in pixels.tiff_data_blocks:
            file = self._target(block)
            first = plane_index(pixels, int(block.first_z or 0), int(block.first_c or 0),
                                int(block.first_t or 0))
            ifd = int(block.ifd or 0)
            given = block.plane_count if block.plane_count is not None else (
                1 if block.ifd is not None else planes - first)
            if not 0 <= int(given) <= planes:
                raise CorruptFileError(f"{self._referrer.name}: a TiffData block places "
                                       f"{given} planes of {planes}; the file is damaged")
            for step in range(int(given)):
                found[first + step] = (file, ifd + step)
        if sorted(found) != list(range(planes)):
            raise CorruptFileError(f"{self._referrer.name}: its TiffData blocks place "
                                   f"{len(found)} of {planes} planes; the metadata disagrees "
                                   "with the pixel data")
        missing = sorted({f for f, _ in found.values() if not f.is_file()})
        if missing:
            raise CorruptFileError(f"{self._referrer.name}: needs {missing[0].name}, which is "
                                   "missing")
        self._planes[series] = found
        return found

    def compressed(self, series: int) -> bool:
        """Whether the first plane's page is compressed (all of a set's pages are alike)."""
        file, ifd = self.map(series)[0]
        tif = self._tiff(file)
        return ifd < len(tif.pages) and int(tif.pages[ifd].compression) != 1

    def _tiff(self, file: Path) -> Any:
        if file == self._referrer and self._own is not None:
            return self._own
        if file not in self._tiffs:
            self._tiffs[file] = open_tiff(self._members, file)
        return self._tiffs[file]

    def plane(self, series: int, number: int, described: Series) -> np.ndarray[Any, Any]:
        """One whole plane; the last one read is kept, so a plane read tile by tile is
        decoded once."""
        import tifffile

        key = (series, number)
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1]
        file, ifd = self.map(series)[number]
        try:
            tif = self._tiff(file)
            if ifd >= len(tif.pages):
                raise IndexError(f"it has {len(tif.pages)} directories, not {ifd + 1}")
            page = tif.pages[ifd]
            if tuple(page.shape) != (described.size_y, described.size_x):
                raise CorruptFileError(  # refused before decoding what it claims to hold
                    f"{file.name}: plane {ifd} is {tuple(page.shape)}, the OME-XML says "
                    f"{described.size_y}x{described.size_x}; the metadata disagrees with "
                    "the pixel data")
            plane = page.asarray()
        except (OSError, ValueError, IndexError, KeyError, RuntimeError,
                tifffile.TiffFileError) as exc:
            raise CorruptFileError(f"{file.name}: plane {ifd} cannot be read ({exc}); the "
                                   "file is truncated or damaged") from None
        if plane.shape != (described.size_y, described.size_x):
            raise CorruptFileError(f"{file.name}: plane {ifd} is {plane.shape}, the OME-XML "
                                   "says otherwise; the metadata disagrees with the pixel data")
        result = np.asarray(plane, dtype=described.dtype)
        self._cached = (key, result)
        return result

    def close(self) -> None:
        self._cached = None
        for tif in self._tiffs.values():
            close_tiff(tif)
        self._tiffs.clear()
