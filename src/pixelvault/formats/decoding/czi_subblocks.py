"""What decoding a CZI's subblocks may cost, read from the file before libCZI decodes any.

libCZI (inside pylibCZIrw) decodes one subblock at a time, into a bitmap of the size
the subblock declares. But for zstd it follows Zeiss's "resolution protocol": when the
zstd frame says it holds more than the subblock declares, libCZI allocates what the
*frame* says (up to 2^64 bytes), inflates all of it, and keeps the declared part. A
zstd frame of run-length blocks holds 128 KiB in 4 bytes, so a small subblock can ask
for gigabytes. So each subblock is measured here, from the subblock directory and
the first bytes of its data: the larger of its declared size and, for zstd, its
frame's content size, is a piece for :class:`~pixelvault.formats.decoding.limits.Limits`.

Layout (ZISRAW, as libCZI's CziParse reads it): the file header segment gives the
directory's position; each directory entry ("DV") gives a subblock's pixel type,
position, compression and dimensions (X and Y with their stored size); a subblock
segment's data starts after its fixed part (at least 256 bytes) and its metadata.

JPEG XR is decoded the same way: libCZI decodes the codestream at the size it
declares and then crops or pads it to the subblock's, so a 400 KB codestream in a
512x512 subblock decodes to 512 MiB. Its width and height (the container's tags and
the codestream's header, the larger) count like a zstd frame's content size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pixelvault.errors import CorruptFileError
from pixelvault.formats.decoding.headers import jxr_size
from pixelvault.formats.decoding.limits import Piece

_SEGMENT = struct.Struct("<16sqq")  # id, allocated size, used size
_ENTRY = struct.Struct("<2siqiiB5si")  # schema, pixel type, position, part, compression,
#                                       pyramid type, spare, dimension count
_DIMENSION = struct.Struct("<4siifi")  # name, start, size, start coordinate, stored size
_DIRECTORY_AT = _SEGMENT.size + 52  # the file header's DirectoryPosition
# bytes per pixel of each CZI pixel type; an unknown one counts as the widest
_BYTES = {0: 1, 1: 2, 2: 4, 3: 3, 4: 6, 8: 12, 9: 4, 10: 16, 11: 48, 12: 4, 13: 8}
_WIDEST = 48
JPGXR, ZSTD0, ZSTD1 = 4, 5, 6
_ZSTD_MAGIC = 0xFD2FB528


@dataclass(frozen=True)
class Subblock:
    position: int  # of its segment
    pixels: int  # of the bitmap it declares (stored width x height)
    itemsize: int  # bytes per pixel of its pixel type
    compression: int

    @property
    def declared(self) -> int:
        """Bytes of the bitmap it declares."""
        return self.pixels * self.itemsize


def zstd_content_size(head: bytes) -> int | None:
    """The content size a zstd frame's header declares (None: absent or not zstd; libCZI
    then refuses the subblock itself)."""
    if len(head) < 6 or int.from_bytes(head[:4], "little") != _ZSTD_MAGIC:
        return None
    descriptor = head[4]
    single = (descriptor >> 5) & 1
    at = 5 + (0 if single else 1) + (0, 1, 2, 4)[descriptor & 3]
    width = (1 if single else 0, 2, 4, 8)[descriptor >> 6]
    if width == 0 or len(head) < at + width:
        return None
    size = int.from_bytes(head[at:at + width], "little")
    return size + 256 if width == 2 else size


def jxr_pixels(data: bytes) -> int:
    """Width x height a JPEG XR file declares, in its container's tags or its
    codestream's header, whichever is larger (0: not JPEG XR; libCZI then refuses the
    subblock itself)."""
    size = jxr_size(data)
    return 0 if size is None else size.width * size.height


def _read(handle: BinaryIO, offset: int, count: int, name: str) -> bytes:
    handle.seek(offset)
    data = handle.read(count)
    if len(data) < count:
        raise CorruptFileError(f"{name}: a CZI segment lies past the end of the file; the "
                               "file is truncated or damaged")
    return data


def _directory(handle: BinaryIO, size: int, name: str) -> list[Subblock]:
    (position,) = struct.unpack("<q", _read(handle, _DIRECTORY_AT, 8, name))
    ident, _, _ = _SEGMENT.unpack(_read(handle, position, _SEGMENT.size, name))
    if not ident.startswith(b"ZISRAWDIRECTORY"):
        raise CorruptFileError(f"{name}: the CZI subblock directory is missing")
    (count,) = struct.unpack("<i", _read(handle, position + _SEGMENT.size, 4, name))
    if count < 0 or count * _ENTRY.size > size:
        raise CorruptFileError(f"{name}: the CZI directory lists {count} subblocks, more "
                               "than the file can hold")
    handle.seek(position + _SEGMENT.size + 128)
    found = []
    for _ in range(count):
        entry = handle.read(_ENTRY.size)
        if len(entry) < _ENTRY.size:
            raise CorruptFileError(f"{name}: the CZI directory is truncated")
        schema, pixel, at, _, compression, _, _, dimensions = _ENTRY.unpack(entry)
        if schema != b"DV" or not 0 <= dimensions <= 64:
            raise CorruptFileError(f"{name}: a CZI directory entry is damaged")
        stored = {}
        for _ in range(dimensions):
            dim, _, _, _, length = _DIMENSION.unpack(handle.read(_DIMENSION.size))
            stored[dim[:1]] = max(length, 0)
        pixels = stored.get(b"X", 0) * stored.get(b"Y", 0)
        found.append(Subblock(at, pixels, _BYTES.get(pixel, _WIDEST), compression))
    return found


def _stream_size(handle: BinaryIO, block: Subblock, size: int, name: str) -> int:
    """What a zstd or JPEG XR subblock's stream says it holds (0 when it says nothing);
    and the subblock's data must lie inside the file."""
    head = _read(handle, block.position, _SEGMENT.size + 16 + _ENTRY.size, name)
    ident, _, _ = _SEGMENT.unpack_from(head)
    if not ident.startswith(b"ZISRAWSUBBLOCK"):
        raise CorruptFileError(f"{name}: a CZI subblock is not where the directory says")
    metadata, _, data = struct.unpack_from("<iiq", head, _SEGMENT.size)
    (dimensions,) = struct.unpack_from("<i", head, _SEGMENT.size + 16 + _ENTRY.size - 4)
    fixed = max(16 + _ENTRY.size + max(dimensions, 0) * _DIMENSION.size, 256)
    start = block.position + _SEGMENT.size + fixed + max(metadata, 0)
    if metadata < 0 or data < 0 or start + data > size:
        raise CorruptFileError(f"{name}: a CZI subblock claims more bytes than the file "
                               "holds; the file is truncated or damaged")
    if block.compression == JPGXR:
        # the container's tags and the codestream's header come first
        pixels = jxr_pixels(_read(handle, start, min(data, 64 << 10), name))
        return pixels * block.itemsize
    if block.compression not in (ZSTD0, ZSTD1) or data < 6:
        return 0
    head = _read(handle, start, min(data, 24), name)
    if block.compression == ZSTD1:
        head = head[1:] if head[0] == 1 else head[3:]  # its own small header first
    return zstd_content_size(head) or 0


def pieces(path: Path) -> list[Piece]:
    """The largest decode of the file's compressed and of its uncompressed subblocks."""
    size = path.stat().st_size
    largest = {True: 0, False: 0}
    try:
        with path.open("rb") as handle:
            for block in _directory(handle, size, path.name):
                decoded = max(block.declared, _stream_size(handle, block, size, path.name))
                compressed = block.compression != 0
                largest[compressed] = max(largest[compressed], decoded)
    except struct.error:
        raise CorruptFileError(f"{path.name}: the CZI subblock directory is truncated or "
                               "damaged") from None
    return [Piece(decoded, compressed) for compressed, decoded in largest.items() if decoded]
