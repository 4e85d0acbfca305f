import hashlib
import os

import pytest

from pixelvault.errors import InvalidInputError
from pixelvault.repository.checksums import ALGORITHMS, MultiHasher, canonical, digest_bytes

# OMERO-REFERENCE §4: hex strings exactly as OMERO writes them for b"abc".
VECTORS = {
    "SHA1-160": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "MD5-128": "900150983cd24fb0d6963f7d28e17f72",
    "Murmur3-128": "6778ad3f3f3f96b4522dca264174a23b",
    "Murmur3-32": "fa93ddb3",
    "CRC-32": "c2412435",
    "Adler-32": "27014d02",
    "File-Size-64": "0300000000000000",
}


@pytest.mark.parametrize(("name", "expected"), sorted(VECTORS.items()))
def test_omero_vectors(name: str, expected: str) -> None:
    assert digest_bytes(name, b"abc") == expected


def test_blake3_is_offered_besides_omeros_list() -> None:
    assert digest_bytes("BLAKE3-256", b"abc") == (
        "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    )


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_streaming_equals_one_shot(name: str) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    multi = MultiHasher([name])
    for start in range(0, len(data), 65536 + 3):
        multi.update(data[start:start + 65536 + 3])
    assert multi.hexdigests()[name] == digest_bytes(name, data)
    assert multi.size == len(data)


def test_several_algorithms_in_one_pass() -> None:
    multi = MultiHasher(["sha1-160", "md5-128"])
    multi.update(b"hello")
    assert multi.hexdigests() == {
        "SHA1-160": hashlib.sha1(b"hello").hexdigest(),  # noqa: S324 - OMERO's algorithm
        "MD5-128": hashlib.md5(b"hello").hexdigest(),  # noqa: S324
    }


def test_names_are_case_insensitive_and_unknown_ones_list_the_choices() -> None:
    assert canonical("crc-32") == "CRC-32"
    with pytest.raises(InvalidInputError, match="SHA1-160, MD5-128"):
        canonical("SHA-256")
