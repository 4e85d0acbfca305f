"""TIFFs cut short are refused as truncated, naming the file and the byte it ends at,
instead of importing as the single plane tifffile still finds in them."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from pixelvault.errors import CorruptFileError
from pixelvault.formats import open_reader
from pixelvault.services import imports

DATA = np.random.default_rng(7).integers(0, 255, (4, 3, 64, 64), dtype=np.uint8)


def imagej(path: Path) -> None:
    tifffile.imwrite(path, DATA, imagej=True, metadata={"axes": "ZCYX", "unit": "um"})


def ome(path: Path) -> None:
    tifffile.imwrite(path, DATA, ome=True, metadata={"axes": "ZCYX"})


def bigtiff_tiled(path: Path) -> None:
    tifffile.imwrite(path, DATA.reshape(12, 64, 64), bigtiff=True, tile=(32, 32))


def striped_pages(path: Path) -> None:
    """Twelve pages written one by one (twelve series), in strips of 16 rows."""
    with tifffile.TiffWriter(path) as tif:
        for plane in DATA.reshape(12, 64, 64):
            tif.write(plane, contiguous=False, rowsperstrip=16)


def cut(path: Path, fraction: float) -> int:
    data = path.read_bytes()
    size = int(len(data) * fraction)
    path.write_bytes(data[:size])
    return size


def metadata_of(path: Path) -> Any:
    reader = open_reader(path)
    try:
        return reader.metadata()
    finally:
        reader.close()


@pytest.mark.parametrize("write", [imagej, ome, bigtiff_tiled, striped_pages],
                         ids=["imagej", "ome", "bigtiff-tiled", "striped"])
@pytest.mark.parametrize("fraction", [1 / 3, 0.9])
def test_a_truncated_tiff_is_refused_with_its_end(tmp_path: Path, write: Any,
                                                  fraction: float) -> None:
    path = tmp_path / "stack.ome.tif" if write is ome else tmp_path / "stack.tif"
    write(path)
    assert sum(s.plane_count for s in metadata_of(path).series) == 12
    size = cut(path, fraction)
    with pytest.raises(CorruptFileError) as raised:
        metadata_of(path)
    message = str(raised.value)
    assert message.startswith(f"{path.name} is truncated: ")
    assert f"byte {size}" in message and "\n" not in message


def test_imagej_planes_missing_from_a_whole_file_are_named(tmp_path: Path) -> None:
    """An ImageJ description declaring more planes than the file holds (the file was
    rewritten short by another program): refused, not read as fewer planes."""
    path = tmp_path / "short.tif"
    description = ("ImageJ=1.54f\nimages=12\nchannels=3\nslices=4\nhyperstack=true\n"
                   "mode=grayscale\n")
    with tifffile.TiffWriter(path) as tif:
        for plane in DATA.reshape(12, 64, 64)[:5]:
            tif.write(plane, description=description, contiguous=False,
                      metadata=None)
            description = None  # type: ignore[assignment]
    with pytest.raises(CorruptFileError, match=r"declares 12 planes .* holds 5"):
        metadata_of(path)


def test_the_import_plan_names_the_truncated_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.tif", tmp_path / "bad.tif"
    imagej(good)
    imagej(bad)
    size = cut(bad, 1 / 3)
    plan = imports.plan([tmp_path])
    assert [f.files[0].name for f in plan.filesets] == ["good.tif"]
    (skipped,) = plan.skipped
    assert skipped.path.name == "bad.tif"
    assert skipped.reason.startswith("bad.tif is truncated: it ends at byte "
                                     f"{size}")
