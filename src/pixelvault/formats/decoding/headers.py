"""How many bytes an image codec's stream will decode to, read from its own header.

Image codecs (JPEG, PNG, WebP, JPEG 2000, JPEG XL, JPEG XR) allocate whatever
their stream's header declares, and tifffile calls them without an output
size: a 1 KB WebP tile in a TIFF that declares 16x16 tiles decodes to 48 MB.
Reading the header first lets the decode be refused before it allocates. Each
parser returns ``None`` when the header cannot be read; callers refuse such a
stream rather than decode it blind.

Where a header does not say how many channels or bytes a sample holds (JPEG XL,
JPEG XR), the largest the codec can produce is assumed (4 channels of 4 bytes).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

Stream = bytes | bytearray


@dataclass(frozen=True)
class Size:
    """What a stream declares: its frame's width and height, and the most bytes per pixel
    its decoder yields (an upper bound where the header does not say)."""

    width: int
    height: int
    per_pixel: int

    @property
    def decoded(self) -> int:
        return self.width * self.height * self.per_pixel

_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB,
                          0xCD, 0xCE, 0xCF, 0xF7})  # 0xF7: JPEG-LS
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}  # a palette may expand to RGBA
_JXL_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4),
               7: (2, 1)}
_WIDEST_SAMPLE = 16  # bytes per pixel: 4 channels of float32


def _be(data: Stream, at: int, size: int) -> int:
    return int.from_bytes(data[at:at + size], "big")


def _le(data: Stream, at: int, size: int) -> int:
    return int.from_bytes(data[at:at + size], "little")


def jpeg_size(data: Stream) -> Size | None:
    """From the frame header (SOF), the one frame a stream may hold; height 0 (set later
    by a DNL marker) is returned as 0 for the caller to bound by the tile's shape.

    Every segment up to the scan is read: a stream with two frame headers is refused
    (None), since libjpeg and the lossless decoder imagecodecs falls back to would not
    agree on which one they decode."""
    if data[:2] != b"\xff\xd8":
        return None
    at, found = 2, None
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            at += 2
            continue
        if marker in (0xDA, 0xD9):  # the scan (or the end): every header has been seen
            return found
        if marker in _SOF_MARKERS:
            if found is not None or at + 10 > len(data):
                return None
            precision, components = data[at + 4], data[at + 9]
            found = Size(_be(data, at + 7, 2), _be(data, at + 5, 2),
                         components * (2 if precision > 8 else 1))
        at += 2 + _be(data, at + 2, 2)
    return None


def png_size(data: Stream) -> Size | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 26:
        return None
    width, height, depth, colour = _be(data, 16, 4), _be(data, 20, 4), data[24], data[25]
    if colour not in _PNG_CHANNELS:
        return None
    return Size(width, height, _PNG_CHANNELS[colour] * (2 if depth > 8 else 1))


def webp_size(data: Stream) -> Size | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = _le(data, 26, 2) & 0x3FFF, _le(data, 28, 2) & 0x3FFF
    elif chunk == b"VP8L" and data[20] == 0x2F:
        bits = _le(data, 21, 4)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X":
        width, height = _le(data, 24, 3) + 1, _le(data, 27, 3) + 1
    else:
        return None
    return Size(width, height, 4)


def _boxes(data: Stream) -> dict[bytes, list[int]]:
    """ISO base media boxes at the top level: type -> (start of content, end)."""
    found: dict[bytes, list[int]] = {}
    at = 0
    while at + 8 <= len(data):
        size, kind, content = _be(data, at, 4), data[at + 4:at + 8], at + 8
        if size == 1:
            size, content = _be(data, at + 8, 8), at + 16
        elif size == 0:
            size = len(data) - at
        if size < content - at:
            return found
        found.setdefault(bytes(kind), [content, at + size])
        at += size
    return found


def j2k_size(data: Stream) -> Size | None:
    """From the SIZ segment of the codestream (inside the ``jp2c`` box of a JP2 file: a
    codestream-looking sequence in an earlier box must not be the one measured)."""
    start = 0
    if data[4:8] == b"jP  ":
        box = _boxes(data).get(b"jp2c")
        if box is None:
            return None
        start = box[0]
    if data[start:start + 4] != b"\xff\x4f\xff\x51" or len(data) < start + 42:
        return None
    siz = start + 4  # Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, four tile fields, Csiz
    width = _be(data, siz + 4, 4) - _be(data, siz + 12, 4)
    height = _be(data, siz + 8, 4) - _be(data, siz + 16, 4)
    components = _be(data, siz + 36, 2)
    if width <= 0 or height <= 0 or len(data) < siz + 38 + 3 * components:
        return None
    depth = max(((data[siz + 38 + 3 * i] & 0x7F) + 1 for i in range(components)), default=8)
    return Size(width, height, components * (1 if depth <= 8 else 2 if depth <= 16 else 4))


class _Bits:
    """JPEG XL's bit reader: least significant bit first."""

    def __init__(self, data: Stream) -> None:
        self.data, self.at = data, 0

    def read(self, count: int) -> int:
        value = 0
        for shift in range(count):
            byte = self.at >> 3
            if byte >= len(self.data):
                raise IndexError("the header ends early")
            value |= ((self.data[byte] >> (self.at & 7)) & 1) << shift
            self.at += 1
        return value

    def u32_size(self) -> int:
        return 1 + self.read((9, 13, 18, 30)[self.read(2)])


