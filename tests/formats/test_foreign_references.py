"""Every reader that follows a name written inside a file opens only members of the
fileset it is given; anything else is a ForeignFileError before a byte of it is read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from pixelvault.formats import ForeignFileError, Members, open_reader
from pixelvault.services import imports
from tests.formats.samples import companion_set, ome_zarr
from tests.formats.test_multifile import make_set


def secret(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, np.full((24, 32), 4242, np.uint16), photometric="minisblack")
    return path


def test_names_are_resolved_lexically_and_confined(tmp_path: Path) -> None:
    inside = tmp_path / "set"
    inside.mkdir()
    (inside / "a.tif").write_bytes(b"a")
    (inside / "b.tif").write_bytes(b"b")
    elsewhere = secret(tmp_path / "elsewhere" / "c.tif")
    os.symlink(elsewhere, inside / "link.tif")
    members = Members.of([inside / "a.tif", inside / "b.tif"])
    referrer = inside / "a.tif"
    assert members.resolve(referrer, "b.tif") == inside / "b.tif"
    assert members.resolve(referrer, "./sub/../b.tif") == inside / "b.tif"
    for hostile in ("../elsewhere/c.tif", str(elsewhere), "link.tif", "b.tif\x00",
                    "../set/../elsewhere/c.tif", ""):
        with pytest.raises(ForeignFileError):
            members.resolve(referrer, hostile)
    with pytest.raises(ForeignFileError):
        members.open(elsewhere)
    # a tree (an OME-Zarr) counts with everything below it, but never through a link
    tree = tmp_path / "image.zarr"
    (tree / "0").mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere", tree / "linked")
    zarr_members = Members.of([tree])
    assert zarr_members.contains(tree / "0" / "zarr.json")
    assert not zarr_members.contains(tree / "linked" / "c.tif")


def test_a_multi_file_ome_tiff_reads_only_the_members_it_is_given(tmp_path: Path) -> None:
    paths, planes = make_set(tmp_path)
    whole = Members.of(paths)
    reader = open_reader(paths[0], whole)
    try:
        np.testing.assert_array_equal(reader.read(0, 0, 2, 0, 0, 0, 0, 32, 24), planes[2])
    finally:
        reader.close()
    with pytest.raises(ForeignFileError, match=r"spread_z1\.ome\.tif"):
        open_reader(paths[0], Members.of([paths[0], paths[2]]))


def test_the_parts_of_a_set_come_from_what_is_imported_only(tmp_path: Path) -> None:
    """Naming one file of a set: its siblings are not pulled in from the directory."""
    paths, _ = make_set(tmp_path)
    plan = imports.plan([paths[0]])
    assert plan.filesets == []
    assert "not one of the files imported with it" in plan.skipped[0].reason
    assert len(imports.plan([tmp_path]).filesets) == 1


def test_a_companion_naming_a_file_elsewhere_is_refused(tmp_path: Path) -> None:
    (tmp_path / "set").mkdir()
    sample = companion_set(tmp_path / "set")
    target = secret(tmp_path / "elsewhere" / "part-c1.ome.tif")
    xml = sample.path.read_text().replace('FileName="part-c1.ome.tif"',
                                          f'FileName="../elsewhere/{target.name}"')
    sample.path.write_text(xml)
    with pytest.raises(ForeignFileError, match="not one of the files imported with it"):
        open_reader(sample.path, Members.of(sorted((tmp_path / "set").iterdir()))).metadata()
    plan = imports.plan([tmp_path / "set"])
    assert all(target not in f.files for f in plan.filesets)
    assert any("not one of the files imported with it" in s.reason for s in plan.skipped)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_an_ome_zarr_naming_arrays_elsewhere_is_refused(tmp_path: Path, version: str) -> None:
    sample = ome_zarr(version)(tmp_path / "mine")
    other = ome_zarr(version)(tmp_path / "theirs")
    name = ".zattrs" if version == "0.4" else "zarr.json"
    meta = json.loads((sample.path / name).read_text())
    attrs = meta if version == "0.4" else meta["attributes"]["ome"]
    relative = os.path.relpath(other.path, sample.path)
    attrs["multiscales"][0]["datasets"][0]["path"] = f"{relative}/0"
    (sample.path / name).write_text(json.dumps(meta))
    with pytest.raises(ForeignFileError, match="not one of the files imported with it"):
        open_reader(sample.path, Members.of([sample.path]))


def test_an_ome_zarr_holding_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    sample = ome_zarr("0.5")(tmp_path / "mine")
    target = secret(tmp_path / "elsewhere" / "secret.tif")
    os.symlink(target, sample.path / "notes.txt")
    plan = imports.plan([sample.path])
    assert plan.filesets == []
    assert "symbolic link" in plan.skipped[0].reason


def test_a_leica_xml_container_naming_other_files_is_not_read(tmp_path: Path) -> None:
    secret(tmp_path / "elsewhere" / "x.tif")
    xlif = tmp_path / "set" / "image.lof"
    xlif.parent.mkdir()
    xlif.write_text(
        '<?xml version="1.0" encoding="utf-8"?><LMSDataContainerHeader Version="2">'
        '<Element Name="x" UniqueID="1"><Data><Image><ImageDescription><Channels>'
        '<ChannelDescription DataType="0" ChannelTag="0" Resolution="16" BytesInc="0"/>'
        '</Channels><Dimensions><DimensionDescription DimID="1" NumberOfElements="32" '
        'BytesInc="2"/><DimensionDescription DimID="2" NumberOfElements="24" BytesInc="64"/>'
        '</Dimensions></ImageDescription></Image></Data><Memory Size="1536" '
        'MemoryBlockID="MemBlock_1"><Frame File="../elsewhere/x.tif" Offset="0" '
        'Size="1536"/></Memory><Children/></Element></LMSDataContainerHeader>',
        encoding="utf-16")
    plan = imports.plan([xlif.parent])
    assert plan.filesets == []
    assert len(plan.skipped) == 1
