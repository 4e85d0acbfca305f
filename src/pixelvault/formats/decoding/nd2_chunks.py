"""What reading an ND2 file through the ``nd2`` package (0.12) may cost, bounded.

``nd2`` trusts the file: a chunk's header says how many bytes to read, a lossless
frame is ``zlib.decompress``-ed whole, and a metadata chunk in the binary "lite"
variant may hold zlib streams nested at any depth, each inflated whole. A few
kilobytes of crafted ND2 can so ask for gigabytes. This module puts a bound on
each, from outside the package:

- every chunk the reader loads has its header checked against the file's size
  before ``nd2`` reads it, and an XML chunk with a DOCTYPE is refused;
- a lossless frame is inflated here, never past the size its attributes declare;
- zlib inside lite-variant metadata goes through a bounded stand-in with a budget
  per decoded chunk (:data:`METADATA_INFLATE_LIMIT`), nesting included.

These use the package's reader internals (``ND2File._rdr``, its ``chunkmap``,
``_load_chunk`` and ``_decode_chunk``, and the ``zlib`` name in
``nd2._parse._clx_lite``) as they are in nd2 0.12.0; the tests of bombs fail if a
newer version moves them.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pixelvault.errors import CorruptFileError
from pixelvault.formats.xmlguard import refuse_entities

CHUNK_MAGIC = 0x0ABECEDA
CHUNKMAP_SIGNATURE = b"ND2 CHUNK MAP SIGNATURE 0000001!"
_HEADER = struct.Struct("<IIQ")  # magic, name length, data length
# Real metadata chunks inflate to a few MB; a chunk's zlib streams together may not
# pass this, however deeply they nest.
METADATA_INFLATE_LIMIT = 64 << 20


class InflateLimitError(zlib.error):
    """A metadata chunk inflates past its budget (a zlib.error, so that ``nd2`` and the
    reader treat it as the damaged stream it is)."""


_budget = threading.local()


def _bounded_decompress(data: bytes) -> bytes:
    """zlib.decompress as ``nd2``'s lite-variant parser calls it, never inflating past
    the budget left for the chunk being decoded."""
    remaining: int = getattr(_budget, "remaining", METADATA_INFLATE_LIMIT)
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, remaining + 1)
    if len(out) > remaining:
        raise InflateLimitError(f"metadata inflates to more than "
                                f"{METADATA_INFLATE_LIMIT >> 20} MiB")
    if not inflater.eof:
        raise zlib.error("incomplete or truncated metadata stream")
    if hasattr(_budget, "remaining"):
        _budget.remaining = remaining - len(out)
    return out


class _BoundedZlib:
    """Stands in for the ``zlib`` module inside ``nd2._parse._clx_lite``."""

    error = zlib.error
    decompress = staticmethod(_bounded_decompress)


def install() -> None:
    """Route ``nd2``'s lite-variant zlib through the bounded stand-in (idempotent)."""
    from nd2._parse import _clx_lite

    _clx_lite.zlib = _BoundedZlib  # type: ignore[attr-defined,assignment]


def check_chunk(read_at: Callable[[int, int], bytes], offset: int, file_size: int,
                what: str) -> None:
    """CorruptFileError unless a chunk starts at ``offset`` and ends inside the file:
    ``nd2`` reads as many bytes as the chunk's header says, in one allocation."""
    header = read_at(offset, _HEADER.size)
    if len(header) < _HEADER.size:
        raise CorruptFileError(f"{what}: a chunk lies past the end of the file; the file "
                               "is truncated or damaged")
    magic, name_length, data_length = _HEADER.unpack(header)
    if magic != CHUNK_MAGIC or offset + _HEADER.size + name_length + data_length > file_size:
        raise CorruptFileError(f"{what}: a chunk at byte {offset} claims more bytes than "
                               "the file holds; the file is truncated or damaged")


def check_chunk_map(path: Path) -> None:
    """The chunk map's own chunk, checked before ``nd2`` reads it whole."""
    file_size = path.stat().st_size
    with path.open("rb") as handle:
        def read_at(offset: int, count: int) -> bytes:
            handle.seek(offset)
            return handle.read(count)

        if file_size < 40:
            return  # nd2 refuses it itself
        signature, location = struct.unpack("<32sQ", read_at(file_size - 40, 40))
        if signature == CHUNKMAP_SIGNATURE:
            check_chunk(read_at, location, file_size, path.name)


def guard_reader(reader: Any, path: Path) -> None:
    """Check each chunk ``reader`` (nd2's ModernReader) loads, and budget each chunk it
    decodes, by wrapping its ``_load_chunk`` and ``_decode_chunk`` on the instance."""
    file_size = path.stat().st_size
    load, decode = reader._load_chunk, reader._decode_chunk

    def read_at(offset: int, count: int) -> bytes:
        with reader._fh_lock:
            reader._fh.seek(offset)
            return bytes(reader._fh.read(count))

    def checked_load(name: bytes) -> bytes:
        offset = reader.chunkmap[name][0] if name in reader.chunkmap else None
        if offset is not None:
            check_chunk(read_at, offset, file_size, path.name)
        data: bytes = load(name)
        if data.startswith(b"<"):
            refuse_entities(data, path.name, "ND2 metadata")
        return data

    def budgeted_decode(name: bytes, strip_prefix: bool = True) -> Any:
        outer = getattr(_budget, "remaining", None)
        _budget.remaining = METADATA_INFLATE_LIMIT if outer is None else outer
        try:
            return decode(name, strip_prefix)
        except InflateLimitError:
            raise CorruptFileError(
                f"{path.name}: ND2 metadata chunk {name.decode(errors='replace')} inflates "
                f"to more bytes than {METADATA_INFLATE_LIMIT >> 20} MiB; the file is "
                "damaged or a decompression bomb") from None
        finally:
            if outer is None:
                del _budget.remaining

    reader._load_chunk = checked_load
    reader._decode_chunk = budgeted_decode


def inflate_frame(data: bytes, expected: int, what: str) -> bytes:
    """A lossless frame's zlib stream, inflated to exactly ``expected`` bytes (what its
    attributes declare) and never further: a small frame can inflate to gigabytes."""
    try:
        out = zlib.decompressobj().decompress(data, expected + 1)
    except zlib.error as exc:
        raise CorruptFileError(f"{what} cannot be decompressed ({exc})") from None
    if len(out) > expected:
        raise CorruptFileError(f"{what} inflates to more bytes than the {expected} its "
                               "attributes declare; the file is damaged or a decompression "
                               "bomb")
    if len(out) < expected:
        raise CorruptFileError(f"{what} inflates to {len(out)} bytes, fewer than the "
                               f"{expected} its attributes declare; the file is truncated "
                               "or damaged")
    return out
