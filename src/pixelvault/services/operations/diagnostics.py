"""Start-up checks, also printed by `pixelvault admin diagnostics`.

Each check says OK, WARN or FAIL and, for WARN and FAIL, what to do. A FAIL
that makes the repository unsafe to use blocks the server from starting.
"""

from __future__ import annotations

import os
import pwd
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from pixelvault.config import Settings
from pixelvault.errors import PixelvaultError
from pixelvault.repository import STORES, Layout, identity, locking, space
from pixelvault.services.vault import Vault, open_vault
from pixelvault.sizes import format_size

SEED_LOCKING_ADVICE = (
    "remote shares (NFS, CIFS, AFS) need working locks; if you see 'Bad file descriptor' "
    "errors, use directly connected disks"
)


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""
    blocks_start: bool = False

    def line(self) -> str:
        text = f"{self.status.value:<4}  {self.name}: {self.detail}"
        return f"{text} -> {self.fix}" if self.fix else text

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def fail(name: str, detail: str, fix: str, *, blocks: bool = True) -> Check:
    return Check(name, Status.FAIL, detail, fix, blocks)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.WARN, detail, fix)


def check_directory(root: Path) -> list[Check]:
    """Exists, is a directory, readable, owned by the user running pixelvault."""
    if not root.exists():
        return [fail("data dir", f"{root} does not exist",
                     "mount the share, or create the repository with `pixelvault admin init`")]
    if not root.is_dir():
        return [fail("data dir", f"{root} is not a directory",
                     "set data.dir to a directory (`pixelvault config set data.dir PATH`)")]
    checks = [ok("data dir", f"{root} exists")]
    if os.access(root, os.R_OK | os.X_OK):
        checks.append(ok("readable", f"{root} is readable"))
    else:
        checks.append(fail("readable", f"{root} is not readable by {user_name(os.geteuid())}",
                           f"chmod u+rx {root} or run pixelvault as its owner"))
    me, owner = os.geteuid(), root.stat().st_uid
    if me == owner:
        checks.append(ok("owner", f"owned by {user_name(owner)}, the user running pixelvault"))
    else:
        checks.append(fail(
            "owner",
            f"{root} is owned by {user_name(owner)}, but pixelvault runs as {user_name(me)}",
            f"run pixelvault as {user_name(owner)}, or `chown -R {user_name(me)} {root}`",
        ))
    return checks


def check_identity(layout: Layout, uuid: str) -> Check:
    try:
        identity.verify(layout, uuid)
    except PixelvaultError as exc:
        return fail("identity", str(exc).split(";")[0],
                    "mount the share or set data.dir to the repository of this catalog "
                    "(`pixelvault config get data.dir`)")
    return ok("identity", f"marker of repository {uuid} matches the catalog")


def check_writable(layout: Layout, uuid: str) -> Check:
    """A real write, inside our own identity directory only (never a foreign dir)."""
    probe = layout.identity_dir(uuid) / f".write-probe-{uuidlib.uuid4().hex}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        return fail("writable", f"cannot write in {layout.root}: {exc.strerror}",
                    f"make {layout.root} writable by {user_name(os.geteuid())} "
                    "(and check the filesystem is not mounted read-only)")
    if not os.access(layout.root, os.W_OK):
        return fail("writable", f"{layout.root} is not writable by {user_name(os.geteuid())}",
                    f"chmod u+w {layout.root}")
    return ok("writable", f"{layout.root} is writable")


def check_stores(layout: Layout) -> Check:
    missing = [s.value for s in STORES if not layout.store(s).is_dir()]
    if missing:
        return fail("stores", f"missing: {', '.join(missing)}",
                    "run `pixelvault admin init` to recreate them (with the server stopped)")
    return ok("stores", ", ".join(s.value for s in STORES))


def check_locking(layout: Layout, uuid: str) -> Check:
    problem = locking.probe_locking(layout.identity_dir(uuid))
    if problem:
        return fail("locking", problem, SEED_LOCKING_ADVICE)
    holder = locking.current_holder(layout.lock_file(uuid))
    state = f"held by {holder}" if holder else "not held"
    return ok("locking", f"POSIX locks work between processes; repository lock {state}")


def check_filesystem(root: Path) -> Check:
    mount = space.mount_of(root)
    if mount is None:
        return warn("filesystem", "cannot tell the filesystem type (no /proc/mounts)",
                    "make sure the data dir is on a local disk with working locks")
    detail = f"{mount.fstype} ({mount.device} mounted at {mount.mountpoint})"
    if mount.remote:
        return warn("filesystem", f"remote share: {detail}",
                    SEED_LOCKING_ADVICE + "; if the share may fail to mount, make the mount "
                    "point read-only for the pixelvault user")
    return ok("filesystem", detail)


def check_space(root: Path, settings: Settings) -> Check:
    report = space.measure(root, settings.space_warn, settings.space_critical)
    if not report.writes_allowed:
        return fail("free space",
                    f"{report.describe()}, below space.critical "
                    f"({format_size(report.critical_below)}): new writes are refused",
                    "free space, or move the repository (`pixelvault admin move NEW_DIR`)",
                    blocks=False)
    if report.low:
        return warn("free space",
                    f"{report.describe()}, below space.warn ({format_size(report.warn_below)})",
                    "free space soon, or move the repository (`pixelvault admin move NEW_DIR`)")
    return ok("free space", report.describe())


def repository_checks(vault: Vault, *, probe_locks: bool = True) -> list[Check]:
    """Every check of the data dir, in the order a sysadmin would debug them."""
    layout = vault.layout
    checks = check_directory(layout.root)
    if any(c.status is Status.FAIL and c.name == "data dir" for c in checks):
        return [*checks, check_identity(layout, vault.uuid)]
    identity_check = check_identity(layout, vault.uuid)
    checks.append(identity_check)
    steps: list[Callable[[], Check]] = [lambda: check_filesystem(layout.root),
                                        lambda: check_space(layout.root, vault.settings)]
    if identity_check.status is Status.OK:
        steps[:0] = [lambda: check_writable(layout, vault.uuid), lambda: check_stores(layout)]
        if probe_locks:
            steps.insert(2, lambda: check_locking(layout, vault.uuid))
    checks.extend(step() for step in steps)
    return checks


def run_diagnostics(settings: Settings) -> list[Check]:
    """All checks, starting with the catalog; never raises for an expected problem."""
    try:
        vault = open_vault(settings)
    except PixelvaultError as exc:
        return [fail("catalog", str(exc).split(";")[0], str(exc).rpartition(";")[2].strip()),
                *check_directory(settings.data_dir)]
    try:
        catalog_check = ok("catalog", f"{vault.catalog.engine.url.render_as_string(True)}, "
                                      f"repository {vault.uuid}")
        return [catalog_check, *repository_checks(vault)]
    finally:
        vault.close()


def blocking(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status is Status.FAIL and c.blocks_start]
