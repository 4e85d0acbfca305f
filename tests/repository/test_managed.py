"""ManagedRepository: OMERO's path template, kept client paths, read-only files, clean removal."""

import stat
from datetime import datetime
from pathlib import Path, PurePosixPath

import pytest

from pixelvault.config import DEFAULT_TEMPLATE, check_template
from pixelvault.errors import InvalidInputError
from pixelvault.repository import WriteGuard
from pixelvault.repository.managed import (
    ManagedStore,
    TemplateValues,
    client_paths,
    expand,
    safe_part,
)
from pixelvault.sizes import Threshold
from tests.repository.test_files_store import UUID, make_repository

WHEN = datetime(2026, 3, 9, 14, 5, 7, 89_000)
VALUES = TemplateValues(user="alice", user_id=3, group="lab", group_id=5, perms="rwra--",
                        when=WHEN)


def managed(root: Path) -> ManagedStore:
    files = make_repository(root)
    return ManagedStore(WriteGuard(files.layout, UUID, Threshold.parse("0"),
                                   Threshold.parse("0")))


def test_omero_default_template() -> None:
    assert str(expand(DEFAULT_TEMPLATE, VALUES)) == "alice_3/2026-03/09/14-05-07.089"
    assert str(expand("%group%-%groupId%/%monthname%/%perms%/%increment%", VALUES, 4)) == \
        "lab-5/March/rwra--/4"


@pytest.mark.parametrize("bad", ["/abs/%time%", "../%time%", "%user%/%nope%/%time%", "%user%",
                                 ""])
def test_bad_templates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"token|relative|needs"):
        check_template(bad)


def test_hostile_user_names_cannot_leave_the_store() -> None:
    values = TemplateValues(user="../../etc", user_id=1, group="g/h", group_id=2,
                            perms="rw----", when=WHEN)
    path = expand("%user%/%group%/%time%", values)
    assert ".." not in path.parts and len(path.parts) == 3


@pytest.mark.parametrize(("name", "safe"), [("..", "__"), (".", "_"), ("a/b", "a_b"),
                                            ("nul\x00byte", "nul_byte"), ("", "_"),
                                            ("tab\there", "tab_here")])
def test_safe_part(name: str, safe: str) -> None:
    assert safe_part(name) == safe


def test_client_paths_keep_three_parent_directories(tmp_path: Path) -> None:
    base = tmp_path / "home" / "alice" / "data" / "exp1"
    paths = [base / "day2" / "a.ome.tif", base / "day2" / "b.ome.tif",
             base / "day3" / "c.ome.tif"]
    kept = [str(p) for p in client_paths(paths)]
    assert kept == ["alice/data/exp1/day2/a.ome.tif", "alice/data/exp1/day2/b.ome.tif",
                    "alice/data/exp1/day3/c.ome.tif"]
    assert [str(p) for p in client_paths([Path("/x.tif")])] == ["x.tif"]


def test_fileset_directories_files_and_removal(tmp_path: Path) -> None:
    store = managed(tmp_path / "OMERO")
    first = store.create_fileset_dir(DEFAULT_TEMPLATE, VALUES)
    twin = store.create_fileset_dir(DEFAULT_TEMPLATE, VALUES)  # same millisecond
    assert twin == PurePosixPath(f"{first}-2")
    with store.open_writer(first, PurePosixPath("exp/cells.tif"), 41, ["SHA1-160"]) as writer:
        writer.write(b"pixels")
        stored = writer.commit()
    on_disk = store.path(first) / "exp" / "cells.tif"
    assert on_disk.read_bytes() == b"pixels"
    assert stat.S_IMODE(on_disk.stat().st_mode) == 0o444  # imported files are read-only
    assert stored.relpath == Path("ManagedRepository") / str(first) / "exp" / "cells.tif"
    store.write_log(first, "imported 1 file\n")
    assert store.log_path(first).read_text() == "imported 1 file\n"
    with pytest.raises(InvalidInputError, match="leaves ManagedRepository"):
        store.path("../Files/1")
    store.remove_fileset(first)
    assert not store.path(first).exists() and not store.log_path(first).exists()
    assert store.path(twin).is_dir()  # its sibling stays, and so do the levels it needs
    for whole in ("", ".", "./"):  # the store itself is never a fileset's directory
        with pytest.raises(InvalidInputError, match="not a fileset's directory"):
            store.remove_fileset(PurePosixPath(whole))
    assert store.path(twin).is_dir()
    store.remove_fileset(twin)
    assert list(store.root.iterdir()) == []  # empty template levels go too
