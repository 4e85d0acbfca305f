"""ROIs and plates come in with the file that holds them: the OME schema's own samples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from pixelvault.catalog.models import (
    Image,
    Plate,
    PlateAcquisition,
    Roi,
    Screen,
    ScreenPlateLink,
    Shape,
    Well,
    WellSample,
)
from pixelvault.services import imports
from pixelvault.services.objects import rois
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env

SAMPLES = Path(__file__).parents[1] / "data" / "ome-model"


@pytest.fixture
def vault(initialised: Env) -> Iterator[Vault]:
    vault = open_vault(initialised.settings())
    yield vault
    vault.close()


def _refused(vault: Vault, path: Path) -> str:
    """Why the file was not imported (found when planned, or when imported)."""
    plan = imports.plan([path])
    outcome = imports.run(vault, vault.local_admin(), plan,
                          imports.ImportOptions(thumbnails=False))
    assert outcome.imported == []
    return " ".join([s.reason for s in plan.skipped] + [f.reason for f in outcome.failed])


def _import(vault: Vault, path: Path) -> imports.ImportedFileset:
    outcome = imports.run(vault, vault.local_admin(), imports.plan([path]),
                          imports.ImportOptions(thumbnails=False))
    assert outcome.failed == [], outcome.failed
    return outcome.imported[0]


def test_the_schemas_roi_sample_imports_with_every_shape(vault: Vault, tmp_path: Path) -> None:
    result = _import(vault, SAMPLES / "ROI.ome.xml")
    [image_id] = result.image_ids
    with vault.catalog.session() as session:
        found, total = rois.page(session, vault.local_admin(), image_id=image_id)
    assert total == 5
    kinds = sorted(s.shape.kind for r in found for s in r.shapes)
    assert kinds == ["label", "line", "mask", "point", "point", "rectangle", "rectangle"]
    shapes = {s.shape.kind + s.shape.text: s.shape for r in found for s in r.shapes}
    hello = shapes["pointHello"]
    assert (hello.c, hello.stroke_color, hello.font_size) == (2, 1, 1.0)
    assert hello.style["font_family"] == "sans-serif"
    assert shapes["rectangleTransformed"].transform == (1.0, 0.0, 0.0, 1.0, 3.82, 2.21)
    assert shapes["line"].style == {"marker_start": "Arrow", "marker_end": "Arrow"}
    # one byte per pixel in the sample (00 e9 e9 00): kept as one bit per pixel
    assert shapes["mask"].mask == bytes([0b01100000])


def test_a_plate_imports_with_its_screen_wells_fields_and_runs(vault: Vault) -> None:
    result = _import(vault, SAMPLES / "one-screen-one-plate-four-wells.ome.xml")
    with vault.catalog.session() as session:
        [plate] = session.scalars(select(Plate)).all()
        assert (plate.rows, plate.columns, plate.fileset_id) == (3, 3, result.fileset_id)
        assert plate.name == "one-screen-one-plate-four-wells.ome.xml"
        wells = session.execute(select(Well.row, Well.column).order_by(Well.row, Well.column))
        assert wells.all() == [(1, 1), (1, 2), (2, 1), (2, 2)]
        fields = session.execute(select(Well.row, Well.column, WellSample.field, Image.name)
                                 .join(WellSample, WellSample.well_id == Well.id)
                                 .join(Image, Image.id == WellSample.image_id)
                                 .where(Well.row == 2, Well.column == 1)
                                 .order_by(WellSample.field)).all()
        assert [f[2] for f in fields] == [0, 1, 2, 3, 4]
        assert fields[0][3].startswith("one-screen-one-plate-four-wells.ome.xml [")
        runs = session.scalars(select(PlateAcquisition)).all()
        assert len(runs) == 2 and all(r.start_time is not None for r in runs)
        in_runs = session.scalar(select(func.count()).select_from(WellSample).where(
            WellSample.plate_acquisition_id.is_not(None)))
        assert in_runs == 8
        assert session.scalar(select(func.count()).select_from(Screen)) == 1
        assert session.scalar(select(func.count()).select_from(WellSample)) == 11


def test_a_plate_in_two_screens_is_linked_to_both(vault: Vault) -> None:
    _import(vault, SAMPLES / "two-screens-two-plates-four-wells.ome.xml")
    with vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Plate)) == 2
        assert session.scalar(select(func.count()).select_from(Screen)) == 2
        assert session.scalar(select(func.count()).select_from(ScreenPlateLink)) == 3


@pytest.mark.parametrize(("change", "message"), [
    ('Column="2" Row="2"', "two wells at"),
    ('ImageRef ID="Image:3"', "series 3 is a field of two wells"),
    ('<ImageRef ID="Image:10"/>', "names image Image:99"),
])
def test_a_plate_that_contradicts_itself_is_refused_whole(vault: Vault, tmp_path: Path,
                                                          change: str, message: str) -> None:
    text = (SAMPLES / "one-screen-one-plate-four-wells.ome.xml").read_text()
    if change.startswith("Column"):
        text = text.replace('Column="2" Row="1"', change, 1)
    elif change.startswith("ImageRef"):
        text = text.replace('ImageRef ID="Image:7"', change, 1)
    else:
        text = text.replace(change, '<ImageRef ID="Image:99"/>', 1)
    path = tmp_path / "plate.ome.xml"
    path.write_text(text)
    assert message in _refused(vault, path)
    with vault.catalog.session() as session:
        for table in (Image, Plate, Well, WellSample, Roi, Shape):
            assert session.scalar(select(func.count()).select_from(table)) == 0


def test_a_shape_on_a_plane_the_image_lacks_fails_the_import(vault: Vault,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "bad-roi.ome.xml"
    path.write_text((SAMPLES / "ROI.ome.xml").read_text().replace('TheC="2"', 'TheC="7"'))
    assert "theC 7 is not a plane of the image" in _refused(vault, path)
    with vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Image)) == 0


def test_a_plate_sample_without_pixel_data_is_refused(vault: Vault) -> None:
    assert "BinData planes for 48 described" in _refused(vault, SAMPLES / "hcs.ome.xml")


def test_rois_and_plates_follow_their_images(vault: Vault) -> None:
    """chgrp moves a plate's whole graph and an image's ROIs; deleting the image takes its
    ROIs, deleting the fileset takes its plate, wells and fields."""
    from pixelvault.catalog.models import Permissions
    from pixelvault.services.access import principals
    from pixelvault.services.objects import deletion, graph

    admin = vault.local_admin()
    target = principals.create_group(vault.catalog, admin, "elsewhere",
                                     Permissions.READ_ANNOTATE)
    principals.add_member(vault.catalog, admin, target, admin.user_id)
    roi_image = _import(vault, SAMPLES / "ROI.ome.xml").image_ids[0]
    plate = _import(vault, SAMPLES / "two-screens-two-plates-four-wells.ome.xml")
    graph.chgrp(vault.catalog, admin,
                [("image", roi_image)] + [("image", i) for i in plate.image_ids], target)
    with vault.catalog.session() as session:
        assert set(session.scalars(select(Roi.group_id))) == {target}
        for moved in (Plate, Well, WellSample, PlateAcquisition):
            assert set(session.scalars(select(moved.group_id))) == {target}, moved
        # the screens stayed behind: no link crosses into the other group
        assert session.scalar(select(func.count()).select_from(ScreenPlateLink)) == 0
    deletion.delete_object(vault, admin, "image", roi_image)
    deletion.delete_fileset(vault, admin, plate.fileset_id)
    with vault.catalog.session() as session:
        for gone in (Roi, Shape, Plate, Well, WellSample, PlateAcquisition):
            assert session.scalar(select(func.count()).select_from(gone)) == 0, gone
        assert session.scalar(select(func.count()).select_from(Screen)) == 2


def test_rois_round_trip_through_an_ome_tiff_export(vault: Vault, tmp_path: Path) -> None:
    """The schema's sample -> catalog -> OME-TIFF export -> its OME-XML's shapes equal the
    original's (and import back equal)."""
    from pixelvault.formats import omexml
    from pixelvault.formats.omexml_rois import rois_of
    from pixelvault.services.pixels import export

    image_id = _import(vault, SAMPLES / "ROI.ome.xml").image_ids[0]
    target = export.export(vault, vault.local_admin(), image_id, "ome-tiff",
                           tmp_path / "out.ome.tif")
    import tifffile

    with tifffile.TiffFile(target) as tif:
        written = rois_of(omexml.parse(tif.ome_metadata or "", "out"), "out")
    original = rois_of(omexml.parse((SAMPLES / "ROI.ome.xml").read_bytes(), "in"), "in")

    assert _shapes(written) == _shapes(original)
    again = _import(vault, target).image_ids[0]
    with vault.catalog.session() as session:
        assert rois.count(session, vault.local_admin(), again) == 5


