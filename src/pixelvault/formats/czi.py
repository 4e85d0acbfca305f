"""Zeiss CZI through Zeiss's own library (pylibCZIrw): each scene is a series, in the
scene's own coordinates. Colour files (BGR samples) give three channels, R, G and B,
per CZI channel.

Pyramid layers stored inside a CZI are not offered as resolution levels: a large
image gets a pyramid built by pixelvault instead, the same as any other format's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixelvault.errors import CorruptFileError, UnsupportedFormatError
from pixelvault.formats.base import Channel, Metadata, Series, check_region
from pixelvault.formats.decoding import czi_subblocks
from pixelvault.formats.decoding.limits import Piece
from pixelvault.formats.members import Members
from pixelvault.formats.xmlguard import refuse_entities

MAGIC = b"ZISRAWFILE"
_TYPES = {"Gray8": "uint8", "Gray16": "uint16", "Gray32Float": "float",
          "Gray32": "int32", "Gray64Float": "double",
          "Bgr24": "uint8", "Bgr48": "uint16", "Bgr96Float": "float"}
_COLOURS = ((-16776961, "R"), (16711935, "G"), (65535, "B"))  # RGBA red, green, blue


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


class CziReader:
    format_name: ClassVar[str] = "Zeiss CZI"
    version: ClassVar[str] = "1"

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int:
        if head.startswith(MAGIC):
            return 2
        return 1 if path.name.lower().endswith(".czi") else 0

    def __init__(self, path: Path, members: Members | None = None) -> None:
        from pylibCZIrw import czi as pyczi

        self.path = (members or Members.beside(path)).check(path)  # a CZI names no other file
        try:
            self._czi = pyczi.CziReader(str(path))
            try:
                refuse_entities(self._czi.raw_metadata or "", path.name, "CZI metadata")
            except CorruptFileError:
                self._czi.close()
                raise
            self._box = self._czi.total_bounding_box
            scenes = self._czi.scenes_bounding_rectangle
            types = set(self._czi.pixel_types.values())
        except (RuntimeError, OSError, ValueError, KeyError) as exc:
            raise CorruptFileError(f"{path.name}: not a readable CZI file ({exc})") from None
        unknown = types - set(_TYPES)
        if unknown:
            self._czi.close()
            raise UnsupportedFormatError(f"{path.name}: CZI pixel type {sorted(unknown)[0]} "
                                         f"(pixelvault reads {', '.join(_TYPES)})")
        if len(types) != 1:
            self._czi.close()
            raise UnsupportedFormatError(f"{path.name}: channels of different pixel types "
                                         f"({', '.join(sorted(types))}); export the channels "
                                         "as separate files")
        self._czi_type = types.pop()
        self._type = _TYPES[self._czi_type]
        self._samples = 3 if self._czi_type.startswith("Bgr") else 1
        rect = self._czi.total_bounding_rectangle
        self._scenes: list[tuple[int | None, Any]] = (
            [(index, scenes[index]) for index in sorted(scenes)] if scenes else [(None, rect)])
        self._metadata: Metadata | None = None
        self._pieces: list[Piece] | None = None

    def pieces(self, series: int) -> list[Piece]:
        """The file's largest subblock decodes (libCZI decodes one subblock at a time),
        zstd frames counted at the size they say they hold (see decoding.czi_subblocks)."""
        if self._pieces is None:
            self._pieces = czi_subblocks.pieces(self.path)
        return self._pieces

    def used_files(self) -> list[Path]:
        return [self.path]

    def _size(self, axis: str) -> int:
        start, end = self._box.get(axis, (0, 1))
        return max(int(end) - int(start), 1)

    def metadata(self) -> Metadata:
        if self._metadata is None:
            try:
                document = self._czi.metadata.get("ImageDocument", {}).get("Metadata", {})
            except (RuntimeError, ValueError, AttributeError):
                document = {}
            scaling = {item.get("@Id"): item.get("Value") for item in _list(
                (document.get("Scaling") or {}).get("Items", {}).get("Distance"))}

            def micrometres(axis: str) -> float | None:
                try:
                    return float(scaling[axis]) * 1e6 if scaling.get(axis) else None
                except (TypeError, ValueError):
                    return None

            channels_md = _list(((document.get("Information") or {}).get("Image") or {})
                                .get("Dimensions", {}).get("Channels", {}).get("Channel"))
            size_c = self._size("C")
            named = [str(c.get("@Name", "")) for c in channels_md[:size_c]]
            named += [""] * (size_c - len(named))
            if self._samples == 3:
                channels = [Channel(name=f"{name} {part}".strip(), color=colour)
                            for name in named for colour, part in _COLOURS]
            else:
                channels = [Channel(name=name) for name in named]
            bits = np.dtype({"uint8": np.uint8, "uint16": np.uint16, "float": np.float32,
                             "int32": np.int32, "double": np.float64}[self._type]).itemsize * 8
            series = [Series(
                index=index, name=f"{self.path.name} #{scene}" if scene is not None
                else self.path.name,
                size_x=int(rect.w), size_y=int(rect.h), size_z=self._size("Z"),
                size_c=len(channels),
                size_t=self._size("T"), pixel_type=self._type, significant_bits=bits,
                levels=((int(rect.w), int(rect.h)),), channels=tuple(channels),
                physical_size_x=micrometres("X"), physical_size_y=micrometres("Y"),
                physical_size_z=micrometres("Z"))
                for index, (scene, rect) in enumerate(self._scenes)]
            self._metadata = Metadata(series=series, original={
                "CZI pixel type": next(iter(self._czi.pixel_types.values()), ""),
                "CZI scenes": str(len(self._scenes))})
        return self._metadata

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        described = self.metadata().series[series]
        check_region(described, level, z, c, t, x, y, width, height)
        scene, rect = self._scenes[series]
        channel, sample = divmod(c, self._samples)
        plane = {"Z": self._box.get("Z", (0, 1))[0] + z,
                 "C": self._box.get("C", (0, 1))[0] + channel,
                 "T": self._box.get("T", (0, 1))[0] + t}
        try:
            region = self._czi.read(roi=(int(rect.x) + x, int(rect.y) + y, width, height),
                                    plane=plane, scene=scene)
        except (RuntimeError, ValueError, OSError) as exc:
            raise CorruptFileError(f"{self.path.name}: pixels cannot be decoded ({exc}); "
                                   "the file is truncated or damaged") from None
        # colour planes come as B, G, R samples
        index = self._samples - 1 - sample
        return np.ascontiguousarray(region[:, :, index], dtype=described.dtype)

    def close(self) -> None:
        self._czi.close()
