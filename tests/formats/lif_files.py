"""Leica LIF files written from their published container layout, for the reader tests.

No library on PyPI writes LIF, so the tests write it themselves, as LAS X
does (version 2): a header block holding the UTF-16 XML description of every
image, then one memory block per image with its pixels, X fastest, then Y,
then the channels, then Z and T (``BytesInc`` in the XML says where each
dimension steps). ``liffile`` reads them as it reads the microscope's files.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

LUTS = ("Blue", "Green", "Red", "Gray")


def _dimension(dim_id: int, count: int, length: float, unit: str, step: int) -> str:
    return (f'<DimensionDescription DimID="{dim_id}" NumberOfElements="{count}" '
            f'Origin="0" Length="{length!r}" Unit="{unit}" BitInc="0" '
            f'BytesInc="{step}"/>')


def _image_xml(name: str, data: np.ndarray[Any, Any], block: str, channels: list[str],
               pixel_size_um: float, z_step_um: float, frame_interval_s: float,
               rgb: bool, line_scan: bool = False) -> str:
    size_t, size_c, size_z, size_y, size_x = data.shape
    item = data.dtype.itemsize
    kind = 1 if data.dtype.kind == "f" else 0
    plane = size_x * size_y * item * (size_c if rgb else 1)
    # RGB: the three samples of a pixel side by side, blue first (tags 3, 2, 1)
    described = "".join(
        f'<ChannelDescription DataType="{kind}" ChannelTag="{3 - c if rgb else 0}" '
        f'Resolution="{item * 8}" NameOfMeasuredQuantity="" Min="0" Max="0" Unit="" '
        f'LUTName="{LUTS[2 - c if rgb else c % 4]}" IsLUTInverted="0" '
        f'BytesInc="{c * item if rgb else c * plane}" BitInc="0"/>' for c in range(size_c))
    pixel = item * (size_c if rgb else 1)
    dims = [_dimension(1, size_x, pixel_size_um * 1e-6 * (size_x - 1), "m", pixel)]
    if not line_scan:  # a line scan has no Y dimension at all: X, then Z and/or T
        dims.append(_dimension(2, size_y, pixel_size_um * 1e-6 * (size_y - 1), "m",
                               size_x * pixel))
    if rgb:
        size_c = 1  # the samples are inside the plane
    if size_z > 1:
        dims.append(_dimension(3, size_z, z_step_um * 1e-6 * (size_z - 1), "m",
                               plane * size_c))
    if size_t > 1:
        dims.append(_dimension(4, size_t, frame_interval_s * (size_t - 1), "s",
                               plane * size_c * size_z))
    settings = "".join(
        f'<WideFieldChannelInfo UserDefName={quoteattr(label)} '
        f'EmissionWavelength="{500 + 50 * c}" ExcitationWavelength="{450 + 50 * c}"/>'
        for c, label in enumerate(channels))
    return (f'<Element Name={quoteattr(name)} Visibility="1" CopyOption="1" '
            f'UniqueID="{block}-0000-4000-8000-000000000000"><Data><Image TextDescription="">'
            f"<ImageDescription><Channels>{described}</Channels><Dimensions>"
            f'{"".join(dims)}</Dimensions></ImageDescription>'
            f'<Attachment Name="WideFieldChannelConfigurator">{settings}</Attachment>'
            f'</Image></Data><Memory Size="{data.nbytes}" MemoryBlockID="{block}"/>'
            f"<Children/></Element>")


def _block(identifier: str, payload: bytes) -> bytes:
    name = identifier.encode("utf-16-le")
    return struct.pack("<IIBQBI", 0x70, 0, 0x2A, len(payload), 0x2A,
                       len(identifier)) + name + payload


def write_lif(path: Path, images: list[np.ndarray[Any, Any]], *,
              channels: list[list[str]], pixel_size_um: float = 0.25,
              z_step_um: float = 1.0, frame_interval_s: float = 2.0,
              names: list[str] | None = None, rgb: bool = False,
              line_scan: bool = False) -> None:
    """Each image is [t, c, z, y, x]; each becomes one series of the file. With ``rgb``,
    each image's three channels are stored as Leica stores colour: BGR samples. With
    ``line_scan`` (images of one row, y = 1), the XML describes no Y dimension, as LAS X
    writes X-Z, X-T and X-Z-T line scans."""
    names = names or [f"Series{i + 1:03d}" for i in range(len(images))]
    elements = "".join(
        _image_xml(names[i], image, f"MemBlock_{i + 1}", channels[i], pixel_size_um,
                   z_step_um, frame_interval_s, rgb, line_scan)
        for i, image in enumerate(images))
    xml = ('<LMSDataContainerHeader Version="2"><Element Name="experiment" '
           'Visibility="1" CopyOption="1" UniqueID="00000000-0000-4000-8000-000000000000">'
           '<Data><Experiment IsSavingDone="1"/></Data>'
           '<Memory Size="0" MemoryBlockID="MemBlock_0"/>'
           f"<Children>{elements}</Children></Element></LMSDataContainerHeader>")
    text = xml.encode("utf-16-le")
    out = struct.pack("<IIBI", 0x70, len(text) + 5, 0x2A, len(xml)) + text
    out += _block("MemBlock_0", b"")
    if line_scan and any(image.shape[3] != 1 for image in images):
        raise ValueError("a line scan's images are one row high: [t, c, z, 1, x]")
    for i, image in enumerate(images):
        # X fastest, then Y, then C, then Z, then T: the array's [t, z, c, y, x].
        stored = np.ascontiguousarray(
            image[:, ::-1].transpose(0, 2, 3, 4, 1) if rgb  # t z y x (b g r)
            else image.transpose(0, 2, 1, 3, 4))
        out += _block(f"MemBlock_{i + 1}", stored.astype(stored.dtype.newbyteorder("<"))
                      .tobytes())
    path.write_bytes(out)
