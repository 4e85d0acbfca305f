"""Image file readers: one protocol (``base.Reader``), one module per format family."""

from pixelvault.formats.base import (
    PIXEL_TYPES,
    Annotation,
    Channel,
    Metadata,
    Reader,
    Series,
)
from pixelvault.formats.members import ForeignFileError, Members
from pixelvault.formats.registry import READERS, detect, open_reader

__all__ = ["PIXEL_TYPES", "READERS", "Annotation", "Channel", "ForeignFileError", "Members",
           "Metadata", "Reader", "Series", "detect", "open_reader"]
