"""A reader's unexpected exception, turned into the failure of its one file.

Readers wrap the errors they know into :class:`CorruptFileError`; anything else
(a library's ValueError on a file variant nobody foresaw, Pillow's decompression
bomb guard) would otherwise end the whole import with a traceback and leave the
other files of the same command unimported. The traceback still goes to the log,
for whoever investigates.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pixelvault.errors import CorruptFileError

log = logging.getLogger("pixelvault.imports")


def unreadable(path: Path, exc: BaseException) -> CorruptFileError:
    """The one-line failure of ``path`` for an exception no reader expected; logs its
    traceback at info level."""
    log.info("%s: reader failed unexpectedly", path, exc_info=exc)
    lines = str(exc).strip().splitlines()
    detail = lines[0] if lines else ""
    detail = detail if len(detail) <= 300 else detail[:297] + "..."
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return CorruptFileError(
        f"{path.name}: cannot be read ({what}); the file is damaged or a variant pixelvault "
        "does not know: if it opens in Fiji, report it with the file")