def test_plates_are_deleted_and_moved_whole(vault: Vault) -> None:
    """OMERO's graph rules: a plate's field goes only with its plate, a plate only with the
    fileset holding it, a screen takes the plates no other screen holds."""
    from pixelvault.catalog.models import Permissions
    from pixelvault.errors import InvalidInputError
    from pixelvault.services.access import principals
    from pixelvault.services.objects import deletion, graph

    admin = vault.local_admin()
    shared = _import(vault, SAMPLES / "two-screens-two-plates-four-wells.ome.xml")
    with vault.catalog.session() as session:
        plate_ids = list(session.scalars(select(Plate.id).order_by(Plate.id)))
        first_screen, second_screen = session.scalars(select(Screen.id).order_by(Screen.id))
    with pytest.raises(InvalidInputError, match="is a field of plate"):
        deletion.delete_object(vault, admin, "image", shared.image_ids[0])
    with pytest.raises(InvalidInputError, match="delete the whole fileset"):
        deletion.delete_plate(vault, admin, plate_ids[0])
    with pytest.raises(InvalidInputError, match="delete the whole fileset"):
        deletion.delete_screen(vault, admin, first_screen)  # its plate 2 shares the files
    target = principals.create_group(vault.catalog, admin, "elsewhere",
                                     Permissions.READ_ONLY)
    principals.add_member(vault.catalog, admin, target, admin.user_id)
    with pytest.raises(InvalidInputError, match="shares fileset"):
        graph.chgrp(vault.catalog, admin, [("plate", plate_ids[1])], target)
    # the second screen holds only plate 1, which the first screen holds too: it stays
    deletion.delete_screen(vault, admin, second_screen)
    with vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Plate)) == 2
        assert session.scalar(select(func.count()).select_from(Screen)) == 1
    # both plates together move, with their fields and images; the screen stays behind
    moved = graph.chgrp(vault.catalog, admin, [("plate", p) for p in plate_ids], target)
    assert sorted(moved.ids["image"]) == sorted(shared.image_ids)
    with vault.catalog.session() as session:
        assert set(session.scalars(select(WellSample.group_id))) == {target}
        assert session.scalar(select(func.count()).select_from(ScreenPlateLink)) == 0
    # a plate alone in its fileset goes whole: wells, fields, images and the files
    alone = _import(vault, SAMPLES / "one-screen-one-plate-four-wells.ome.xml")
    with vault.catalog.session() as session:
        [screen] = session.scalars(select(Screen.id).where(Screen.id != first_screen))
    deletion.delete_screen(vault, admin, screen)
    with vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Image).where(
            Image.id.in_(alone.image_ids))) == 0
        assert session.scalar(select(func.count()).select_from(Plate)) == 2


