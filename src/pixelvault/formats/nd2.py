"""Nikon ND2 through the ``nd2`` package: each XY position is a series (as Bio-Formats
does), the Z stack and time loop its planes, and the channels (RGB components
included) its channels.

A frame holds every channel of one (position, time, z); it is read from the
file's memory map, so a region costs no more than the rows it touches for
uncompressed files; lossless (zlib) frames are decompressed whole, here rather than
by ``nd2``, never past the size the file's attributes declare (see decoding.nd2_chunks).
"""

from __future__ import annotations

import contextlib
import math
import struct
import warnings
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixelvault.errors import CorruptFileError
from pixelvault.formats.base import Channel, Metadata, Series, check_region, pixel_type_of
from pixelvault.formats.decoding import nd2_chunks
from pixelvault.formats.decoding.limits import Piece
from pixelvault.formats.members import Members

MAGIC = b"\xda\xce\xbe\x0a"  # the chunk magic that starts every ND2 file since NIS 4
LEGACY_MAGIC = b"\x00\x00\x00\x0cjP  "  # older ND2 files are JPEG 2000 containers
_FRAME_AXES = ("C", "Y", "X", "S")
_JULIAN_UNIX_EPOCH = 2440587.5
_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError,
           NotImplementedError, EOFError, struct.error, zlib.error)


def _colour(channel: Any) -> int | None:
    colour = getattr(channel.channel, "color", None)
    if colour is None:
        return None
    rgba = (int(colour.r) << 24) | (int(colour.g) << 16) | (int(colour.b) << 8) | 0xFF
    return rgba - (1 << 32) if rgba >= 1 << 31 else rgba


