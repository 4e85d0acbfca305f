"""Which reader opens a file: by its content first, by its name only as a fallback."""

from __future__ import annotations

from pathlib import Path

from pixelvault.errors import CorruptFileError, InvalidInputError, UnsupportedFormatError
from pixelvault.formats.base import Reader
from pixelvault.formats.czi import CziReader
from pixelvault.formats.decoding import bounds
from pixelvault.formats.lif import LifReader
from pixelvault.formats.members import Members
from pixelvault.formats.nd2 import Nd2Reader
from pixelvault.formats.omexml_file import OmeXmlReader
from pixelvault.formats.omezarr import OmeZarrReader
from pixelvault.formats.raster import RasterReader
from pixelvault.formats.tiff import TiffReader

READERS: tuple[type[Reader], ...] = (TiffReader, OmeXmlReader, CziReader, Nd2Reader, LifReader,
                                     RasterReader)
HEAD = 512
# Formats we recognise but do not read, so the message can name them.
_KNOWN_ELSEWHERE = {
    b"\x00\x00\x00\x0cjP  ": "JPEG 2000",
    b"\x89HDF\r\n\x1a\n": "HDF5",
    b"%PDF": "PDF",
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "a gzip archive",
    b"RIFF": "RIFF (AVI or WebP)",
}


def _describe_unknown(path: Path, head: bytes) -> str:
    for magic, name in _KNOWN_ELSEWHERE.items():
        if head.startswith(magic):
            return name
    if head[128:132] == b"DICM":
        return "DICOM"
    if path.suffix:
        return f"a {path.suffix} file"
    return "no image format pixelvault knows"


def detect(path: Path) -> type[Reader]:
    """The reader class for ``path``; UnsupportedFormatError naming what it looks like.

    Every reader is chosen here, so this is where the decoders' output bounds are put
    in place (``decoding.bounds``), before any reader can decode a byte."""
    bounds.install()
    if path.is_dir() and OmeZarrReader.claims_directory(path):
        return OmeZarrReader
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD)
    except IsADirectoryError:
        raise UnsupportedFormatError(f"{path.name} is a directory, not an image file") from None
    except PermissionError:
        raise InvalidInputError(f"{path}: permission denied; make it readable") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not head:
        raise CorruptFileError(f"{path.name} is empty (0 bytes)")
    scores = [(reader.claims(path, head), index) for index, reader in enumerate(READERS)]
    best, index = max(scores)
    if best == 0:
        raise UnsupportedFormatError(
            f"{path.name}: {_describe_unknown(path, head)}, which pixelvault cannot read "
            "(it reads TIFF and OME-TIFF, OME-XML, OME-Zarr, Zeiss CZI, Nikon ND2, Leica LIF, "
            "PNG, JPEG, BMP and GIF)")
    return READERS[index]


def open_reader(path: Path, members: Members | None = None) -> Reader:
    """An open reader for ``path``, which may open ``members`` only (None: the files
    beside ``path``, for a file opened outside any import); close it when done."""
    members = members or Members.beside(path)
    members.check(path)
    return detect(path)(path, members)  # type: ignore[call-arg]