def test_rois_round_trip_through_an_ome_zarr_export(vault: Vault, tmp_path: Path) -> None:
    """The schema sample as OME-Zarr: its mask a label image ome-zarr-models accepts, valued
    by the shape's id; every shape in OME/METADATA.ome.xml, where Bio-Formats' Zarr reader
    finds them, equal to the original's; imported back with all its ROIs."""
    import zarr
    from ome_zarr_models.v05.image import Image as NgffImage
    from ome_zarr_models.v05.labels import Labels

    from pixelvault.formats import omexml
    from pixelvault.formats.omexml_rois import rois_of
    from pixelvault.services.pixels import export

    image_id = _import(vault, SAMPLES / "ROI.ome.xml").image_ids[0]
    target = export.export(vault, vault.local_admin(), image_id, "ome-zarr",
                           tmp_path / "out.ome.zarr")
    NgffImage.from_zarr(zarr.open_group(str(target), mode="r"))
    Labels.from_zarr(zarr.open_group(str(target / "labels"), mode="r"))
    masks: Any = zarr.open_group(str(target / "labels" / "masks"), mode="r")
    pixels = masks["0"][0, 0, 0]
    [label] = masks.attrs["ome"]["image-label"]["properties"]
    found = np.argwhere(pixels == label["label-value"])
    # a 2x2 mask at (1, 1) moved by (2, 2), bits 0110: (row 0, col 1) and (row 1, col 0)
    # of it, at rows 3 and 4 of a 4-row image: the second is cut at the edge
    assert sorted(map(tuple, found.tolist())) == [(3, 4)]
    described = omexml.parse((target / "OME" / "METADATA.ome.xml").read_bytes(), "out")
    [image] = described.images
    assert (image.pixels.size_x, image.pixels.size_y) == (6, 4)
    assert image.pixels.metadata_only is not None and not image.pixels.tiff_data_blocks
    written = rois_of(described, "out")
    original = rois_of(omexml.parse((SAMPLES / "ROI.ome.xml").read_bytes(), "in"), "in")
    assert _shapes(written) == _shapes(original)
    again = _import(vault, target).image_ids[0]
    with vault.catalog.session() as session:
        assert rois.count(session, vault.local_admin(), again) == 5


