"""A multi-file OME-TIFF: one image whose planes are spread over several files."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from pixelvault.errors import CorruptFileError
from pixelvault.formats import open_reader
from pixelvault.services import imports

XML = """<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:{own}">
 <Image ID="Image:0" Name="spread">
  <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="32" SizeY="24"
          SizeZ="3" SizeC="1" SizeT="1">
   <Channel ID="Channel:0:0" SamplesPerPixel="1"/>
   {blocks}
  </Pixels>
 </Image>
</OME>"""
UUIDS = [f"6f1b5c7e-0000-4000-8000-00000000000{i}" for i in range(3)]


def make_set(directory: Path) -> tuple[list[Path], np.ndarray]:
    planes = np.random.default_rng(3).integers(0, 60000, (3, 24, 32), dtype=np.uint16)
    names = [f"spread_z{z}.ome.tif" for z in range(3)]
    blocks = "".join(
        f'<TiffData FirstZ="{z}" IFD="0" PlaneCount="1"><UUID FileName="{names[z]}">'
        f"urn:uuid:{UUIDS[z]}</UUID></TiffData>" for z in range(3))
    paths = []
    for z, name in enumerate(names):
        path = directory / name
        tifffile.imwrite(path, planes[z], description=XML.format(own=UUIDS[z], blocks=blocks),
                         metadata=None, photometric="minisblack")
        paths.append(path)
    return paths, planes


def test_the_set_reads_as_one_image_from_any_of_its_files(tmp_path: Path) -> None:
    paths, planes = make_set(tmp_path)
    for opened in (paths[0], paths[2]):
        reader = open_reader(opened)
        try:
            assert sorted(reader.used_files()) == sorted(paths)
            (series,) = reader.metadata().series
            assert (series.size_z, series.size_x, series.size_y) == (3, 32, 24)
            for z in range(3):
                np.testing.assert_array_equal(reader.read(0, 0, z, 0, 0, 0, 0, 32, 24),
                                              planes[z])
        finally:
            reader.close()


def test_a_missing_part_is_named(tmp_path: Path) -> None:
    paths, _ = make_set(tmp_path)
    paths[1].unlink()
    plan = imports.plan([tmp_path])
    assert plan.filesets == []
    assert {s.path.name for s in plan.skipped} == {paths[0].name, paths[2].name}
    assert all("spread_z1.ome.tif" in s.reason or "missing" in s.reason for s in plan.skipped)
    with pytest.raises(CorruptFileError):
        open_reader(paths[0]).metadata()


def test_the_set_is_one_fileset(tmp_path: Path) -> None:
    paths, _ = make_set(tmp_path)
    plan = imports.plan([tmp_path])
    assert len(plan.filesets) == 1 and sorted(plan.filesets[0].files) == sorted(paths)


def test_a_companion_set_is_one_fileset_and_its_parts_are_not_skipped(tmp_path: Path) -> None:
    from pixelvault.errors import UnsupportedFormatError
    from tests.formats.samples import companion_set

    sample = companion_set(tmp_path)
    plan = imports.plan([tmp_path])
    assert plan.skipped == [] and len(plan.filesets) == 1
    assert sorted(p.name for p in plan.filesets[0].files) == [
        "part-c0.ome.tif", "part-c1.ome.tif", "set.companion.ome"]
    assert plan.filesets[0].files[0] == sample.path  # the reader opens the companion
    with pytest.raises(UnsupportedFormatError, match=r"set\.companion\.ome"):
        open_reader(tmp_path / "part-c0.ome.tif").metadata()
    (tmp_path / "part-c1.ome.tif").unlink()
    with pytest.raises(CorruptFileError, match="missing"):
        open_reader(sample.path).metadata()
