"""The check that runs before every write: right repository, enough space.

Both checks are a stat and a statvfs, cheap enough to run on every write; that
is what makes a share that vanishes mid-run fail loudly instead of filling its
mount point.
"""

from __future__ import annotations

from dataclasses import dataclass

from pixelvault.errors import OutOfSpaceError
from pixelvault.repository import identity, space
from pixelvault.repository.layout import Layout
from pixelvault.sizes import Threshold, format_size


@dataclass(frozen=True)
class WriteGuard:
    layout: Layout
    uuid: str
    warn: Threshold
    critical: Threshold

    def check_identity(self) -> None:
        identity.verify(self.layout, self.uuid)

    def space(self) -> space.SpaceReport:
        return space.measure(self.layout.root, self.warn, self.critical)

    def check_space(self, incoming: int = 0) -> None:
        report = self.space()
        if incoming and report.free >= report.critical_below \
                and report.free - incoming < report.critical_below:
            raise OutOfSpaceError(
                f"{format_size(incoming)} do not fit in {self.layout.root}: "
                f"{format_size(report.free)} free, of which space.critical keeps "
                f"{format_size(report.critical_below)}; nothing was written. Free space or "
                "move the repository (`pixelvault admin move NEW_DIR`)"
            )
        if report.free < report.critical_below:
            raise OutOfSpaceError(
                f"only {format_size(report.free)} free in {self.layout.root}, below "
                f"space.critical ({format_size(report.critical_below)}): new writes are refused "
                "and reads go on; free space or move the repository "
                "(`pixelvault admin move NEW_DIR`)"
            )

    def check(self, incoming: int = 0) -> None:
        """Raise unless a write of ``incoming`` bytes may start now."""
        self.check_identity()
        self.check_space(incoming)