def _shapes(found: list[Any]) -> list[str]:
    return sorted(repr(sorted(map(repr, r.shapes))) for r in found)


def test_a_plates_rois_travel_with_its_ome_zarr_export(vault: Vault, tmp_path: Path) -> None:
    """A field's ROI goes into the exported plate's OME/METADATA.ome.xml, on the image the
    document's plate places in the same well and field; imported back, it is there."""
    from pixelvault.formats import omexml
    from pixelvault.formats.rois import Roi as RoiModel
    from pixelvault.formats.rois import Shape as ShapeModel
    from pixelvault.services.objects import plates
    from pixelvault.services.pixels import export
    from tests.formats.samples import ome_zarr_plate

    admin = vault.local_admin()
    _import(vault, ome_zarr_plate("0.5")(tmp_path).path)

    def second_field_of_b3() -> tuple[int, int]:
        with vault.catalog.session() as session:
            plate = session.scalars(select(Plate).order_by(Plate.id.desc())).first()
            assert plate is not None
            well = session.scalar(select(Well).where(Well.plate_id == plate.id, Well.row == 1,
                                                     Well.column == 2))
            assert well is not None
            return plate.id, plates.fields_of(session, admin, [well.id])[well.id][1].image.id

    plate_id, image_id = second_field_of_b3()
    drawn = RoiModel(name="nucleus", shapes=(ShapeModel("ellipse", (10.0, 8.0, 4.0, 3.0)),))
    with vault.catalog.session() as session:
        rois.add(session, admin, image_id, [drawn], "test")
    target = export.export_plate(vault, admin, plate_id, tmp_path / "plate.ome.zarr")
    described = omexml.parse((target / "OME" / "METADATA.ome.xml").read_bytes(), "out")
    assert len(described.images) == 3 and len(described.plates[0].wells) == 2
    [roi] = described.rois
    assert roi.name == "nucleus"
    [holder] = [i for i in described.images if i.roi_refs]
    assert holder.roi_refs[0].id == roi.id
    [sample] = [s for w in described.plates[0].wells for s in w.well_samples
                if s.image_ref.id == holder.id]
    [well] = [w for w in described.plates[0].wells if sample in w.well_samples]
    assert (well.row, well.column, well.well_samples.index(sample)) == (1, 2, 1)
    series = json.loads((target / "OME" / "zarr.json").read_text())
    assert series["attributes"]["ome"]["series"] == ["B/3/0", "B/3/1", "B/4/0"]
    _import(vault, target)
    _, again = second_field_of_b3()
    with vault.catalog.session() as session:
        [back] = list(rois.iterate(session, admin, again))
    assert back.name == "nucleus" and back.shapes[0].shape == drawn.shapes[0]


