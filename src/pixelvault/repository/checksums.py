"""OMERO's checksum algorithms with identical hex strings, plus BLAKE3.

Names and preference order are ``omero.checksum.supported``'s. Digests are the
hash bytes in order; the 32/64-bit ones are little-endian, as OMERO writes them
(CRC-32 of b"abc" is ``c2412435``).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import blake3
import mmh3

from pixelvault.errors import InvalidInputError

DEFAULT_ALGORITHM = "SHA1-160"


class Hasher(Protocol):
    def update(self, data: bytes, /) -> object: ...

    def hexdigest(self) -> str: ...


class _Running32:
    """zlib's rolling 32-bit checksums behind the hashlib interface."""

    def __init__(self, step: Callable[[bytes, int], int], start: int) -> None:
        self._step = step
        self._value = start

    def update(self, data: bytes, /) -> None:
        self._value = self._step(data, self._value)

    def hexdigest(self) -> str:
        return self._value.to_bytes(4, "little").hex()


class _FileSize:
    def __init__(self) -> None:
        self._size = 0

    def update(self, data: bytes, /) -> None:
        self._size += len(data)

    def hexdigest(self) -> str:
        return self._size.to_bytes(8, "little").hex()


class _Murmur:
    def __init__(self, factory: Callable[[], object]) -> None:
        self._hasher = factory()

    def update(self, data: bytes, /) -> None:
        self._hasher.update(data)  # type: ignore[attr-defined]

    def hexdigest(self) -> str:
        digest: bytes = self._hasher.digest()  # type: ignore[attr-defined]
        return digest.hex()


ALGORITHMS: dict[str, Callable[[], Hasher]] = {
    "SHA1-160": lambda: hashlib.sha1(usedforsecurity=False),
    "MD5-128": lambda: hashlib.md5(usedforsecurity=False),
    "Murmur3-128": lambda: _Murmur(mmh3.mmh3_x64_128),
    "Murmur3-32": lambda: _Murmur(mmh3.mmh3_32),
    "CRC-32": lambda: _Running32(zlib.crc32, 0),
    "Adler-32": lambda: _Running32(zlib.adler32, 1),
    "File-Size-64": _FileSize,
    "BLAKE3-256": lambda: blake3.blake3(max_threads=1),
}


def canonical(name: str) -> str:
    """Accept any capitalisation of an algorithm name; refuse unknown ones."""
    for known in ALGORITHMS:
        if known.lower() == name.strip().lower():
            return known
    raise InvalidInputError(
        f"unknown checksum algorithm {name!r}; choose one of: {', '.join(ALGORITHMS)}"
    )


def new_hasher(name: str) -> Hasher:
    return ALGORITHMS[canonical(name)]()


class MultiHasher:
    """Feed several algorithms from one pass over the bytes."""

    def __init__(self, names: Iterable[str]) -> None:
        self.hashers = {canonical(name): new_hasher(name) for name in names}
        self.size = 0

    def update(self, data: bytes) -> None:
        self.size += len(data)
        for hasher in self.hashers.values():
            hasher.update(data)

    def hexdigests(self) -> dict[str, str]:
        return {name: hasher.hexdigest() for name, hasher in self.hashers.items()}


def digest_file(name: str, path: Path, on_chunk: Callable[[int], None] | None = None,
                chunk_size: int = 4 << 20) -> str:
    """The file's checksum, read in chunks (``on_chunk`` hears each chunk's size).
    File-Size-64 needs no reading: it is what OMERO's --skip checksum stands for."""
    if canonical(name) == "File-Size-64":
        size = path.stat().st_size
        if on_chunk is not None:
            on_chunk(size)
        return size.to_bytes(8, "little").hex()
    hasher = new_hasher(name)
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            hasher.update(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
    return hasher.hexdigest()


def digest_bytes(name: str, data: bytes) -> str:
    hasher = new_hasher(name)
    hasher.update(data)
    return hasher.hexdigest()
