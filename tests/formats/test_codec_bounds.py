"""Every decoder is held to what its image declares: a tile or chunk that decodes to
more is refused before (or as soon as) it passes the bound, never decoded whole; and
honest files of every codec still read exactly."""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import tifffile

from pixelvault.errors import CorruptFileError, LimitError
from pixelvault.formats import open_reader
from pixelvault.formats.decoding import headers
from tests.formats import codec_bombs


@pytest.fixture(autouse=True)
def _bounds_installed() -> None:
    """Some tests here open arrays with zarr itself, not through a reader: the bounds a
    reader's detection installs must be in place for them whatever ran before in this
    process."""
    from pixelvault.formats.decoding import bounds

    bounds.install()

Measure = Callable[[headers.Stream], headers.Size | None]
ENCODERS: dict[str, tuple[Callable[..., bytes | bytearray], Measure]] = {
    "png": (imagecodecs.png_encode, headers.png_size),
    "webp": (imagecodecs.webp_encode, headers.webp_size),
    "jpeg2k": (imagecodecs.jpeg2k_encode, headers.j2k_size),
    "jpegxl": (imagecodecs.jpegxl_encode, headers.jxl_size),
    "jpegxr": (imagecodecs.jpegxr_encode, headers.jxr_size),
}


@pytest.mark.parametrize("codec", list(ENCODERS))
@pytest.mark.parametrize("shape", [(300, 200, 3), (37, 1000, 4), (300, 200)])
def test_a_header_gives_at_least_what_its_stream_decodes_to(codec: str,
                                                           shape: tuple[int, ...]) -> None:
    encode, measure = ENCODERS[codec]
    if codec == "webp" and len(shape) == 2:
        shape = (*shape, 3)  # WebP holds colour only
    image = np.random.default_rng(1).integers(0, 200, shape, np.uint8)
    stream = encode(image)
    decoded = np.asarray(getattr(imagecodecs, f"{codec}_decode")(stream))
    size = measure(stream)
    assert size is not None
    assert (size.height, size.width) == image.shape[:2]
    assert decoded.nbytes <= size.decoded <= 16 * image.shape[0] * image.shape[1]
    if codec in ("png", "jpeg2k"):  # their headers say exactly
        assert size.decoded == decoded.nbytes


def test_a_jpeg_frame_header_is_found_past_other_segments() -> None:
    stream = imagecodecs.jpeg8_encode(np.zeros((30, 50, 3), np.uint8))
    app = b"\xff\xe1" + (2 + 1000).to_bytes(2, "big") + bytes(1000)  # an EXIF-like block
    assert headers.jpeg_size(stream[:2] + app + stream[2:]) == headers.Size(50, 30, 3)
    assert headers.jpeg_size(b"\xff\xd8\xff\xda\x00\x02") is None  # a scan, no frame
    assert headers.jpeg_size(b"not a jpeg") is None


def test_a_jp2_is_measured_by_its_own_codestream_not_one_hidden_before_it() -> None:
    stream = imagecodecs.jpeg2k_encode(np.zeros((64, 48), np.uint8), codecformat="jp2")
    assert headers.j2k_size(stream) == headers.Size(48, 64, 1)
    decoy = imagecodecs.jpeg2k_encode(np.zeros((2, 2), np.uint8))  # a small codestream
    box = (8 + len(decoy)).to_bytes(4, "big") + b"xml " + decoy
    signature, rest = stream[:12], stream[12:]
    assert headers.j2k_size(signature + box + rest) == headers.Size(48, 64, 1)


HONEST = ["zlib", "lzw", "zstd", "lzma", "packbits", "deflate", "jpeg", "png", "webp",
          "jpeg2000", "jpegxl", "jpegxr"]
LOSSY = {"jpeg", "webp", "jpegxr", "jpeg2000", "jpegxl"}