def test_a_well_beyond_the_declared_rows_is_refused(vault: Vault, tmp_path: Path) -> None:
    text = (SAMPLES / "one-screen-one-plate-four-wells.ome.xml").read_text()
    assert '<Plate ID="Plate:1">' in text
    path = tmp_path / "small-plate.ome.xml"
    path.write_text(text.replace('<Plate ID="Plate:1">',
                                 '<Plate ID="Plate:1" Rows="2" Columns="3">', 1))
    assert "lies outside the plate's 2 rows and 3 columns" in _refused(vault, path)


def test_a_mask_larger_than_its_image_or_of_the_wrong_depth_is_refused(
        vault: Vault, tmp_path: Path) -> None:
    text = (SAMPLES / "ROI.ome.xml").read_text()
    larger = tmp_path / "larger.ome.xml"
    larger.write_text(text.replace('<Mask ID="Shape:7" Height="2" Width="2"',
                                   '<Mask ID="Shape:7" Height="2" Width="8"').replace(
        '<BinData BigEndian="true" Length="4">AOnpAA==',
        '<BinData BigEndian="true" Length="4">AOk='))
    assert "larger than the 6x4 image" in _refused(vault, larger)
    depth = tmp_path / "depth.ome.xml"
    depth.write_text(text.replace('<BinData BigEndian="true" Length="4">AOnpAA==',
                                  '<BinData BigEndian="true" Length="8">AOnpAADp'))
    assert "one bit per pixel is 1 bytes" in _refused(vault, depth)


def test_an_image_does_not_carry_anothers_rois_into_a_group_they_are_not_in(
        vault: Vault) -> None:
    from dataclasses import replace

    from pixelvault.catalog.models import Permissions
    from pixelvault.catalog.permissions import load_actor
    from pixelvault.errors import InvalidInputError
    from pixelvault.formats.rois import Roi as ShapesRoi
    from pixelvault.formats.rois import Shape as PointShape
    from pixelvault.services.access import principals
    from pixelvault.services.objects import graph

    admin = vault.local_admin()
    lab = principals.create_group(vault.catalog, admin, "lab", Permissions.READ_ANNOTATE)
    other = principals.create_group(vault.catalog, admin, "other", Permissions.READ_ANNOTATE)
    for group in (lab, other):
        principals.add_member(vault.catalog, admin, group, admin.user_id)
    bob_id = principals.create_user(vault.catalog, admin, "bob", "Bob", "Lab", [lab],
                                    password="bob-secret-1")
    outcome = imports.run(vault, replace(admin, group_id=lab),
                          imports.plan([SAMPLES / "ROI.ome.xml"]),
                          imports.ImportOptions(thumbnails=False))
    [image_id] = outcome.imported[0].image_ids
    with vault.catalog.session() as session:
        bob = load_actor(session, bob_id)
        assert bob is not None
        rois.add(session, bob, image_id, [ShapesRoi(shapes=(PointShape("point", (1.0, 1.0)),))])
    with pytest.raises(InvalidInputError, match="drew ROIs on images that would move"):
        graph.chgrp(vault.catalog, admin, [("image", image_id)], other)
    with vault.catalog.session() as session:
        assert set(session.scalars(select(Roi.group_id))) == {lab}
