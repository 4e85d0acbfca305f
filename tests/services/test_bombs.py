"""Decompression bombs and absurd declared sizes: each import refused before the work,
within seconds and a stated memory bound, naming the setting to change; the server
answers /health meanwhile.

Peak memory is measured in a child process (its own high-water mark); the bound,
MEMORY_BOUND, is what the import of a small ordinary file needs plus a margin,
far below what any of these inputs would cost if decoded (400 MB to 10^24 pixels).
"""

from __future__ import annotations

import base64
import json
import resource
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Env
from tests.formats import codec_bombs
from tests.formats.czi_files import jxr_czi, replace_stream, zstd_czi, zstd_rle_frame
from tests.formats.nd2_files import (
    claim_chunk_bytes,
    deflate,
    lite_compressed,
    nested_lite_bomb,
    write_nd2,
)

MEMORY_BOUND = 400 << 10  # KiB: 400 MiB
TIME_BOUND = 60.0  # seconds, for a refusal that must come before any decoding
# The child's address space, so that a bomb let through (on code without the bounds)
# fails the test with a MemoryError rather than exhausting the machine.
ADDRESS_SPACE = 6 << 30
# The child's own high-water mark (VmHWM, of its memory after exec): ru_maxrss would
# carry the forking test worker's peak over the exec.
_PEAK = ("import re, sys\nfrom pixelvault.cli.main import main\ntry:\n    main()\n"
         "finally:\n    status = open('/proc/self/status').read()\n"
         "    print('PEAK', re.search(r'VmHWM:\\s+(\\d+)', status)[1], file=sys.stderr)\n")


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _deflate_zeros(count: int) -> bytes:
    """zlib data of ``count`` zero bytes, made without holding them."""
    packer = zlib.compressobj(9)
    block = bytes(16 << 20)
    parts = []
    for start in range(0, count, len(block)):
        parts.append(packer.compress(block[:min(len(block), count - start)]))
    parts.append(packer.flush())
    return b"".join(parts)


def zlib_strip_tiff(path: Path, width: int = 20_000, height: int = 20_000) -> Path:
    """A baseline TIFF whose one Deflate strip decodes to width*height bytes (400 MB in
    under 1 MB of file)."""
    strip = _deflate_zeros(width * height)
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 8),
               (262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, height),
               (279, 4, 1, len(strip))]
    ifd_size = 2 + 12 * len(entries) + 4
    data_at = 8 + ifd_size
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = data_at if tag == 273 else value
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    path.write_bytes(b"II*\0" + struct.pack("<I", 8) + ifd + strip)
    return path


