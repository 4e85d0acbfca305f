"""The check that runs before every write and read: right repository, enough space.

Both checks are a stat and a statvfs, cheap enough to run on every request; that
is what makes a share that vanishes mid-run fail loudly instead of filling its
mount point. The identity marker is read once and then recognised by its stat
(device, inode, size, change time): a share unmounted, swapped or with its marker
rewritten shows another stat, and the marker is read again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pixelvault.errors import OutOfSpaceError, RepositoryIdentityError
from pixelvault.repository import identity, space
from pixelvault.repository.layout import Layout
from pixelvault.sizes import Threshold, format_size


@dataclass(frozen=True)
class WriteGuard:
    layout: Layout
    uuid: str
    warn: Threshold
    critical: Threshold
    # the marker's stat when it was last read and found right
    _verified: list[tuple[int, int, int, int]] = field(default_factory=list, compare=False,
                                                       repr=False)

    def check_identity(self) -> None:
        try:
            found = os.stat(self.layout.marker(self.uuid))
            seen = (found.st_dev, found.st_ino, found.st_size, found.st_ctime_ns)
        except OSError:
            seen = None
        if seen is not None and seen in self._verified:
            return
        identity.verify(self.layout, self.uuid)
        if seen is not None:
            self._verified[:] = [seen]

    def require_available(self, consequence: str) -> None:
        """Raise (503) unless the data dir is this repository, saying so first.

        Reads call it so that a vanished share is reported as what it is, not as
        files gone missing (or, for a Zarr store, as planes of zeros); deletes
        call it before their commit, so that rows never go while their bytes,
        out of reach, would stay behind for good.
        """
        try:
            self.check_identity()
        except RepositoryIdentityError as exc:
            raise RepositoryIdentityError(
                f"the repository is unavailable, {consequence}: {exc.message}") from None

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
