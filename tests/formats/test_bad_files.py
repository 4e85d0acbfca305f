"""Damaged, hostile and unknown files: one clear error each, never a crash or a stub."""

import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile

from pixelvault.errors import CorruptFileError, InvalidInputError, UnsupportedFormatError
from pixelvault.formats import open_reader
from tests.formats.lif_files import write_lif
from tests.formats.samples import (
    Sample,
    czi_file,
    lif_file,
    nd2_file,
    ome_tiff,
    ome_zarr,
    ome_zarr_plate,
    png_rgb,
)


def read_everything(path: Path) -> None:
    reader = open_reader(path)
    try:
        for index, series in enumerate(reader.metadata().series):
            for t in range(series.size_t):
                for c in range(series.size_c):
                    for z in range(series.size_z):
                        reader.read(index, 0, z, c, t, 0, 0, series.size_x, series.size_y)
    finally:
        reader.close()


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty"):
        open_reader(tmp_path / "empty.tif")


@pytest.mark.parametrize("make", [ome_tiff, png_rgb, czi_file(np.uint16, "uint16", 1),
                                  nd2_file(np.uint16, "uint16", 2, False),
                                  nd2_file(np.uint8, "uint8", 1, True),
                                  lif_file(np.uint16, "uint16")])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_truncated_files(tmp_path: Path, make: Callable[[Path], Sample], keep: float) -> None:
    sample = make(tmp_path)
    data = sample.path.read_bytes()
    sample.path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(CorruptFileError, match=re.escape(sample.path.name)):
        read_everything(sample.path)


def test_garbage_with_an_image_name(tmp_path: Path) -> None:
    path = tmp_path / "noise.tif"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(CorruptFileError, match=r"noise\.tif"):
        open_reader(path)


@pytest.mark.parametrize(("content", "name", "says"), [
    (b"%PDF-1.7\n...", "paper.pdf", "PDF"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(100), "photo.jp2", "JPEG 2000"),
    (b"PK\x03\x04" + bytes(100), "images.zip", "ZIP"),
    (b"hello, world\n", "notes.txt", ".txt"),
])
def test_unknown_formats_are_named(tmp_path: Path, content: bytes, name: str, says: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UnsupportedFormatError, match=says):
        open_reader(tmp_path / name)


@pytest.mark.parametrize(("content", "name"), [
    (b"\xda\xce\xbe\x0a" + bytes(100), "scan.nd2"),
    (b"\x70\x00\x00\x00\x10\x00\x00\x00\x2a" + bytes(100), "scan.lif"),
    (b"\x70\x00\x00\x00\x10\x00\x00\x00\x2a\x04\x00\x00\x00" + "<a/>".encode("utf-16-le"),
     "tiny.lif"),
])
def test_damaged_nd2_and_lif_are_named(tmp_path: Path, content: bytes, name: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(CorruptFileError, match=re.escape(name)):
        read_everything(tmp_path / name)


def test_lif_header_with_entities_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    path = tmp_path / "hostile.lif"
    write_lif(path, [np.zeros((1, 1, 1, 4, 4), np.uint8)], channels=[["x"]])
    data = path.read_bytes()
    length = int.from_bytes(data[9:13], "little")
    xml = data[13:13 + 2 * length].decode("utf-16-le")
    hostile = (f'<!DOCTYPE d [<!ENTITY e SYSTEM "file://{secret}">]>' +
               xml.replace('Name="Series001"', 'Name="&e;"'))
    encoded = hostile.encode("utf-16-le")
    path.write_bytes(data[:4] + (len(encoded) + 5).to_bytes(4, "little") + data[8:9] +
                     len(hostile).to_bytes(4, "little") + encoded + data[13 + 2 * length:])
    with pytest.raises(CorruptFileError, match="entity"):
        open_reader(path)


def test_unreadable_file_and_directory(tmp_path: Path) -> None:
    sample = png_rgb(tmp_path)
    with pytest.raises(UnsupportedFormatError, match="directory"):
        open_reader(tmp_path)
    sample.path.chmod(0)
    try:
        if os.geteuid() != 0:  # root reads anything
            with pytest.raises(InvalidInputError, match="permission denied"):
                open_reader(sample.path)
    finally:
        sample.path.chmod(0o644)
    with pytest.raises(InvalidInputError, match="cannot be read"):
        open_reader(tmp_path / "missing.png")


def test_64_bit_integers_have_no_omero_type(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "wide.tif", np.zeros((4, 4), np.int64))
    with pytest.raises(UnsupportedFormatError, match="int64"):
        open_reader(tmp_path / "wide.tif").metadata()


def _with_xml(path: Path, edit: Callable[[str], str]) -> None:
    with tifffile.TiffFile(path) as tif:
        xml = tif.ome_metadata or ""
        data = tif.series[0].asarray()
    tifffile.imwrite(path, data, description=edit(xml), metadata=None, photometric="minisblack")


def test_ome_xml_that_disagrees_with_the_pixels(tmp_path: Path) -> None:
    sample = ome_tiff(tmp_path)
    _with_xml(sample.path, lambda xml: xml.replace('SizeZ="4"', 'SizeZ="5"'))
    with pytest.raises(CorruptFileError, match="metadata disagrees with the pixel data"):
        open_reader(sample.path).metadata()


def test_ome_xml_with_external_entities_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    sample = ome_tiff(tmp_path)
    doctype = f'<!DOCTYPE OME [<!ENTITY xxe SYSTEM "file://{secret}">]>'

    def inject(xml: str) -> str:
        head, _, rest = xml.partition("?>")
        rest = rest.replace('Name="DAPI"', 'Name="&xxe;"')
        return f"{head}?>{doctype}{rest}"

    _with_xml(sample.path, inject)
    with pytest.raises(CorruptFileError, match="DOCTYPE"):
        open_reader(sample.path).metadata()


def test_damaged_ome_xml_files(tmp_path: Path) -> None:
    from tests.formats.samples import ome_xml

    sample = ome_xml(np.uint16, "uint16", "zlib", True, "XYZCT")(tmp_path)
    text = sample.path.read_text()
    cut = tmp_path / "cut.ome.xml"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(CorruptFileError, match=r"cut\.ome\.xml"):
        open_reader(cut)
    fewer = tmp_path / "fewer.ome.xml"
    start = text.index("<BinData")
    fewer.write_text(text[:start] + text[text.index("</BinData>", start) + 10:])
    with pytest.raises(CorruptFileError, match="metadata disagrees"):
        open_reader(fewer).metadata()
    wrong = tmp_path / "wrong.ome.xml"
    wrong.write_text(text.replace('SizeX="11"', 'SizeX="12"'))
    with pytest.raises(CorruptFileError, match="damaged"):
        read_everything(wrong)
    entity = tmp_path / "entity.ome.xml"
    entity.write_text(text.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                   '<?xml version="1.0"?><!DOCTYPE OME [<!ENTITY a "b">]>'))
    with pytest.raises(CorruptFileError, match="DOCTYPE"):
        open_reader(entity)


