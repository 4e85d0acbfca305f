"""Truncated TIFFs are refused, not imported as whatever is left of them.

A TIFF cut short (a copy interrupted, a download stopped) still opens: tifffile
reads the pages whose directories survived, warns on the console, and when the
ImageJ or OME description lies past the end, the file looks like a plain
single-plane TIFF. Imported as such, a Z-stack of 40 channels-and-timepoints
becomes one plane and nobody notices. So before its metadata is trusted, every
place the file points to (the next directory, tag values such as the
description, the pixel data of every page) is compared with the file's size, and
the plane count ImageJ's description declares with the planes found.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from pixelvault.errors import CorruptFileError


def _tag_ends(tif: Any, offset: int) -> tuple[int, int]:
    """The furthest byte the tag values of the directory at ``offset`` need, and where
    the directory points to the next one (0: none)."""
    fmt = tif.tiff
    handle = tif.filehandle
    handle.seek(offset)
    (count,) = struct.unpack(fmt.tagnoformat, handle.read(fmt.tagnosize))
    entries = handle.read(count * fmt.tagsize)
    furthest = offset + fmt.tagnosize + count * fmt.tagsize + fmt.offsetsize
    if len(entries) < count * fmt.tagsize:
        return furthest, 0
    for index in range(count):
        entry = entries[index * fmt.tagsize:(index + 1) * fmt.tagsize]
        _, dtype, values, value = struct.unpack(fmt.tagheaderformat, entry)
        item = _ITEM_SIZES.get(dtype)
        if item is None:
            continue
        size = item * values
        if size > fmt.tagoffsetthreshold and len(value) == fmt.offsetsize:
            (where,) = struct.unpack(fmt.offsetformat, value)
            furthest = max(furthest, int(where) + size)
    raw = handle.read(fmt.offsetsize)
    following = struct.unpack(fmt.offsetformat, raw)[0] if len(raw) == fmt.offsetsize else 0
    return furthest, int(following)


# TIFF field types and the bytes of one value (BYTE, ASCII, SHORT, LONG, RATIONAL, ...).
_ITEM_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
               13: 4, 16: 8, 17: 8, 18: 8}


def _data_end(page: Any) -> int:
    ends = [int(o) + int(n) for o, n in zip(page.dataoffsets, page.databytecounts,
                                              strict=False) if o and n]
    return max(ends, default=0)


def check_complete(tif: Any, name: str) -> None:
    """CorruptFileError naming the file and its last byte when any page, tag value or
    directory of ``tif`` lies past its end, or when ImageJ's ``images=`` declares more
    planes than the file holds."""
    size = int(tif.filehandle.size)
    needed = 0
    pages = tif.pages
    first = pages.first
    last = pages[len(pages) - 1]
    for page in {id(first): first, id(last): last}.values():
        if tif.tiff.is_ndpi:  # NDPI's directories mix 32- and 64-bit offsets
            break
        try:
            with tif.filehandle.lock:  # reads elsewhere seek the same handle
                tags_end, following = _tag_ends(tif, int(page.offset))
        except (OSError, struct.error, ValueError):
            continue
        needed = max(needed, tags_end)
        if page is last and following:
            needed = max(needed, following + 1)  # a next directory the file does not hold
    for series in tif.series:
        for level in series.levels:
            for page in level.pages:
                if page is not None and page.parent is tif:
                    needed = max(needed, _data_end(page))
            offset = level.dataoffset
            if offset is not None and all(p is not None and p.parent is tif
                                          for p in level.pages):
                needed = max(needed, int(offset) + int(level.nbytes))
    if needed > size:
        raise CorruptFileError(
            f"{name} is truncated: it ends at byte {size} but its pages point to byte "
            f"{needed}; copy the file again from its source")
    declared = (tif.imagej_metadata or {}).get("images")
    if isinstance(declared, int) and declared > 1:
        found = sum(math.prod(int(n) for n, axis in zip(s.shape, s.axes, strict=True)
                              if axis not in "YXS") for s in tif.series)
        if found < declared:
            raise CorruptFileError(
                f"{name} is truncated: its ImageJ description declares {declared} planes "
                f"but the file, ending at byte {size}, holds {found}; copy the file again "
                "from its source")