@pytest.mark.parametrize("compression", HONEST)
def test_honest_tiles_of_every_codec_read_as_written(tmp_path: Path, compression: str) -> None:
    image = (np.indices((96, 80)).sum(axis=0) % 251).astype(np.uint8)
    rgb = np.stack([image, image[::-1], image // 2], axis=-1)
    colour = compression in ("webp", "jpeg")
    data = rgb if colour else image
    path = tmp_path / f"{compression}.tif"
    options: dict[str, object] = {"lossless": True} if compression == "webp" else {}
    tifffile.imwrite(path, data, tile=(32, 32), compression=compression,
                     compressionargs=options, photometric="rgb" if colour else "minisblack",
                     metadata=None)
    reader = open_reader(path)
    try:
        planes = [reader.read(0, 0, 0, c, 0, 0, 0, 80, 96)
                  for c in range(reader.metadata().series[0].size_c)]
    finally:
        reader.close()
    read = np.stack(planes, axis=-1) if colour else planes[0]
    if compression in LOSSY and compression != "webp":
        assert np.abs(read.astype(int) - data.astype(int)).mean() < 8
    else:
        np.testing.assert_array_equal(read, data)


TILE_BOMBS = {
    "JPEG": codec_bombs.jpeg_tile,
    "PNG": codec_bombs.png_tile,
    "WEBP": codec_bombs.webp_tile,
    "JPEG2K": codec_bombs.jpeg2k_tile,
}


@pytest.mark.parametrize("kind", list(TILE_BOMBS))
def test_a_tile_whose_codec_stream_is_larger_than_the_tile_is_refused(tmp_path: Path,
                                                                      kind: str) -> None:
    path = TILE_BOMBS[kind](tmp_path / "bomb.tif")
    reader = open_reader(path)
    try:
        started = time.monotonic()
        with pytest.raises(LimitError, match=f"a {kind} stream of .* decodes to"):
            reader.read(0, 0, 0, 0, 0, 0, 0, 16, 16)
        assert time.monotonic() - started < 5  # refused from the header, not decoded
    finally:
        reader.close()


def test_lerc_is_refused_because_its_decoder_cannot_be_bounded(tmp_path: Path) -> None:
    open_reader(codec_bombs.tile_tiff(tmp_path / "first.tif", "zlib", b"")).close()
    imagecodecs.lerc_encode(np.zeros((2, 2), np.float32))  # a first use after the bounds
    path = tmp_path / "lerc.tif"
    tifffile.imwrite(path, np.zeros((32, 32), np.float32), tile=(16, 16), compression="lerc",
                     metadata=None)
    reader = open_reader(path)
    try:
        with pytest.raises(CorruptFileError, match="LERC"):
            reader.read(0, 0, 0, 0, 0, 0, 0, 16, 16)
    finally:
        reader.close()


def test_a_later_plane_whose_zlib_tile_inflates_past_its_page_is_stopped(
        tmp_path: Path) -> None:
    """tifffile decodes every plane of a series with its first page's parameters; the
    output size it gives zlib is the tile's, so a 400 MB stream stops at 256 bytes."""
    stream = zlib.compress(bytes(400 << 20), 9)
    path = codec_bombs.tile_tiff(tmp_path / "pages.tif", "zlib", stream, pages=3)
    reader = open_reader(path)
    try:
        assert reader.metadata().series[0].size_z * reader.metadata().series[0].size_t == 3
        np.testing.assert_array_equal(reader.read(0, 0, 0, 0, 0, 0, 0, 16, 16), 0)
        plane = (2, 0, 0) if reader.metadata().series[0].size_z == 3 else (0, 0, 2)
        with pytest.raises(CorruptFileError, match="cannot be decoded"):
            reader.read(0, 0, *plane, 0, 0, 16, 16)
    finally:
        reader.close()


CODECS = [{"id": "zlib", "level": 1}, {"id": "gzip", "level": 1}, {"id": "bz2", "level": 1},
          {"id": "lzma"}, {"id": "zstd", "level": 1}, {"id": "lz4"},
          {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}]


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: str(c["id"]))
def test_zarr_v2_chunks_of_every_compressor_read_as_written(tmp_path: Path,
                                                            codec: dict[str, object]) -> None:
    import numcodecs

    values = np.arange(16, dtype=np.uint8).reshape(4, 4)
    chunk = numcodecs.get_codec(dict(codec)).encode(values.tobytes())
    path = codec_bombs.zarr_v2_chunk(tmp_path / "image.ome.zarr", codec, bytes(chunk))
    reader = open_reader(path)
    try:
        np.testing.assert_array_equal(reader.read(0, 0, 0, 0, 0, 0, 0, 4, 4), values)
    finally:
        reader.close()


@pytest.mark.parametrize("make", [codec_bombs.bz2_chunk, codec_bombs.blosc_chunk],
                         ids=["bz2", "blosc"])
def test_a_zarr_chunk_that_inflates_past_its_shape_is_refused(tmp_path: Path,
                                                              make: Callable[[Path], Path]
                                                              ) -> None:
    reader = open_reader(make(tmp_path / "bomb.ome.zarr"))
    try:
        with pytest.raises(LimitError, match="decodes to"):
            reader.read(0, 0, 0, 0, 0, 0, 0, 4, 4)
    finally:
        reader.close()


def test_a_zarr_v3_chunk_is_bounded_by_its_own_shape(tmp_path: Path) -> None:
    """zarr's own zstd codec is given the chunk's size: 4 KiB of zstd that inflates to
    1 MiB (under any ratio's floor) in a chunk of 64x64 bytes is still refused."""
    import zarr

    path = tmp_path / "v3.zarr"
    array = zarr.create_array(path, shape=(64, 64), chunks=(64, 64), dtype="u1",
                              compressors=[zarr.codecs.ZstdCodec()])
    array[:] = 7
    reader_array = zarr.open_array(path, mode="r")
    np.testing.assert_array_equal(reader_array[:], 7)  # honest: reads
    (path / "c" / "0" / "0").write_bytes(imagecodecs.zstd_encode(bytes(1 << 20)))
    with pytest.raises(LimitError, match="zstd stream"):
        zarr.open_array(path, mode="r")[:]
    assert json.loads((path / "zarr.json").read_text())["codecs"][-1]["name"] == "zstd"


def _read_tile(path: Path, width: int = 16, height: int = 16) -> np.ndarray:
    reader = open_reader(path)
    try:
        return reader.read(0, 0, 0, 0, 0, 0, 0, width, height)
    finally:
        reader.close()


def test_a_jpeg_xr_is_measured_by_its_codestream_not_its_containers_tags(
        tmp_path: Path) -> None:
    """jxrlib allocates by the WMPHOTO header: tags saying 16x16 do not make a 2048x2048
    codestream small."""
    stream = bytearray(imagecodecs.jpegxr_encode(np.zeros((2048, 2048), np.uint8)))
    ifd = int.from_bytes(stream[4:8], "little")
    for entry in range(ifd + 2, ifd + 2 + 12 * int.from_bytes(stream[ifd:ifd + 2], "little"),
                       12):
        tag, kind = struct.unpack_from("<HH", stream, entry)
        if tag in (0xBC80, 0xBC81):
            struct.pack_into("<H" if kind == 3 else "<I", stream, entry + 8, 16)
    size = headers.jxr_size(bytes(stream))
    assert size is not None and (size.width, size.height) == (2048, 2048)
    path = codec_bombs.tile_tiff(tmp_path / "jxr.tif", "jpegxr", bytes(stream))
    with pytest.raises(LimitError, match="JPEGXR stream"):
        _read_tile(path)


def test_a_jpeg_with_two_frame_headers_is_refused(tmp_path: Path) -> None:
    """A small hierarchical frame header first, a large lossless frame after it: libjpeg
    refuses the first and imagecodecs falls back to the lossless decoder, which would
    decode the second; a stream with two frame headers is not decoded at all."""
    real = imagecodecs.ljpeg_encode(np.zeros((512, 512), np.uint8), bitspersample=8)
    small = b"\xff\xc5" + struct.pack(">HBHHB", 11, 8, 16, 16, 1) + b"\x01\x11\x00"
    stream = real[:2] + small + real[2:]
    assert headers.jpeg_size(real) == headers.Size(512, 512, 1)
    assert headers.jpeg_size(stream) is None
    path = codec_bombs.tile_tiff(tmp_path / "two.tif", "jpeg", stream)
    with pytest.raises(CorruptFileError, match="more than one frame header"):
        _read_tile(path)
    with pytest.raises(CorruptFileError, match="JPEG stream"):
        imagecodecs.ljpeg_decode(stream)  # the fallback itself is bounded too


def test_every_tile_is_held_to_its_own_size_not_only_the_budget(tmp_path: Path) -> None:
    """A 1024x1024 PNG (1 MiB, far under any budget) in a 16x16 tile is refused from its
    header: many such tiles in one read would otherwise each decode a megabyte."""
    stream = imagecodecs.png_encode(np.zeros((1024, 1024), np.uint8))
    path = codec_bombs.tile_tiff(tmp_path / "png.tif", "png", stream)
    with pytest.raises(LimitError, match=r"PNG stream of .* decodes to 1\.0 MiB, more than "
                                         r"the 256 B"):
        _read_tile(path)


def test_a_last_strip_coded_at_full_height_still_reads(tmp_path: Path) -> None:
    """Some writers code a last JPEG strip at the full RowsPerStrip, padding it: its
    frame is within the strip as stored, so it reads (tifffile trims the padding)."""
    image = np.random.default_rng(2).integers(0, 255, (100, 64), np.uint8)
    path = tmp_path / "strips.tif"
    tifffile.imwrite(path, image, rowsperstrip=64, compression="jpeg", metadata=None)
    padded = np.vstack([image[64:], np.zeros((28, 64), np.uint8)])
    last = imagecodecs.jpeg8_encode(padded, level=95)
    with tifffile.TiffFile(path) as tif:
        offsets, counts = tif.pages.first.tags["StripOffsets"], tif.pages.first.tags[
            "StripByteCounts"]
        formats = ["<H" if int(tag.dtype) == 3 else "<I" for tag in (offsets, counts)]
        places = [offsets.valueoffset, counts.valueoffset]
    with path.open("r+b") as handle:
        end = handle.seek(0, 2)
        handle.write(last)
        for place, form, value in zip(places, formats, (end, len(last)), strict=True):
            handle.seek(place + struct.calcsize(form))
            handle.write(struct.pack(form, value))
    read = _read_tile(path, 64, 100)
    assert read.shape == (100, 64)
    assert np.abs(read.astype(int) - image.astype(int)).mean() < 8


def test_a_zarr_v2_chunk_is_bounded_by_its_own_shape(tmp_path: Path) -> None:
    """zarr calls a v2 compressor without an output buffer; the chunk's size still
    reaches it: 16 bytes of 4x4 chunk may not inflate to a megabyte."""
    path = codec_bombs.zarr_v2_chunk(tmp_path / "v2.ome.zarr", {"id": "zlib", "level": 1},
                                     zlib.compress(bytes(1 << 20)))
    with pytest.raises(LimitError, match=r"zlib stream of .* more than the 80 B"):
        _read_tile(path, 4, 4)


def test_a_zarr_codec_that_unpickles_cannot_open_an_array(tmp_path: Path) -> None:
    import pickle

    path = codec_bombs.zarr_v2_chunk(tmp_path / "pickled.ome.zarr", {"id": "zlib"},
                                     zlib.compress(pickle.dumps([1, 2, 3])))
    zarray = path / "0" / ".zarray"
    meta = json.loads(zarray.read_text())
    meta.update(dtype="|O", filters=[{"id": "pickle"}])
    zarray.write_text(json.dumps(meta))
    with pytest.raises(CorruptFileError):
        open_reader(path).metadata()


def test_a_zarr_v3_numcodecs_chunk_is_bounded_by_its_own_shape(tmp_path: Path) -> None:
    """Zarr v3's ``numcodecs.*`` codecs call numcodecs without an output buffer too."""
    import zarr

    path = tmp_path / "numcodecs.zarr"
    array = zarr.create_array(path, shape=(4, 4), chunks=(4, 4), dtype="u1",
                              compressors=[zarr.codecs.numcodecs.Zlib(level=1)])
    array[:] = 3
    assert np.asarray(zarr.open_array(path, mode="r")[:]).sum() == 48  # honest: reads
    (path / "c" / "0" / "0").write_bytes(zlib.compress(bytes(1 << 20)))
    with pytest.raises(LimitError, match="more than the 80 B"):
        zarr.open_array(path, mode="r")[:]
