"""The repository's identity marker, ``.omero/repository/<uuid>/repo_uuid``.

The catalog records the uuid; a data dir whose marker is missing or different is
never written to. This is what stops pixelvault from filling the bare mount
point of a share that failed to mount, as OMERO does.
"""

from __future__ import annotations

import os
import uuid as uuidlib
from pathlib import Path

from pixelvault.errors import RepositoryIdentityError
from pixelvault.repository.atomic import fsync_dir, write_bytes_atomic
from pixelvault.repository.layout import Layout


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def read_marker(layout: Layout, uuid: str) -> str | None:
    """The uuid written in the marker for ``uuid``, or None if there is none."""
    try:
        return layout.marker(uuid).read_text(encoding="ascii").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError):
        return None


def markers_present(layout: Layout) -> list[str]:
    """Uuids of every marker in the data dir (a foreign repository shows here)."""
    try:
        entries = sorted(os.listdir(layout.identity_root))
    except OSError:
        return []
    return [name for name in entries if (layout.identity_root / name / "repo_uuid").is_file()]


def verify(layout: Layout, expected: str) -> None:
    """Raise unless the data dir carries the marker of repository ``expected``."""
    found = read_marker(layout, expected)
    if found == expected:
        return
    if not layout.root.is_dir():
        raise RepositoryIdentityError(
            f"data dir {layout.root} does not exist; mount the share or restore it, "
            "or point data.dir at it with `pixelvault config set data.dir PATH`"
        )
    others = markers_present(layout)
    if others:
        raise RepositoryIdentityError(
            f"data dir {layout.root} belongs to another repository ({', '.join(others)}), "
            f"not to this catalog's {expected}; set data.dir to the right directory"
        )
    raise RepositoryIdentityError(
        f"data dir {layout.root} has no repository marker for {expected} (an unmounted "
        "share or an empty directory?); mount it, or set data.dir to where the repository is"
    )


def write_marker(layout: Layout, uuid: str) -> Path:
    """Create the marker durably; the last step of init and of a cross-disk move."""
    directory = layout.identity_dir(uuid)
    directory.mkdir(parents=True, exist_ok=True)
    marker = layout.marker(uuid)
    write_bytes_atomic(marker, (uuid + "\n").encode("ascii"))
    fsync_dir(directory.parent)
    return marker


