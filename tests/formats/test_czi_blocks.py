"""CZI subblocks measured before libCZI decodes them: a zstd frame counts at the size
it says it holds, and a subblock may not claim more bytes than the file holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pixelvault.errors import CorruptFileError, LimitError
from pixelvault.formats.czi import CziReader
from pixelvault.formats.decoding.czi_subblocks import zstd_content_size
from pixelvault.formats.decoding.limits import Limits, Piece
from tests.formats.czi_files import (
    claim_data_bytes,
    jxr_czi,
    replace_stream,
    zstd_czi,
    zstd_rle_frame,
)


def test_an_ordinary_zstd_subblock_is_its_declared_size(tmp_path: Path) -> None:
    reader = CziReader(zstd_czi(tmp_path / "plain.czi", 256))
    try:
        assert reader.pieces(0) == [Piece(256 * 256 * 2, True)]
        assert reader.read(0, 0, 0, 0, 0, 0, 0, 256, 256).shape == (256, 256)
    finally:
        reader.close()


def test_a_zstd_frame_counts_at_the_size_it_says_it_holds(tmp_path: Path) -> None:
    path = replace_stream(zstd_czi(tmp_path / "bomb.czi", 256), zstd_rle_frame(3 << 30))
    reader = CziReader(path)
    try:
        assert reader.pieces(0) == [Piece(3 << 30, True)]
        with pytest.raises(LimitError, match=r"import\.max_chunk_bytes"):
            Limits().check(path.name, (256, 256, 1, 1, 1), 2, path.stat().st_size,
                           reader.pieces(0))
    finally:
        reader.close()


@pytest.mark.parametrize(("encoded", "decoded"), [(512, 512 * 512 * 2),
                                                  (4096, 4096 * 4096 * 2)])
def test_a_jpeg_xr_codestream_counts_at_the_size_it_declares(
        tmp_path: Path, encoded: int, decoded: int) -> None:
    reader = CziReader(jxr_czi(tmp_path / "jxr.czi", 512, encoded))
    try:
        assert reader.pieces(0) == [Piece(decoded, True)]
        assert reader.read(0, 0, 0, 0, 0, 0, 0, 512, 512).shape == (512, 512)
    finally:
        reader.close()


def test_a_subblock_claiming_more_than_the_file_holds_is_refused(tmp_path: Path) -> None:
    path = claim_data_bytes(zstd_czi(tmp_path / "long.czi", 64), 1 << 40)
    with pytest.raises(CorruptFileError, match="claims more bytes than the file holds"):
        CziReader(path).pieces(0)


@pytest.mark.parametrize(("header", "size"), [
    (bytes.fromhex("28b52ffd") + bytes([0x20, 5]), 5),  # single segment, 1-byte size
    (bytes.fromhex("28b52ffd") + bytes([0x60]) + (1000).to_bytes(2, "little"), 1256),
    (bytes.fromhex("28b52ffd") + bytes([0x80, 0]) + (70000).to_bytes(4, "little"), 70000),
    (bytes.fromhex("28b52ffd") + bytes([0x00, 0]), None),  # no content size
    (b"not zstd", None),
])
def test_zstd_content_sizes_are_read_from_the_frame_header(header: bytes,
                                                           size: int | None) -> None:
    assert zstd_content_size(header + bytes(16)) == size


def test_samples_are_measured_as_pylibczirw_describes_them() -> None:
    samples = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"
    found = sorted(samples.glob("*.czi"))
    if not found:
        pytest.skip("no CZI samples")
    for path in found:
        reader = CziReader(path)
        try:
            (piece,) = reader.pieces(0)
            largest = max(_stored_sizes(reader))
            assert piece.decoded % largest == 0, path.name  # times the bytes per pixel
            assert piece.decoded // largest in (1, 2, 3, 4, 6, 12)
        finally:
            reader.close()


def _stored_sizes(reader: CziReader) -> list[int]:
    sizes: list[int] = []

    def add(_: int, info: Any) -> bool:
        sizes.append(info.physicalSize.w * info.physicalSize.h)
        return True

    reader._czi.enumerate_subblocks(add)
    return sizes
