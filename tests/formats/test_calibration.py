"""Pixel sizes of whole-slide and vendor TIFFs, each file written by tifffile with its
maker's description, XML, XMP or tags, read back through pixelvault's TIFF reader."""

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from pixelvault.formats import open_reader
from pixelvault.formats.base import Series

PLANE = np.arange(64 * 48, dtype=np.uint8).reshape(48, 64)


def series_of(path: Path) -> Series:
    reader = open_reader(path)
    try:
        assert type(reader).__name__ == "TiffReader"
        series = reader.metadata().series[0]
        np.testing.assert_array_equal(reader.read(0, 0, 0, 0, 0, 0, 0, 64, 48), PLANE)
        return series
    finally:
        reader.close()


def sizes(series: Series) -> tuple[float | None, ...]:
    return (series.physical_size_x, series.physical_size_y, series.physical_size_z,
            series.time_increment)


def test_aperio_svs_mpp(tmp_path: Path) -> None:
    path = tmp_path / "slide.svs"
    tifffile.imwrite(path, PLANE, description=(
        "Aperio Image Library v12.0.15 \r\n64x48 [0,0 64x48] (240x240) JPEG/RGB Q=70"
        "|AppMag = 20|StripeWidth = 2040|ScanScope ID = SS1234|MPP = 0.4990|Left = 25.5"))
    assert sizes(series_of(path)) == pytest.approx((0.499, 0.499, None, None))


def test_hamamatsu_ndpi_resolution_in_centimetres(tmp_path: Path) -> None:
    # Named .tif: tifffile reads a .ndpi name with NDPI's 64-bit first offset, which its
    # writer does not produce; the NDPI tags are what mark the file as Hamamatsu's.
    path = tmp_path / "slide.tif"
    tifffile.imwrite(path, PLANE, resolution=(44_150, 44_100), resolutionunit="CENTIMETER",
                     extratags=[(65420, "I", 1, 1, True),     # NDPI format flag
                                (65421, "I", 1, 20, True)],   # source lens (20x)
                     description="Hamamatsu NDP")
    assert sizes(series_of(path)) == pytest.approx((1e4 / 44_150, 1e4 / 44_100, None, None))


def test_leica_scn_view_and_dimension(tmp_path: Path) -> None:
    path = tmp_path / "slide.scn"
    xml = ('<?xml version="1.0" encoding="utf-8"?>'
           '<scn xmlns="http://www.leica-microsystems.com/scn/2010/10/01">'
           '<collection name="slide" sizeX="76000000" sizeY="26000000">'
           '<image name="tissue" uuid="1"><creationDate>2026-01-01T00:00:00Z</creationDate>'
           '<view sizeX="32000" sizeY="24000" offsetX="0" offsetY="0"/>'
           '<scanSettings><objectiveSettings><objective>40</objective>'
           '</objectiveSettings></scanSettings>'
           '<pixels sizeX="64" sizeY="48"><dimension sizeX="64" sizeY="48" r="0" ifd="0"/>'
           '</pixels></image></collection></scn>')
    tifffile.imwrite(path, PLANE, description=xml)
    assert sizes(series_of(path)) == pytest.approx((0.5, 0.5, None, None))


def test_philips_dicom_pixel_spacing(tmp_path: Path) -> None:
    path = tmp_path / "slide.tiff"
    xml = ('<?xml version="1.0" encoding="UTF-8" ?><DataObject ObjectType="DPUfsImport">'
           '<Attribute Name="DICOM_MANUFACTURER" Group="0x0008" Element="0x0070" '
           'PMSVR="IString">PHILIPS</Attribute>'
           '<Attribute Name="PIM_DP_SCANNED_IMAGES" Group="0x301D" Element="0x1003" '
           'PMSVR="IDataObjectArray"><Array>'
           '<DataObject ObjectType="DPScannedImage">'
           '<Attribute Name="PIM_DP_IMAGE_TYPE" PMSVR="IString">LABELIMAGE</Attribute>'
           '<Attribute Name="DICOM_PIXEL_SPACING" PMSVR="IDoubleArray">'
           '&quot;0.1&quot; &quot;0.1&quot;</Attribute></DataObject>'
           '<DataObject ObjectType="DPScannedImage">'
           '<Attribute Name="PIM_DP_IMAGE_TYPE" PMSVR="IString">WSI</Attribute>'
           '<Attribute Name="PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE" PMSVR="IDataObjectArray">'
           '<Array><DataObject ObjectType="PixelDataRepresentation">'
           '<Attribute Name="DICOM_PIXEL_SPACING" PMSVR="IDoubleArray">'
           '&quot;0.000227&quot; &quot;0.000250&quot;</Attribute></DataObject>'
           '<DataObject ObjectType="PixelDataRepresentation">'
           '<Attribute Name="DICOM_PIXEL_SPACING" PMSVR="IDoubleArray">'
           '&quot;0.000454&quot; &quot;0.000500&quot;</Attribute></DataObject>'
           '</Array></Attribute></DataObject></Array></Attribute></DataObject>')
    tifffile.imwrite(path, PLANE, description=xml, software="Philips DP v1.0")
    # DICOM's spacing is row (Y) then column (X), in millimetres
    assert sizes(series_of(path)) == pytest.approx((0.25, 0.227, None, None))


