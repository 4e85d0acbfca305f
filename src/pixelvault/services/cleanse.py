"""`admin cleanse`: remove what crashes leave behind, and nothing else.

Bytes are written before their catalog row, so a file without a row may be a
write that is about to commit. Only files older than a grace period are
orphans; younger ones are reported and left alone. Files the store does not
recognise are reported, never deleted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pixelvault.catalog import files as file_rows
from pixelvault.repository import Store
from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
DEFAULT_GRACE_SECONDS = 3600.0


@dataclass
class CleanseReport:
    removed: list[tuple[str, int, str]] = field(default_factory=list)  # path, size, why
    kept: list[tuple[str, str]] = field(default_factory=list)  # path, why
    directories: list[str] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(size for _, size, _ in self.removed)


def cleanse(vault: Vault, *, dry_run: bool = False,
            grace_seconds: float = DEFAULT_GRACE_SECONDS) -> CleanseReport:
    vault.guard.check_identity()
    with vault.catalog.session() as session:
        known = file_rows.ids_in_store(session, Store.FILES.value)
    report = CleanseReport()
    cutoff = time.time() - grace_seconds
    root = vault.layout.root
    for entry in vault.files.scan():
        rel = str(entry.path.relative_to(root))
        if entry.kind == "unknown":
            report.kept.append((rel, "not a name the Files store writes; check it by hand"))
            continue
        if entry.kind == "object" and entry.object_id in known:
            continue
        why = "unfinished write" if entry.kind == "temp" else "no catalog row"
        if entry.mtime > cutoff:
            report.kept.append((rel, f"{why}, but younger than the grace period"))
            continue
        if not dry_run:
            entry.path.unlink(missing_ok=True)
            log.info("cleanse removed %s (%s)", rel, why)
        report.removed.append((rel, entry.size, why))
    for directory in vault.files.empty_directories():
        try:
            if directory.stat().st_mtime > cutoff:
                continue  # a writer may have just made it for a file on its way
        except FileNotFoundError:
            continue
        if not dry_run:
            try:
                directory.rmdir()
            except OSError:
                continue  # something arrived meanwhile
        report.directories.append(str(Path(directory).relative_to(root)))
    return report