def _wavelength(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and math.isfinite(number) else None


class Nd2Reader:
    format_name: ClassVar[str] = "Nikon ND2"
    version: ClassVar[str] = "1"

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int:
        named = path.name.lower().endswith(".nd2")
        if head.startswith(MAGIC) or (named and head.startswith(LEGACY_MAGIC)):
            return 2
        return 1 if named else 0

    def __init__(self, path: Path, members: Members | None = None) -> None:
        import nd2

        self.path = (members or Members.beside(path)).check(path)  # an ND2 names no other file
        nd2_chunks.install()
        try:
            nd2_chunks.check_chunk_map(path)
            self._file = nd2.ND2File(str(path))
            self._modern = self._file.version >= (2, 0)
            if self._modern:
                nd2_chunks.guard_reader(self._file._rdr, path)
            sizes = dict(self._file.sizes)
            self._dtype = np.dtype(self._file.dtype)
            self._coords = [axis for axis in sizes if axis not in _FRAME_AXES]
            self._shape = [sizes[axis] for axis in self._coords]
            attributes = self._file.attributes
            self._size_x, self._size_y = int(attributes.widthPx or 0), int(attributes.heightPx)
            self._components = int(self._file.components_per_channel)
            self._channels = int(attributes.channelCount or 1) if self._components > 1 \
                else int(attributes.componentCount)
            self._lossless = attributes.compressionType == "lossless"
            self._frame_bytes, self._strides = self._frame_layout(attributes)
        except CorruptFileError:
            self._close_quietly()
            raise
        except _ERRORS as exc:
            self._close_quietly()
            raise CorruptFileError(f"{path.name}: not a readable ND2 file ({exc})") from None
        unknown = [axis for axis in self._coords if axis not in ("P", "T", "Z")]
        if unknown:
            self._close_quietly()
            raise CorruptFileError(f"{path.name}: ND2 loops {', '.join(unknown)} are not "
                                   "read (only XY positions, time and Z)")
        self.pixel_type = pixel_type_of(self._dtype, path.name)
        self._metadata: Metadata | None = None

    def _frame_layout(self, attributes: Any) -> tuple[int, tuple[int, ...] | None]:
        """The bytes one frame declares (rows of ``widthBytes`` when they are padded) and
        its strides, as ``nd2`` lays a frame out."""
        itemsize = int(attributes.bitsPerComponentInMemory) // 8
        components = int(attributes.componentCount)
        row = int(attributes.widthPx or 0) * components * itemsize
        padded = int(attributes.widthBytes or 0)
        if row and padded and padded != row:
            return int(attributes.heightPx) * padded, (padded, components * itemsize,
                                                       itemsize, itemsize)
        return int(attributes.heightPx) * row, None

    def pieces(self, series: int) -> list[Piece]:
        """A frame (every channel of one position, time and Z) is decoded whole."""
        return [Piece(self._frame_bytes, self._lossless or not self._modern)]

    def _close_quietly(self) -> None:
        file = getattr(self, "_file", None)
        if file is not None:
            with contextlib.suppress(*_ERRORS):
                file.close()

    def used_files(self) -> list[Path]:
        return [self.path]

    def _size(self, axis: str) -> int:
        return self._shape[self._coords.index(axis)] if axis in self._coords else 1

    def _channel_list(self) -> list[Channel]:
        try:
            described = list(self._file.metadata.channels or [])
        except _ERRORS:
            described = []
        channels: list[Channel] = []
        for index in range(self._channels):
            if index < len(described):
                item = described[index]
                base = Channel(name=str(item.channel.name or ""),
                               emission_wavelength=_wavelength(item.channel.emissionLambdaNm),
                               excitation_wavelength=_wavelength(
                                   item.channel.excitationLambdaNm),
                               color=_colour(item))
            else:
                base = Channel()
            if self._components > 1:  # RGB: each component is a channel of its own
                channels += [Channel(name=f"{base.name} {part}".strip(), color=colour)
                             for part, colour in (("R", -16776961), ("G", 16711935),
                                                  ("B", 65535))[:self._components]]
            else:
                channels.append(base)
        return channels

    def _acquired(self) -> datetime | None:
        """The first frame's time, as nd2's ``frame_metadata(0)`` gives it, without that
        call: it lists the loop indices of every frame the experiment declares."""
        try:
            reader: Any = self._file._rdr  # nd2's ModernReader; a legacy one fails here
            with warnings.catch_warnings():  # nd2 warns, rather than fails, on odd files
                warnings.simplefilter("ignore")
                times = reader._cached_frame_times()
            day = float(reader._cached_global_metadata()["time"]["absoluteJulianDayNumber"]) \
                + float(times[0]) / 86_400_000
        except _ERRORS:
            return None
        if not day > _JULIAN_UNIX_EPOCH:
            return None
        try:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day - _JULIAN_UNIX_EPOCH)
        except OverflowError:
            return None

    def metadata(self) -> Metadata:
        if self._metadata is None:
            try:
                voxel = self._file.voxel_size()
                loops = {loop.type: loop for loop in self._file.experiment}
                text = dict(self._file.text_info or {})
                points = getattr(getattr(loops.get("XYPosLoop"), "parameters", None),
                                 "points", [])
                names = [p.name or "" for p in points]
                period = loops.get("TimeLoop") or loops.get("NETimeLoop")
                increment = None
                if period is not None:
                    periods = getattr(period.parameters, "periodMs", None)
                    increment = float(periods) / 1000 if periods else None
            except _ERRORS as exc:
                raise CorruptFileError(f"{self.path.name}: ND2 metadata cannot be read "
                                       f"({exc})") from None
            channels = tuple(self._channel_list())
            acquired = self._acquired()
            size_p = self._size("P")
            series = [Series(
                index=p,
                name=(names[p] if p < len(names) and names[p] else f"position {p + 1}")
                if size_p > 1 else self.path.name,
                size_x=self._size_x, size_y=self._size_y, size_z=self._size("Z"),
                size_c=len(channels), size_t=self._size("T"), pixel_type=self.pixel_type,
                significant_bits=int(self._file.attributes.bitsPerComponentSignificant),
                levels=((self._size_x, self._size_y),), channels=channels,
                physical_size_x=float(voxel.x) or None, physical_size_y=float(voxel.y) or None,
                physical_size_z=float(voxel.z) if "Z" in self._coords else None,
                time_increment=increment, acquisition_date=acquired,
                description=str(text.get("description", ""))[:4096])
                for p in range(size_p)]
            original = {f"ND2 {key}": str(value) for key, value in text.items()}
            original["ND2 loops"] = ", ".join(f"{a}={n}" for a, n in
                                              zip(self._coords, self._shape, strict=True))
            original["ND2 version"] = ".".join(str(v) for v in self._file.version)
            self._metadata = Metadata(series=series, original=original)
        return self._metadata

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        described = self.metadata().series[series]
        check_region(described, level, z, c, t, x, y, width, height)
        coords = {"P": series, "T": t, "Z": z}
        index = int(np.ravel_multi_index([coords[a] for a in self._coords], self._shape)) \
            if self._coords else 0
        channel, component = divmod(c, self._components)
        try:
            frame = self._frame(index)
        except _ERRORS as exc:
            raise CorruptFileError(f"{self.path.name}: frame {index} cannot be read ({exc}); "
                                   "the file is truncated or damaged") from None
        region = frame[channel, y:y + height, x:x + width, component]
        return np.array(region, dtype=described.dtype)

    def _frame(self, index: int) -> np.ndarray[Any, Any]:
        """Frame ``index`` as (channels, height, width, components), views, no copy; a
        lossless one is inflated here, bounded, from its chunk (nd2's own
        ``_read_compressed_frame`` inflates whatever the stream holds)."""
        name = f"ImageDataSeq|{index}!".encode()
        reader: Any = self._file._rdr
        if not (self._modern and self._lossless and name in reader.chunkmap):
            frame = self._file.read_frame(index)  # memory-mapped, or a missing frame's zeros
            # nd2 squeezes the frame's axes of size 1; put them back
            for axis, size in enumerate((self._channels, self._size_y, self._size_x,
                                         self._components)):
                if size == 1:
                    frame = np.expand_dims(frame, axis)
            return frame
        data = nd2_chunks.inflate_frame(reader._load_chunk(name)[8:], self._frame_bytes,
                                        f"{self.path.name}: frame {index}")
        shape = (self._size_y, self._size_x or 1, self._channels, self._components)
        frame = np.ndarray(shape=shape, dtype=self._dtype.newbyteorder("<"), buffer=data,
                           strides=self._strides)
        return frame.transpose((2, 0, 1, 3))

    def close(self) -> None:
        self._close_quietly()
