"""Crafted CZI files: written by pylibCZIrw, then a subblock's zstd stream replaced."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def zstd_rle_frame(size: int) -> bytes:
    """A zstd frame of ``size`` zero bytes as RLE blocks: 4 bytes per 128 KiB."""
    frame = struct.pack("<IB", 0xFD2FB528, 0xE0) + struct.pack("<Q", size)
    block = 128 << 10
    for start in range(0, size, block):
        length = min(block, size - start)
        last = int(start + block >= size)
        header = last | (1 << 1) | (length << 3)
        frame += struct.pack("<I", header)[:3] + b"\0"
    return frame


def zstd_czi(path: Path, side: int = 1024) -> Path:
    """A one-subblock uint16 CZI of ``side`` x ``side`` noise, zstd0-compressed (so its
    stream is about as long as its pixels)."""
    from pylibCZIrw import czi as pyczi

    noise = np.random.default_rng(7).integers(0, 1 << 16, (side, side), dtype=np.uint16)
    with pyczi.create_czi(str(path), exist_ok=True, compression_options="zstd0:") as writer:
        writer.write(noise, plane={"C": 0, "Z": 0, "T": 0})
    return path


def replace_stream(path: Path, frame: bytes) -> Path:
    """Put ``frame`` in place of the first subblock's zstd stream, padded to the same
    length with a skippable frame (the subblock keeps its declared size)."""
    body = bytearray(path.read_bytes())
    segment = body.index(b"ZISRAWSUBBLOCK")
    (length,) = struct.unpack_from("<q", body, segment + 32 + 8)
    at = body.index(_ZSTD_MAGIC, segment)
    padding = length - len(frame) - 8
    assert padding >= 0, "the stream replaced is too short"
    body[at:at + length] = frame + struct.pack("<II", 0x184D2A50, padding) + bytes(padding)
    path.write_bytes(bytes(body))
    return path


def claim_data_bytes(path: Path, data_size: int) -> Path:
    """Rewrite the first subblock's DataSize to ``data_size``."""
    body = bytearray(path.read_bytes())
    segment = body.index(b"ZISRAWSUBBLOCK")
    struct.pack_into("<q", body, segment + 32 + 8, data_size)
    path.write_bytes(bytes(body))
    return path


def jxr_czi(path: Path, side: int, encoded: int) -> Path:
    """A ``side`` x ``side`` uint16 CZI whose one subblock is JPEG XR (pylibCZIrw writes
    no JPEG XR: a zstd file's stream is replaced, its compression rewritten) holding an
    ``encoded`` x ``encoded`` image of zeros."""
    import imagecodecs

    stream = imagecodecs.jpegxr_encode(np.zeros((encoded, encoded), np.uint16), level=1.0)
    body = bytearray(zstd_czi(path, side).read_bytes())
    segment = body.index(b"ZISRAWSUBBLOCK")
    (length,) = struct.unpack_from("<q", body, segment + 32 + 8)
    at = body.index(_ZSTD_MAGIC, segment)
    assert len(stream) <= length, "the stream replaced is too short"
    body[at:at + length] = stream + bytes(length - len(stream))
    (directory,) = struct.unpack_from("<q", body, 84)
    for entry in (segment + 32 + 16, directory + 32 + 128):  # the subblock's, the directory's
        struct.pack_into("<i", body, entry + 18, 4)  # compression: JPEG XR
    path.write_bytes(bytes(body))
    return path