def ome_zarr(path: Path, shape: list[int], chunks: list[int], chunk: bytes | None) -> Path:
    """An OME-Zarr 0.5 image of ``shape`` (t, c, z, y, x), uint16, zstd-compressed chunks;
    ``chunk``: the bytes of chunk (0, 0, 0, 0, 0), the only one written."""
    path.mkdir(parents=True)
    axes = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"},
            {"name": "z", "type": "space"}, {"name": "y", "type": "space"},
            {"name": "x", "type": "space"}]
    (path / "zarr.json").write_text(json.dumps({
        "zarr_format": 3, "node_type": "group", "attributes": {"ome": {
            "version": "0.5", "multiscales": [{"axes": axes, "datasets": [{
                "path": "0", "coordinateTransformations": [
                    {"type": "scale", "scale": [1.0] * 5}]}]}]}}}))
    (path / "0").mkdir()
    (path / "0" / "zarr.json").write_text(json.dumps({
        "zarr_format": 3, "node_type": "array", "shape": shape, "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": [
            {"name": "bytes", "configuration": {"endian": "little"}},
            {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
        "dimension_names": ["t", "c", "z", "y", "x"]}))
    if chunk is not None:
        where = path / "0" / "c" / "0" / "0" / "0" / "0"
        where.mkdir(parents=True)
        (where / "0").write_bytes(chunk)
    return path


def zlib_bindata(path: Path, size_x: int, size_y: int, decoded: int) -> Path:
    """An OME-XML image whose one zlib BinData plane inflates to ``decoded`` bytes."""
    data = base64.b64encode(_deflate_zeros(decoded)).decode()
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/'
        'Schemas/OME/2016-06"><Image ID="Image:0" Name="bomb"><Pixels ID="Pixels:0" '
        f'DimensionOrder="XYZCT" Type="uint16" SizeX="{size_x}" SizeY="{size_y}" SizeZ="1" '
        'SizeC="1" SizeT="1" BigEndian="false"><Channel ID="Channel:0:0"/>'
        f'<BinData Compression="zlib" BigEndian="false" Length="{len(data)}">{data}</BinData>'
        "</Pixels></Image></OME>")
    return path


def _claiming(path: Path) -> Path:
    claim_chunk_bytes(path, b"ImageMetadataSeqLV|0!", 1 << 40)
    return path


def nd2_lossless(path: Path, size_x: int, size_y: int, stream: bytes | None = None,
                 attributes_chunk: bytes | None = None,
                 loops: tuple[int, int] | None = None) -> Path:
    """A one-frame uint16 ND2 whose lossless frame is ``stream`` (zeros of its own size
    if None), whose ImageAttributesLV! chunk is ``attributes_chunk`` if given, and
    whose experiment declares ``loops`` (time, Z) if given."""
    import numpy as np

    frame = deflate(b"", size_x * size_y * 2) if stream is None else stream
    write_nd2(path, np.zeros((1, 1, 1, 1, 1, 1), np.uint16), channels=["DAPI"],
              compressed=True, stream=frame, attributes_chunk=attributes_chunk,
              declared=(size_x, size_y), loops=loops)
    return path


BOMBS: dict[str, Callable[[Path], Path]] = {
    "TIFF, one zlib strip of 400 MB": lambda d: zlib_strip_tiff(d / "strip.tif"),
    "OME-Zarr, one zstd chunk of 900 MB in 27 KB": lambda d: ome_zarr(
        d / "chunk.ome.zarr", [1, 1, 1, 15_000, 30_000], [1, 1, 1, 15_000, 30_000],
        zstd_rle_frame(15_000 * 30_000 * 2)),
    "OME-Zarr, 10^12 x 10^12 pixels in 1x1 chunks": lambda d: ome_zarr(
        d / "huge.ome.zarr", [1, 1, 1, 10**12, 10**12], [1, 1, 1, 1, 1], None),
    "OME-XML, a zlib plane of 800 MB": lambda d: zlib_bindata(
        d / "plane.ome.xml", 20_000, 20_000, 20_000 * 20_000 * 2),
    "OME-XML, a 64x64 plane whose zlib inflates to 400 MB": lambda d: zlib_bindata(
        d / "small.ome.xml", 64, 64, 400 << 20),
    "TIFF, a 16x16 tile holding a JPEG of 400 MB": lambda d: codec_bombs.jpeg_tile(
        d / "jpeg.tif"),
    "TIFF, a 16x16 tile holding a PNG of 400 MB": lambda d: codec_bombs.png_tile(
        d / "png.tif"),
    "TIFF, a 16x16 RGB tile holding a WebP of 256 MB": lambda d: codec_bombs.webp_tile(
        d / "webp.tif"),
    "OME-Zarr, a 64x64 chunk whose zstd inflates to 900 MB": lambda d: ome_zarr(
        d / "small.ome.zarr", [1, 1, 1, 64, 64], [1, 1, 1, 64, 64],
        zstd_rle_frame(900 << 20)),
    "OME-Zarr 0.4, a 4x4 chunk whose 79 bytes of bz2 inflate to 64 MiB": lambda d: (
        codec_bombs.bz2_chunk(d / "bz2.ome.zarr")),
    "OME-Zarr 0.4, a 4x4 chunk whose Blosc header declares 256 MiB": lambda d: (
        codec_bombs.blosc_chunk(d / "blosc.ome.zarr")),
    "CZI, a 1024x1024 subblock whose zstd frame holds 1.5 GB": lambda d: replace_stream(
        zstd_czi(d / "subblock.czi"), zstd_rle_frame(1536 << 20)),
    "CZI, a 1024x1024 subblock whose JPEG XR decodes to 800 MB": lambda d: jxr_czi(
        d / "jxr.czi", 1024, 20_000),
    "ND2, a lossless frame of 800 MB": lambda d: nd2_lossless(
        d / "frame.nd2", 20_000, 20_000),
    "ND2, a 64x64 lossless frame whose zlib inflates to 800 MB": lambda d: nd2_lossless(
        d / "small.nd2", 64, 64, deflate(b"", 800 << 20)),
    "ND2, a metadata chunk whose zlib inflates to 800 MB": lambda d: nd2_lossless(
        d / "attributes.nd2", 64, 64, attributes_chunk=lite_compressed(
            deflate(b"", 800 << 20))),
    "ND2, 12 nested metadata streams of 60 MB": lambda d: nd2_lossless(
        d / "nested.nd2", 64, 64, attributes_chunk=nested_lite_bomb(12, 60 << 20)),
    "ND2, 10^9 frames declared by its loops": lambda d: nd2_lossless(
        d / "loops.nd2", 1, 1, loops=(100_000, 10_000)),
    "ND2, a chunk claiming a TB": lambda d: _claiming(nd2_lossless(d / "long.nd2", 64, 64)),
}


@pytest.mark.parametrize("kind", list(BOMBS))
def test_a_bomb_is_refused_quickly_in_little_memory(initialised: Env, tmp_path: Path,
                                                     kind: str) -> None:
    source = tmp_path / "in"
    source.mkdir()
    BOMBS[kind](source)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _PEAK, "import", str(source), "-o", "json"],
                          env=initialised.vars, capture_output=True, text=True, timeout=300,
                          check=False, preexec_fn=_cap_address_space)
    took = time.monotonic() - started
    peak = int(done.stderr.rsplit("PEAK", 1)[1].split()[0])
    print(f"{kind}: {took:.1f} s, peak RSS {peak / 1024:.0f} MiB")  # for the issue note
    assert done.returncode != 0, done.stdout
    result = json.loads(done.stdout)
    assert result["imported"] == []
    reasons = [f["reason"] for f in result["failed"]] + [s["reason"] for s in result["skipped"]]
    assert len(reasons) == 1, result
    assert any(word in reasons[0] for word in ("import.max_", "more bytes than")), reasons
    assert "\n" not in reasons[0]
    assert peak < MEMORY_BOUND, f"peak RSS {peak} KiB"
    assert took < TIME_BOUND
    assert initialised.cli("fs", "sets", "-o", "json", check=True).stdout.strip() in ("[]", "")


