"""Nikon ND2 files written from their published container layout, for the reader tests.

No library on PyPI writes ND2, so the tests write it themselves: the file
signature chunk, one chunk per frame (``ImageDataSeq|N!``, pixel data 4096
bytes after the chunk's start, behind an 8-byte acquisition time), the
metadata chunks as CLx variant XML (as NIS-Elements 4 writes them), and the
chunk map at the end of the file. The ``nd2`` package reads them as it reads
the microscope's files.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

MAGIC = 0x0ABECEDA
FILE_SIGNATURE = b"ND2 FILE SIGNATURE CHUNK NAME01!"
FILEMAP_SIGNATURE = b"ND2 FILEMAP SIGNATURE NAME 0001!"
CHUNKMAP_SIGNATURE = b"ND2 CHUNK MAP SIGNATURE 0000001!"
FRAME_NAME_LENGTH = 4072  # 16 + 4072 + 8 = 4096: where a frame's pixels start


def _variant(name: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_variant(k, v) for k, v in value.items())
        return f'<{name} runtype="CLxListVariant">{inner}</{name}>'
    if isinstance(value, bool):
        kind, text = "bool", "true" if value else "false"
    elif isinstance(value, int):
        kind, text = "lx_uint32", str(value)
    elif isinstance(value, float):
        kind, text = "double", repr(value)
    else:
        kind, text = "CLxStringW", str(value)
    return f'<{name} runtype="{kind}" value={quoteattr(text)}/>'


def _xml(root: str, fields: dict[str, Any]) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><variant version="1.0">'
            f"{_variant(root, fields)}</variant>").encode()


class _Chunks:
    def __init__(self, header: bytes) -> None:
        self.body = bytearray(header)
        self.map: list[tuple[bytes, int, int]] = []

    def add(self, name: bytes, data: bytes, name_length: int | None = None) -> None:
        length = name_length if name_length is not None else len(name) + 4
        offset = len(self.body)
        self.body += struct.pack("<IIQ", MAGIC, length, len(data))
        self.body += name.ljust(length, b"\x00") + data
        self.map.append((name, offset, len(data)))

    def finish(self) -> bytes:
        location = len(self.body)
        entries = b"".join(name + struct.pack("<QQ", offset, size)
                           for name, offset, size in self.map)
        data = entries + CHUNKMAP_SIGNATURE + struct.pack("<Q", location)
        self.body += struct.pack("<IIQ", MAGIC, len(FILEMAP_SIGNATURE), len(data))
        self.body += FILEMAP_SIGNATURE + data
        return bytes(self.body)


def write_nd2(path: Path, data: np.ndarray[Any, Any], *, channels: list[str],
              positions: int = 1, calibration: float = 0.5, z_step: float = 1.0,
              period_ms: float = 0.0, compressed: bool = False,
              description: str = "", stream: bytes | None = None,
              attributes_chunk: bytes | None = None,
              declared: tuple[int, int] | None = None,
              loops: tuple[int, int] | None = None) -> None:
    """``data`` is [p, t, z, c, y, x]; frames go P outermost, then T, then Z, as
    NIS-Elements nests its loops (XY positions, time, Z). Crafted files: ``stream``
    is every lossless frame's zlib stream instead of its pixels' own, and
    ``attributes_chunk`` the ImageAttributesLV! chunk instead of the one written, and
    ``declared`` the (width, height) the attributes claim instead of the data's, and
    ``loops`` the (time, Z) counts the experiment claims."""
    size_p, size_t, size_z, size_c, size_y, size_x = data.shape
    assert size_p == positions and len(channels) == size_c
    header = struct.pack("<IIQ", MAGIC, len(FILE_SIGNATURE), 64) + FILE_SIGNATURE + \
        b"Ver3.0".ljust(64, b"\x00")
    chunks = _Chunks(header)
    itemsize = data.dtype.itemsize
    frames = 0
    for p in range(size_p):
        for t in range(size_t):
            for z in range(size_z):
                frame = np.ascontiguousarray(np.moveaxis(data[p, t, z], 0, -1))  # y x c
                pixels = frame.astype(frame.dtype.newbyteorder("<")).tobytes()
                stamp = struct.pack("<d", float(frames) * max(period_ms, 1.0))
                packed = stream if stream is not None else zlib.compress(pixels)
                payload = stamp + (packed if compressed else pixels)
                chunks.add(f"ImageDataSeq|{frames}!".encode(), payload,
                           FRAME_NAME_LENGTH)
                frames += 1
    size_x, size_y = declared or (size_x, size_y)
    attributes = {"uiWidth": size_x, "uiWidthBytes": size_x * size_c * itemsize,
                  "uiHeight": size_y, "uiComp": size_c, "uiBpcInMemory": itemsize * 8,
                  "uiBpcSignificant": itemsize * 8, "uiSequenceCount": frames,
                  "uiTileWidth": size_x, "uiTileHeight": size_y,
                  "eCompression": 0 if compressed else 2, "dCompressionParam": 0.0}
    times = np.arange(frames, dtype="<f8") * max(period_ms, 1.0)
    chunks.add(b"CustomData|AcqTimesCache!", times.tobytes())
    chunks.add(b"ImageAttributesLV!", attributes_chunk if attributes_chunk is not None
               else _xml("SLxImageAttributes", attributes))
    planes = {f"a{c}": {"sDescription": name, "uiCompCount": 1, "uiSampleIndex": c,
                        "uiColor": [0xFF0000, 0x00FF00, 0x0000FF][c % 3],
                        "pFluorescentProbe": {"m_EmissionSpectrum": {
                            "uiCount": 1, "pPoint": {"Point0": {
                                "dWavelength": 450.0 + 100.0 * c, "dTValue": 1.0,
                                "eType": 1}}}}}
              for c, name in enumerate(channels)}
    picture = {"dCalibration": calibration, "bCalibrated": True, "dObjectiveMag": 60.0,
               "dObjectiveNA": 1.4, "wsObjectiveName": "Plan Apo 60x",
               "dTimeAbsolute": 2460000.5,
               "sPicturePlanes": {"uiCount": size_c, "uiCompCount": size_c,
                                  "sPlaneNew": planes}}
    chunks.add(b"ImageMetadataSeqLV|0!", _xml("SLxPictureMetadata", picture))
    size_t, size_z = loops or (size_t, size_z)
    experiment_loops: list[dict[str, Any]] = []
    if positions > 1:
        points = {f"i{p:010}": {"dPosX": 100.0 * p, "dPosY": 0.0, "dPosZ": 0.0,
                                "dPosName": f"point {p + 1}"} for p in range(positions)}
        experiment_loops.append({"eType": 2, "uLoopPars": {"uiCount": positions,
                                                           "Points": points}})
    if size_t > 1:
        experiment_loops.append({"eType": 1, "uLoopPars": {
            "uiCount": size_t, "dStart": 0.0, "dPeriod": period_ms,
            "dDuration": period_ms * size_t}})
    if size_z > 1:
        experiment_loops.append({"eType": 4, "uLoopPars": {
            "uiCount": size_z, "dZLow": 0.0, "dZHigh": z_step * (size_z - 1),
            "dZStep": z_step, "iType": 0}})
    if experiment_loops:
        experiment: dict[str, Any] = experiment_loops[-1]
        for outer in reversed(experiment_loops[:-1]):
            experiment = {**outer, "ppNextLevelEx": {"i0000000000": experiment}}
        chunks.add(b"ImageMetadataLV!", _xml("SLxExperiment", experiment))
    if description:
        chunks.add(b"ImageTextInfoLV!", _xml("SLxImageTextInfo", {
            "TextInfoItem_5": description, "TextInfoItem_9": "24/11/2026  14:05:07",
            "TextInfoItem_14": "NIS-Elements 5.42"}))
    path.write_bytes(chunks.finish())


def deflate(head: bytes, zeros: int) -> bytes:
    """A zlib stream of ``head`` and then ``zeros`` zero bytes, made without holding
    them."""
    packer = zlib.compressobj(9)
    parts = [packer.compress(head)]
    block = bytes(16 << 20)
    for start in range(0, zeros, len(block)):
        parts.append(packer.compress(block[:min(len(block), zeros - start)]))
    parts.append(packer.flush())
    return b"".join(parts)


def lite_compressed(stream: bytes) -> bytes:
    """A metadata chunk in the binary CLx "lite" variant that is one compressed item
    (type 76, no name, 10 bytes nd2 skips), holding the zlib ``stream``."""
    return bytes([76, 0]) + bytes(10) + stream


def nested_lite_bomb(levels: int, padding: int) -> bytes:
    """A lite-variant chunk of ``levels`` compressed items each inside the one before,
    each inflating to ``padding`` zero bytes besides the next: no one stream inflates
    past ``padding`` bytes, all of them together to ``levels`` times that."""
    stream = deflate(b"", padding)
    for _ in range(levels - 1):
        stream = deflate(lite_compressed(stream), padding)
    return lite_compressed(stream)


def claim_chunk_bytes(path: Path, name: bytes, data_length: int) -> None:
    """Rewrite the header of chunk ``name`` in an ND2 file to claim ``data_length``
    bytes of data (the chunk map is left as it was)."""
    body = bytearray(path.read_bytes())
    at = body.index(name) - 16  # magic, name length, data length, then the name
    body[at + 8:at + 16] = struct.pack("<Q", data_length)
    path.write_bytes(bytes(body))
