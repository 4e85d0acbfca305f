"""Opening the repository's original files, through their memo files when they have one.

A reader that can describe its parsed state (``memo()``) is opened from its
memo when the memo matches the file; otherwise it parses, and the memo is
written for next time. Memos only ever speed things up: a missing, stale or
broken one means a normal parse.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pixelvault.errors import PixelvaultError
from pixelvault.formats import ForeignFileError, Members, Reader, detect
from pixelvault.repository.memo import MemoStore

log = logging.getLogger(__name__)


def open_original(memos: MemoStore, path: Path, members: Members) -> Reader:
    """A reader of the fileset entry ``path``, which may open ``members`` only."""
    members.check(path)
    cls: Any = detect(path)
    if not hasattr(cls, "memo"):
        reader: Reader = cls(path, members)
        return reader
    state = memos.load(path, cls.format_name, cls.version)
    if state is not None:
        try:
            remembered: Reader = cls(path, members, memo=state)
            return remembered
        except ForeignFileError:
            raise
        except PixelvaultError:
            log.info("memo of %s not usable; parsing the file", path)
    reader = cls(path, members)
    write_memo(memos, reader, path)
    return reader


def write_memo(memos: MemoStore, reader: Any, path: Path) -> bool:
    try:
        state = reader.memo()
    except PixelvaultError as exc:
        log.info("no memo for %s: %s", path, exc)
        return False
    return memos.save(path, type(reader).format_name, type(reader).version, state)


def rebuild(root: str, path: str, members: list[str]) -> bool:
    """Parse one original afresh and store its memo (run in worker processes);
    ``members``: the files of its fileset."""
    from pixelvault.repository.layout import Layout

    memos = MemoStore(Layout(Path(root)))
    original = Path(path)
    try:
        cls: Any = detect(original)
        if not hasattr(cls, "memo"):
            return False
        reader = cls(original, Members.of(members))
    except PixelvaultError:
        return False
    try:
        return write_memo(memos, reader, original)
    finally:
        reader.close()
