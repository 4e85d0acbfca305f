"""PNG, JPEG, BMP and GIF, through Pillow.

These are small, single-plane images (a GIF's frames are time points), so
each frame is decoded whole once and regions are cut from it. RGB and RGBA
become three or four channels; palette images are expanded to RGB(A).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixelvault.errors import CorruptFileError, UnsupportedFormatError
from pixelvault.formats.base import Channel, Metadata, Series, check_region, pixel_type_of
from pixelvault.formats.members import Members

MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"BM": "BMP",
         b"GIF87a": "GIF", b"GIF89a": "GIF"}
SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".dib", ".gif")
# Pillow mode -> (mode to decode into, channels)
_MODES = {"1": ("1", 1), "L": ("L", 1), "RGB": ("RGB", 3),
          "RGBA": ("RGBA", 4), "LA": ("LA", 2), "I;16": ("I;16", 1), "I;16B": ("I;16", 1),
          "I": ("I", 1), "F": ("F", 1), "CMYK": ("RGB", 3), "YCbCr": ("RGB", 3),
          "PA": ("RGBA", 4), "La": ("LA", 2), "RGBa": ("RGBA", 4)}
_COLOURS = {3: (0xFF0000FF, 0x00FF00FF, 0x0000FFFF), 4: (0xFF0000FF, 0x00FF00FF, 0x0000FFFF,
                                                          0xFFFFFFFF)}


def _signed(rgba: int) -> int:
    return rgba - (1 << 32) if rgba >= 1 << 31 else rgba


class RasterReader:
    format_name: ClassVar[str] = "PNG/JPEG/BMP/GIF"
    version: ClassVar[str] = "1"

    @classmethod
    def claims(cls, path: Path, head: bytes) -> int:
        if any(head.startswith(magic) for magic in MAGIC):
            return 2
        return 1 if path.name.lower().endswith(SUFFIXES) else 0

    def __init__(self, path: Path, members: Members | None = None) -> None:
        from PIL import Image, UnidentifiedImageError

        self.path = (members or Members.beside(path)).check(path)
        try:
            self._image = Image.open(path)
            self._image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # The header alone declares more pixels than a frame decoded whole may hold
            # (a warning only where warnings are errors): refused before any is allocated.
            raise CorruptFileError(f"{path.name}: {str(exc).rstrip('.')}; if the image is "
                                   "real, convert it to a tiled OME-TIFF and import that") \
                from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise CorruptFileError(f"{path.name}: not a readable image ({exc})") from None
        mode = self._image.mode
        if mode == "P":  # a palette: expanded to its colours, with alpha if it has one
            transparent = "transparency" in self._image.info
            self._decode_mode, self._channels = ("RGBA", 4) if transparent else ("RGB", 3)
        elif mode in _MODES:
            self._decode_mode, self._channels = _MODES[mode]
        else:
            raise UnsupportedFormatError(f"{path.name}: Pillow image mode {mode} is not "
                                         "supported")
        self._frames = getattr(self._image, "n_frames", 1)
        self._cache: tuple[int, np.ndarray[Any, Any]] | None = None
        self._metadata: Metadata | None = None

    def used_files(self) -> list[Path]:
        return [self.path]

    def _frame(self, t: int) -> np.ndarray[Any, Any]:
        if self._cache is None or self._cache[0] != t:
            try:
                self._image.seek(t)
                frame = self._image.convert(self._decode_mode) \
                    if self._image.mode != self._decode_mode else self._image
                array = np.asarray(frame)
            except (OSError, ValueError, EOFError) as exc:
                raise CorruptFileError(f"{self.path.name}: frame {t} cannot be decoded "
                                       f"({exc}); the file is truncated or damaged") from None
            if array.ndim == 2:
                array = array[:, :, np.newaxis]
            self._cache = (t, array)
        return self._cache[1]

    def metadata(self) -> Metadata:
        if self._metadata is None:
            first = self._frame(0)
            what = self.path.name
            pixel_type = pixel_type_of(first.dtype, what)
            width, height = self._image.size
            colours = _COLOURS.get(self._channels, ())
            channels = tuple(Channel(name=name, color=_signed(colours[i]) if colours else None)
                             for i, name in enumerate("RGBA"[:self._channels]
                                                      if self._channels >= 3 else
                                                      [""] * self._channels))
            series = Series(
                index=0, name=self.path.name, size_x=width, size_y=height, size_z=1,
                size_c=self._channels, size_t=self._frames, pixel_type=pixel_type,
                significant_bits=1 if pixel_type == "bit" else first.dtype.itemsize * 8,
                levels=((width, height),), channels=channels)
            original = {"Format": str(self._image.format), "Mode": self._image.mode}
            for key, value in self._image.info.items():
                text = str(value)
                if isinstance(key, str) and len(text) <= 1024 and not isinstance(value, bytes):
                    original[key] = text
            self._metadata = Metadata(series=[series], original=original)
        return self._metadata

    def read(self, series: int, level: int, z: int, c: int, t: int,
             x: int, y: int, width: int, height: int) -> np.ndarray[Any, Any]:
        if series != 0:
            raise IndexError(f"series {series} outside 0..0")
        check_region(self.metadata().series[0], level, z, c, t, x, y, width, height)
        return np.ascontiguousarray(self._frame(t)[y:y + height, x:x + width, c])

    def close(self) -> None:
        self._cache = None
        self._image.close()