def test_ventana_bif_scanres_in_xmp(tmp_path: Path) -> None:
    path = tmp_path / "slide.bif"
    xmp = (b'<?xml version="1.0" encoding="utf-8"?><iScan BuildVersion="3.3.1.1" '
           b'Magnification="40" ScanRes="0.2325" UnitNumber="BI11N0001"/>')
    tifffile.imwrite(path, PLANE, description="level=0 mag=40 quality=95",
                     software="ScanOutputManager 1.1.0.15854",
                     extratags=[(700, "B", len(xmp), xmp, True)])
    assert sizes(series_of(path)) == pytest.approx((0.2325, 0.2325, None, None))


@pytest.mark.parametrize("profile", [True, False], ids=["scan-profile", "resolution-tags"])
def test_qptiff(tmp_path: Path, profile: bool) -> None:
    path = tmp_path / "slide.qptiff"
    scan = ("<ScanProfile><root><ScanResolution><PixelSizeMicrons>0.4981"
            "</PixelSizeMicrons><Magnification>20</Magnification></ScanResolution></root>"
            "</ScanProfile>") if profile else ""
    xml = ('<?xml version="1.0" encoding="utf-16"?><PerkinElmer-QPI-ImageDescription>'
           "<DescriptionVersion>2</DescriptionVersion><ImageType>FullResolution</ImageType>"
           f"<ResolutionUnit>cm</ResolutionUnit>{scan}<Name>DAPI</Name>"
           "</PerkinElmer-QPI-ImageDescription>")
    tifffile.imwrite(path, PLANE, description=xml, software="PerkinElmer-QPI",
                     resolution=(20_000, 20_000), resolutionunit="CENTIMETER")
    expected = 0.4981 if profile else 0.5
    assert sizes(series_of(path))[:2] == pytest.approx((expected, expected))


def test_micromanager_plane_metadata(tmp_path: Path) -> None:
    frame = json.dumps({"PixelSizeUm": 0.108, "Camera": "Andor", "z-step_um": 0.3,
                        "Interval_ms": 1500}).encode()
    path = tmp_path / "mm.tif"
    tifffile.imwrite(path, PLANE, extratags=[(51123, "s", 0, frame, True)])
    assert sizes(series_of(path)) == pytest.approx((0.108, 0.108, 0.3, 1.5))


@pytest.mark.parametrize(("unit", "resolution", "expected"), [
    ("CENTIMETER", 25_000, 0.4), ("INCH", 50_800, 0.5)])
def test_plain_tiff_resolution_tags(tmp_path: Path, unit: str, resolution: float,
                                    expected: float) -> None:
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, PLANE, resolution=(resolution, resolution), resolutionunit=unit)
    assert sizes(series_of(path)) == pytest.approx((expected, expected, None, None))


def test_plain_tiff_without_a_unit_has_no_calibration(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, PLANE, resolution=(3, 3), resolutionunit="NONE")
    assert sizes(series_of(path)) == (None, None, None, None)


def test_imagej_hyperstack(tmp_path: Path) -> None:
    path = tmp_path / "stack.tif"
    data = np.zeros((3, 2, 48, 64), np.uint8)
    data[0, 0] = PLANE
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.2, 1 / 0.2),
                     metadata={"axes": "ZCYX", "unit": "um", "spacing": 0.75,
                               "finterval": 4.0})
    assert sizes(series_of(path)) == pytest.approx((0.2, 0.2, 0.75, 4.0))


def test_unreadable_vendor_fields_leave_the_image_uncalibrated(tmp_path: Path) -> None:
    path = tmp_path / "odd.tif"
    tifffile.imwrite(path, PLANE, imagej=True, metadata={"unit": "um", "spacing": "abc",
                                                         "finterval": "soon"})
    series = series_of(path)
    assert series.physical_size_z is None and series.time_increment is None