def jxl_size(data: Stream) -> Size | None:
    if data[4:12] == b"JXL \r\n\x87\n":
        boxes = _boxes(data)
        if b"jxlc" in boxes:
            data = data[boxes[b"jxlc"][0]:]
        elif b"jxlp" in boxes:
            data = data[boxes[b"jxlp"][0] + 4:]
        else:
            return None
    if data[:2] != b"\xff\x0a":
        return None
    bits = _Bits(data[2:])
    try:
        small = bits.read(1)
        height = 8 * (1 + bits.read(5)) if small else bits.u32_size()
        ratio = bits.read(3)
        if ratio:
            numerator, denominator = _JXL_RATIOS[ratio]
            width = height * numerator // denominator
        else:
            width = 8 * (1 + bits.read(5)) if small else bits.u32_size()
    except IndexError:
        return None
    return Size(width, height, _WIDEST_SAMPLE)


_JXR_WIDTH, _JXR_HEIGHT, _JXR_IMAGE = 0xBC80, 0xBC81, 0xBCC0


def jxr_size(data: Stream) -> Size | None:
    """The larger of what the container's tags and the WMPHOTO codestream declare: jxrlib
    allocates by the codestream, which the tags need not match."""
    if data[:3] != b"II\xbc" or len(data) < 10:
        return None
    ifd = _le(data, 4, 4)
    if ifd + 2 > len(data):
        return None
    tags: dict[int, int] = {}
    for index in range(min(_le(data, ifd, 2), (len(data) - ifd - 2) // 12)):
        tag, kind, _, value = struct.unpack_from("<HHII", data, ifd + 2 + 12 * index)
        tags[tag] = value & 0xFFFF if kind == 3 else value
    stream = data[tags.get(_JXR_IMAGE, len(data)):][:20]
    if not stream.startswith(b"WMPHOTO\0") or len(stream) < 20:
        return None
    short = stream[10] & 0x80
    width, height = struct.unpack_from(">HH" if short else ">II", stream, 12)
    return Size(max(width + 1, tags.get(_JXR_WIDTH, 0)),
                max(height + 1, tags.get(_JXR_HEIGHT, 0)), _WIDEST_SAMPLE)


IMAGE_HEADERS: dict[str, Callable[[Stream], Size | None]] = {
    "png": png_size, "webp": webp_size, "jpeg2k": j2k_size, "jpegxl": jxl_size,
    "jpegxr": jxr_size,
}