def test_a_page_laid_out_unlike_its_series_is_refused_before_it_is_decoded(
        tmp_path: Path) -> None:
    """A series' first page is small and plain; its second claims 16 columns too, but
    a million rows in one zlib strip: refused from its own tags, never decoded."""
    import numpy as np
    import tifffile

    from pixelvault.errors import CorruptFileError
    from pixelvault.formats import open_reader

    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(np.ones((16, 16), np.uint8), description='{"shape": [2, 16, 16]}',
                  metadata=None, photometric="minisblack")
        tif.write(np.zeros((1 << 20, 16), np.uint8), metadata=None, compression="zlib",
                  photometric="minisblack", rowsperstrip=1 << 20)
    reader = open_reader(path)
    try:
        (series,) = reader.metadata().series
        assert series.size_x == series.size_y == 16
        np.testing.assert_array_equal(reader.read(0, 0, 0, 0, 0, 0, 0, 16, 16), 1)
        with pytest.raises(CorruptFileError, match="not stored like the first plane"):
            reader.read(0, 0, 0, 0, 1, 0, 0, 16, 16)
    finally:
        reader.close()


def test_the_decoders_bound_follows_the_configuration(initialised: Env) -> None:
    """Where nothing declares a decode's size (an image codec called outside any tile),
    the budget is the bound: opening the vault sets it from import.max_chunk_bytes.
    A 2048x2048 PNG (4 MiB) decodes under the default; at 1 MiB it is refused from its
    header, naming the setting."""
    import imagecodecs
    import numpy as np

    from pixelvault.errors import LimitError
    from pixelvault.formats.decoding import bounds, budget
    from pixelvault.formats.decoding.limits import Limits
    from pixelvault.services.vault import open_vault

    bounds.install()
    stream = imagecodecs.png_encode(np.zeros((2048, 2048), np.uint8))
    try:
        open_vault(initialised.settings()).close()
        assert imagecodecs.png_decode(stream).shape == (2048, 2048)
        initialised.set(import_max_chunk_bytes=str(1 << 20))
        open_vault(initialised.settings()).close()
        with pytest.raises(LimitError, match=r"import\.max_chunk_bytes"):
            imagecodecs.png_decode(stream)
    finally:
        budget.use_limits(Limits())  # the process's other tests expect the default
