"""Real microscope and camera files (``../shared/samples`` beside the repository, see its
MANIFEST.json) read by pixelvault and checked against an independent reader of each
format: aicspylibczi for CZI (pixelvault reads through pylibCZIrw), nd2's whole-file
array for ND2 (pixelvault reads frame by frame), tifffile.imread for TIFF (pixelvault
reads through zarr views and single pages), imagecodecs (libpng, libjpeg, giflib) for
PNG, JPEG and GIF (pixelvault reads through Pillow).

Only a few planes of each file are compared, so the module stays fast.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pixelvault.errors import CorruptFileError
from pixelvault.formats import open_reader
from pixelvault.formats.base import Reader, Series

# The repository's parent holds shared/ (the checkout and CI's clone alike).
SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"
pytestmark = pytest.mark.skipif(
    not (SAMPLES / "MANIFEST.json").is_file(),
    reason=f"no real sample files at {SAMPLES.resolve()} (a clone without ../shared)")


def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"{name} is not among the samples at {SAMPLES.resolve()}")
    return path


@pytest.fixture
def opened(request: pytest.FixtureRequest) -> Iterator[tuple[Path, Reader, Series]]:
    path = sample(request.param)
    reader = open_reader(path)
    try:
        yield path, reader, reader.metadata().series[0]
    finally:
        reader.close()


def plane(reader: Reader, series: Series, z: int, c: int, t: int) -> np.ndarray[Any, Any]:
    return reader.read(series.index, 0, z, c, t, 0, 0, series.size_x, series.size_y)


def corners(series: Series) -> list[tuple[int, int, int]]:
    """The first and last plane and one in the middle: (z, c, t)."""
    last = (series.size_z - 1, series.size_c - 1, series.size_t - 1)
    middle = (series.size_z // 2, series.size_c // 2, series.size_t // 2)
    return sorted({(0, 0, 0), middle, last})


def sizes(series: Series) -> tuple[int, ...]:
    return (series.size_x, series.size_y, series.size_z, series.size_c, series.size_t)


# CZI --------------------------------------------------------------------------------
CZI_TYPES = {"gray8": "uint8", "gray16": "uint16", "bgr24": "uint8", "gray32float": "float"}
CZI = ["czi_s1t1c1z1.czi", "czi_CD_s1t3c2z5.czi", "czi_RGB-8bit.czi",
       "czi_RGB-multichannel.czi", "czi_mosaic_test.czi", "czi_tiles_z.czi"]


def czi_distance(czi: Any, axis: str) -> float | None:
    """Scaling/Items/Distance[@Id=axis]/Value, metres, as micrometres."""
    for distance in czi.meta.iter("Distance"):
        if distance.get("Id") == axis and distance.findtext("Value"):
            return float(distance.findtext("Value")) * 1e6
    return None


@pytest.mark.parametrize("opened", CZI, indirect=True)
def test_czi_against_aicspylibczi(opened: tuple[Path, Reader, Series]) -> None:
    aicspylibczi = pytest.importorskip("aicspylibczi")
    path, reader, series = opened
    czi = aicspylibczi.CziFile(str(path))
    (shape,) = czi.get_dims_shape()
    count = {axis: high - low for axis, (low, high) in shape.items()}
    rgb = czi.pixel_type.startswith("bgr")
    if czi.is_mosaic():
        box = czi.get_mosaic_bounding_box()
        width, height = box.w, box.h
    else:
        width, height = count["X"], count["Y"]
    assert sizes(series) == (width, height, count.get("Z", 1),
                             count.get("C", 1) * (3 if rgb else 1), count.get("T", 1))
    assert series.pixel_type == CZI_TYPES[czi.pixel_type]
    for z, c, t in corners(series):
        where = {axis: value for axis, value in (("Z", z), ("C", c // 3 if rgb else c),
                                                 ("T", t)) if axis in count}
        if czi.is_mosaic():
            expected = czi.read_mosaic(scale_factor=1.0, **where).squeeze()
        else:
            expected = czi.read_image(**where)[0].squeeze()
            if rgb:  # Zeiss stores blue, green, red; pixelvault's channels are R, G, B
                expected = expected[..., 2 - c % 3]
        np.testing.assert_array_equal(plane(reader, series, z, c, t), expected,
                                      err_msg=f"{path.name} z={z} c={c} t={t}")
    assert series.physical_size_x == pytest.approx(czi_distance(czi, "X"))
    assert series.physical_size_y == pytest.approx(czi_distance(czi, "Y"))
    if series.size_z > 1:
        assert series.physical_size_z == pytest.approx(czi_distance(czi, "Z"))


# ND2 --------------------------------------------------------------------------------
@pytest.mark.parametrize("opened", ["nd2_pims_cluster.nd2"], indirect=True)
def test_nd2_against_its_whole_array(opened: tuple[Path, Reader, Series]) -> None:
    import nd2

    path, reader, series = opened
    with nd2.ND2File(str(path)) as f:
        count = dict(f.sizes)
        data = f.asarray()
        axes = list(f.sizes)
        voxel = f.voxel_size()
        dtype = f.dtype
    assert sizes(series) == (count["X"], count["Y"], count.get("Z", 1), count.get("C", 1),
                             count.get("T", 1))
    assert series.dtype == dtype
    for z, c, t in corners(series):
        key = tuple({"Z": z, "C": c, "T": t}.get(a, slice(None)) for a in axes)
        np.testing.assert_array_equal(plane(reader, series, z, c, t), data[key])
    assert (series.physical_size_x, series.physical_size_y, series.physical_size_z) == \
        pytest.approx((voxel.x, voxel.y, voxel.z))


# TIFF -------------------------------------------------------------------------------
# tifffile's axis letters -> OMERO's: samples are channels; unlabelled page sequences
# (Q, I) are time points, as Bio-Formats reads plain multi-page TIFFs.
TIFF_AXES = {"Z": "z", "C": "c", "S": "c", "T": "t", "Q": "t", "I": "t"}
TIFF = ["pims_stuck.tif", "pybf_Channel1-01-A-01.tif", "biapol_blobs.tif",
        "biapol_mitosis_mod.tif", "biapol_IXMtest_A02_s9.tif", "biapol_membrane_labels.tif",
        "skimage_blobs_3d_fiji_skeleton.tif", "skimage_chessboard_GRAY_U16B.tif",
        "skimage_multipage_rgb.tif", "skimage_multipage.tif", "pims_tiff_stack.tif",
        "biapol_BBBC007_20P1_POS0005.tif", "biapol_nuclei_labels.tif"]


@pytest.mark.parametrize("opened", TIFF, indirect=True)
def test_tiff_against_tifffile_imread(opened: tuple[Path, Reader, Series]) -> None:
    import tifffile

    path, reader, series = opened
    with tifffile.TiffFile(path) as tif:
        axes = tif.series[0].axes
        resolution = tif.pages.first.tags.get("XResolution")
        unit = tif.pages.first.tags.get("ResolutionUnit")
        imagej = tif.imagej_metadata
    data = tifffile.imread(path)
    count = {"x": data.shape[axes.index("X")], "y": data.shape[axes.index("Y")],
             "z": 1, "c": 1, "t": 1}
    for position, axis in enumerate(axes):
        if axis in TIFF_AXES:
            count[TIFF_AXES[axis]] *= data.shape[position]
    assert len([a for a in axes if a not in "XY"]) <= 2  # one letter each in these files
    assert sizes(series) == (count["x"], count["y"], count["z"], count["c"], count["t"])
    assert series.dtype == data.dtype.newbyteorder("=")
    for z, c, t in corners(series):
        key = tuple({"z": z, "c": c, "t": t}.get(TIFF_AXES.get(a, ""), slice(None))
                    for a in axes)
        np.testing.assert_array_equal(plane(reader, series, z, c, t), data[key],
                                      err_msg=f"{path.name} z={z} c={c} t={t}")
    # Calibration where the file has one: resolution tags in inches (ImageJ's own
    # unit, when it has none, leaves the image uncalibrated).
    if resolution is not None and unit is not None and int(unit.value) == 2 and not imagej:
        numerator, denominator = resolution.value
        assert series.physical_size_x == pytest.approx(25400 * denominator / numerator)
    else:
        assert series.physical_size_x is None


# PNG, JPEG, GIF ---------------------------------------------------------------------
RASTER = ["pims_T76S3F00001.png", "skimage_cell.png", "skimage_checker_bilevel.png",
          "skimage_ihc.png", "skimage_palette_color.png", "skimage_retina.jpg",
          "skimage_no_time_for_that_tiny.gif"]


@pytest.mark.parametrize("opened", RASTER, indirect=True)
def test_raster_against_imagecodecs(opened: tuple[Path, Reader, Series]) -> None:
    imagecodecs = pytest.importorskip("imagecodecs")
    path, reader, series = opened
    frames = imagecodecs.imread(path, index=None) if path.suffix == ".gif" \
        else imagecodecs.imread(path)[np.newaxis]
    frames = frames if frames.ndim == 4 else frames[..., np.newaxis]  # t, y, x, samples
    assert sizes(series) == (frames.shape[2], frames.shape[1], 1, frames.shape[3],
                             frames.shape[0])
    bilevel = series.pixel_type == "bit"
    assert series.dtype == (np.dtype(np.bool_) if bilevel else frames.dtype)
    for z, c, t in corners(series):
        expected = frames[t, :, :, c]
        np.testing.assert_array_equal(plane(reader, series, z, c, t),
                                      expected > 0 if bilevel else expected,
                                      err_msg=f"{path.name} c={c} t={t}")


def test_a_damaged_jpeg_is_a_clear_corrupt_file_error() -> None:
    path = sample("skimage_truncated.jpg")
    with pytest.raises(CorruptFileError) as raised:
        reader = open_reader(path)
        try:
            series = reader.metadata().series[0]
            plane(reader, series, 0, 0, 0)
        finally:
            reader.close()
    message = str(raised.value)
    assert message.startswith("skimage_truncated.jpg") and "\n" not in message
