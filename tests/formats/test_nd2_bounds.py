"""ND2 read within bounds: a lossless frame inflates to the size its attributes declare
and no further, metadata streams share a budget however they nest, and a chunk may
not claim more bytes than the file holds; an ordinary lossless file reads as ``nd2``
itself reads it."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pixelvault.errors import CorruptFileError
from pixelvault.formats.decoding.limits import Piece
from pixelvault.formats.nd2 import Nd2Reader
from tests.formats.nd2_files import (
    claim_chunk_bytes,
    deflate,
    lite_compressed,
    nested_lite_bomb,
    write_nd2,
)


def _write(path: Path, compressed: bool = True, **crafted: Any) -> Path:
    data = np.arange(2 * 3 * 2 * 24 * 32, dtype=np.uint16).reshape(1, 2, 3, 2, 24, 32)
    write_nd2(path, data * 7, channels=["DAPI", "GFP"], compressed=compressed, **crafted)
    return path


def _whole(reader: Nd2Reader) -> np.ndarray[Any, Any]:
    (series,) = reader.metadata().series
    return np.stack([[[reader.read(0, 0, z, c, t, 0, 0, series.size_x, series.size_y)
                       for c in range(series.size_c)] for z in range(series.size_z)]
                     for t in range(series.size_t)])


def test_a_lossless_file_reads_as_nd2_reads_it(tmp_path: Path) -> None:
    import nd2

    path = _write(tmp_path / "lossless.nd2")
    plain = _write(tmp_path / "plain.nd2", compressed=False)
    reader = Nd2Reader(path)
    try:
        assert reader.pieces(0) == [Piece(24 * 32 * 2 * 2, True)]
        ours = _whole(reader)
        np.testing.assert_array_equal(reader.read(0, 0, 2, 1, 1, 5, 3, 7, 11),
                                      ours[1, 2, 1, 3:14, 5:12])
    finally:
        reader.close()
    with nd2.ND2File(str(path)) as theirs:
        np.testing.assert_array_equal(ours, theirs.asarray())  # t, z, c, y, x
    reader = Nd2Reader(plain)
    try:
        assert reader.pieces(0) == [Piece(24 * 32 * 2 * 2, False)]
        np.testing.assert_array_equal(_whole(reader), ours)
    finally:
        reader.close()


@pytest.mark.parametrize(("stream", "match"), [
    (deflate(b"", 64 << 20), "inflates to more bytes than the 3072"),
    (zlib.compress(bytes(100)), "inflates to 100 bytes, fewer than the 3072"),
    (b"\x78\x9c not zlib", "cannot be decompressed"),
])
def test_a_lossless_frame_inflates_to_its_declared_size_only(
        tmp_path: Path, stream: bytes, match: str) -> None:
    data = np.zeros((1, 1, 1, 1, 32, 48), np.uint16)
    path = tmp_path / "frame.nd2"
    write_nd2(path, data, channels=["DAPI"], compressed=True, stream=stream)
    reader = Nd2Reader(path)
    try:
        with pytest.raises(CorruptFileError, match=match):
            reader.read(0, 0, 0, 0, 0, 0, 0, 48, 32)
    finally:
        reader.close()


@pytest.mark.parametrize("chunk", [
    lambda: lite_compressed(deflate(b"", 100 << 20)),
    lambda: nested_lite_bomb(3, 40 << 20),  # each stream within 64 MiB, 120 MiB in all
], ids=["one stream", "nested streams"])
def test_compressed_metadata_is_inflated_within_a_budget(
        tmp_path: Path, chunk: Callable[[], bytes]) -> None:
    path = _write(tmp_path / "metadata.nd2", attributes_chunk=chunk())
    with pytest.raises(CorruptFileError, match="ImageAttributesLV! inflates to more bytes "
                       "than 64 MiB"):
        Nd2Reader(path).close()


@pytest.mark.parametrize("name", [b"ImageAttributesLV!", b"ImageDataSeq|0!",
                                  b"ND2 FILEMAP SIGNATURE NAME 0001!"])
def test_a_chunk_claiming_more_than_the_file_holds_is_refused(tmp_path: Path,
                                                              name: bytes) -> None:
    path = _write(tmp_path / "long.nd2")
    claim_chunk_bytes(path, name, 1 << 40)
    with pytest.raises(CorruptFileError, match="claims more bytes than the file holds"):
        reader = Nd2Reader(path)
        try:
            reader.read(0, 0, 0, 0, 0, 0, 0, 32, 24)
        finally:
            reader.close()


def test_an_xml_metadata_chunk_with_a_doctype_is_refused(tmp_path: Path) -> None:
    chunk = (b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY a "aaaa">]>'
             b'<variant version="1.0"></variant>')
    path = _write(tmp_path / "doctype.nd2", attributes_chunk=chunk)
    with pytest.raises(CorruptFileError, match="DOCTYPE"):
        Nd2Reader(path).close()