def test_an_ome_zarr_plate_naming_groups_outside_itself_is_refused(tmp_path: Path) -> None:
    import json

    sample = ome_zarr_plate("0.4")(tmp_path)
    attrs = json.loads((sample.path / ".zattrs").read_text())
    attrs["plate"]["wells"][0]["path"] = "../../elsewhere"
    (sample.path / ".zattrs").write_text(json.dumps(attrs))
    with pytest.raises(CorruptFileError, match="not one of the files imported with it"):
        open_reader(sample.path)
    attrs["plate"]["wells"][0]["path"] = "Z/9"
    (sample.path / ".zattrs").write_text(json.dumps(attrs))
    with pytest.raises(CorruptFileError, match="no OME-Zarr group"):
        open_reader(sample.path)


def test_bioformats2raw_layout_gives_one_series_per_image(tmp_path: Path) -> None:
    import json
    import shutil

    first = ome_zarr("0.4")(tmp_path / "a")
    root = tmp_path / "converted.zarr"
    root.mkdir()
    (root / ".zgroup").write_text('{"zarr_format": 2}')
    (root / ".zattrs").write_text(json.dumps({"bioformats2raw.layout": 3}))
    shutil.copytree(first.path, root / "0")
    shutil.copytree(first.path, root / "1")
    reader = open_reader(root)
    try:
        assert [s.size_x for s in reader.metadata().series] == [48, 48]
        np.testing.assert_array_equal(reader.read(1, 0, 1, 2, 1, 0, 0, 48, 64),
                                      first.truth[0][1, 2, 1])
    finally:
        reader.close()


@pytest.mark.parametrize("name", ["zarr.json", ".zattrs"])
def test_ome_zarr_metadata_nested_100000_deep_is_a_corrupt_file(tmp_path: Path,
                                                                 name: str) -> None:
    root = tmp_path / "deep.zarr"
    root.mkdir()
    (root / name).write_text('{"attributes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CorruptFileError, match=r"deep\.zarr: OME-Zarr metadata cannot be read"):
        open_reader(root)


def _bf2raw_xml(images: int) -> str:
    pixels = ('<Pixels ID="Pixels:{0}" DimensionOrder="XYZCT" Type="uint16" SizeX="64" '
              'SizeY="48" SizeZ="2" SizeC="3" SizeT="2"><MetadataOnly/></Pixels>')
    body = "".join(f'<Image ID="Image:{i}" Name="field {i}">{pixels.format(i)}'
                   + ('<ROIRef ID="ROI:0"/>' if i == 1 else "") + "</Image>"
                   for i in range(images))
    wells = "".join(f'<Well ID="Well:{i}" Row="0" Column="{i}"><WellSample ID="WS:{i}" '
                    f'Index="0"><ImageRef ID="Image:{i}"/></WellSample></Well>'
                    for i in range(images))
    return ('<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/'
            'Schemas/OME/2016-06"><Plate ID="Plate:0" Name="converted" Rows="1" Columns="2">'
            f'{wells}</Plate>{body}<ROI ID="ROI:0" Name="cell"><Union><Point ID="Shape:0" '
            'X="3" Y="4" TheZ="1"/></Union></ROI></OME>')


def test_bioformats2raw_metadata_gives_plates_and_rois_and_misses_no_series(
        tmp_path: Path) -> None:
    """bioformats2raw's OME/METADATA.ome.xml: its plate and ROIs come with the series;
    a series it describes that the conversion did not write is a clear error."""
    import json
    import shutil

    first = ome_zarr("0.4")(tmp_path / "a")
    root = tmp_path / "converted.zarr"
    (root / "OME").mkdir(parents=True)
    (root / ".zgroup").write_text('{"zarr_format": 2}')
    (root / ".zattrs").write_text(json.dumps({"bioformats2raw.layout": 3}))
    (root / "OME" / "METADATA.ome.xml").write_text(_bf2raw_xml(2))
    shutil.copytree(first.path, root / "0")
    shutil.copytree(first.path, root / "1")
    reader = open_reader(root)
    try:
        metadata = reader.metadata()
        [plate] = metadata.plates
        assert plate.name == "converted" and [w.fields[0].series for w in plate.wells] == [0, 1]
        [roi] = metadata.rois
        assert (roi.name, roi.series, roi.shapes[0].z) == ("cell", 1, 1)
    finally:
        reader.close()
    shutil.rmtree(root / "1")
    with pytest.raises(CorruptFileError, match="series 1 is not there"):
        open_reader(root)
