"""Free space and filesystem type of the data dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pixelvault.sizes import Threshold, format_size

# Filesystems whose locking depends on a network service (the seed page's
# warning) or that are known to fake it.
REMOTE_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "openafs", "9p", "ncpfs", "coda",
    "ceph", "glusterfs", "fuse.glusterfs", "fuse.sshfs", "sshfs", "fuse.rclone",
    "fuse.s3fs", "fuse.goofys", "davfs", "fuse.davfs2", "lustre", "gpfs", "beegfs",
})


@dataclass(frozen=True)
class SpaceReport:
    total: int
    free: int
    warn_below: int
    critical_below: int

    @property
    def writes_allowed(self) -> bool:
        return self.free >= self.critical_below

    @property
    def low(self) -> bool:
        return self.free < self.warn_below

    def describe(self) -> str:
        return f"{format_size(self.free)} free of {format_size(self.total)}"


def measure(path: Path, warn: Threshold, critical: Threshold) -> SpaceReport:
    """Space available to an unprivileged writer (f_bavail), like `df`."""
    stat = os.statvfs(path)
    total = stat.f_blocks * stat.f_frsize
    free = stat.f_bavail * stat.f_frsize
    return SpaceReport(total, free, warn.limit(total), critical.limit(total))


@dataclass(frozen=True)
class Mount:
    device: str
    mountpoint: str
    fstype: str

    @property
    def remote(self) -> bool:
        return self.fstype in REMOTE_TYPES or self.fstype.startswith("nfs")


def _unescape(field: str) -> str:
    """/proc/mounts writes spaces and tabs in octal (``\\040``)."""
    return (
        field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
        .replace("\\134", "\\")
    )


def mount_of(path: Path, mounts_file: Path = Path("/proc/mounts")) -> Mount | None:
    """The mount entry holding ``path`` (longest mount point that prefixes it)."""
    target = os.path.realpath(path)
    best: Mount | None = None
    try:
        lines = mounts_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = Mount(_unescape(fields[0]), _unescape(fields[1]), fields[2])
        point = mount.mountpoint.rstrip("/") or "/"
        inside = target == point or target.startswith(point + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best.mountpoint.rstrip("/") or "/")):
            best = mount
    return best
