"""Importing into ManagedRepository: what lands on disk and in the catalog, and what a
failure leaves (nothing)."""

import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from pixelvault.catalog.models import (
    Annotation,
    Channel,
    DatasetImageLink,
    Fileset,
    FilesetEntry,
    FilesetState,
    Image,
    OriginalFile,
    Pixels,
)
from pixelvault.catalog.models.annotations import ORIGINAL_METADATA_NS
from pixelvault.errors import InvalidInputError, NotFoundError
from pixelvault.repository.checksums import digest_bytes
from pixelvault.services import imports
from pixelvault.services.objects import deletion, filesets
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env, spawn_python
from tests.formats.samples import (
    lif_file,
    nd2_file,
    ome_multiseries,
    ome_tiff,
    png_bomb,
    png_rgb,
)


@pytest.fixture
def vault(initialised: Env) -> Iterator[Vault]:
    opened = open_vault(initialised.settings())
    yield opened
    opened.close()


def counts(vault: Vault) -> dict[str, int]:
    with vault.catalog.session() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                or 0 for model in (Fileset, FilesetEntry, OriginalFile, Image, Pixels, Channel)}


def managed_files(vault: Vault) -> list[Path]:
    return sorted(p for p in vault.managed.root.rglob("*") if p.is_file())


def test_a_directory_of_mixed_files(vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "data" / "exp1"
    source.mkdir(parents=True)
    cells = ome_tiff(source)
    ome_multiseries(source)
    png_rgb(source)
    (source / "notes.pdf").write_bytes(b"%PDF-1.7 not an image")
    (source / ".DS_Store").write_bytes(b"hidden")
    (source / "outside.tif").symlink_to(tmp_path / "elsewhere.tif")
    (tmp_path / "elsewhere.tif").write_bytes(cells.path.read_bytes())

    plan = imports.plan([source])
    assert sorted(f.files[0].name for f in plan.filesets) == ["cells.ome.tif", "photo.png",
                                                              "two.ome.tif"]
    assert {s.path.name: s.reason for s in plan.skipped}.keys() == {"notes.pdf", "outside.tif"}
    assert "PDF" in next(s.reason for s in plan.skipped if s.path.name == "notes.pdf")
    assert "outside" in next(s.reason for s in plan.skipped if s.path.name == "outside.tif")

    actor = vault.local_admin()
    dataset = imports.resolve_dataset(vault.catalog, actor, "Mitosis")
    assert imports.resolve_dataset(vault.catalog, actor, "Mitosis") == dataset  # found again
    outcome = imports.run(vault, actor, plan, imports.ImportOptions(dataset_id=dataset))
    assert outcome.failed == [] and len(outcome.imported) == 3
    assert counts(vault) == {"fileset": 3, "fileset_entry": 3, "original_file": 3, "image": 4,
                             "pixels": 4, "channel": 3 + 1 + 3 + 3}

    with vault.catalog.session() as session:
        by_name = {i.name: i for i in session.scalars(select(Image))}
        assert set(by_name) == {"cells.ome.tif", "two.ome.tif [first]", "two.ome.tif [second]",
                                "photo.png"}
        image = by_name["cells.ome.tif"]
        pixels = session.scalar(select(Pixels).where(Pixels.image_id == image.id))
        assert pixels is not None
        assert (pixels.size_x, pixels.size_y, pixels.size_z, pixels.size_c, pixels.size_t,
                pixels.pixel_type) == (60, 50, 4, 3, 2, "uint16")
        assert pixels.physical_size_x == pytest.approx(0.65)
        channels = session.scalars(select(Channel).where(Channel.pixels_id == pixels.id)
                                   .order_by(Channel.index)).all()
        truth = cells.truth[0]
        assert [c.name for c in channels] == ["DAPI", "GFP", "mCherry"]
        assert [(c.min, c.max) for c in channels] == [
            (float(truth[:, c].min()), float(truth[:, c].max())) for c in range(3)]
        linked = session.scalars(select(DatasetImageLink.child_id)
                                 .where(DatasetImageLink.parent_id == dataset)).all()
        assert sorted(linked) == sorted(i.id for i in by_name.values())
        original = session.scalar(select(Annotation).where(
            Annotation.namespace == ORIGINAL_METADATA_NS))
        assert original is not None and original.kind == "map"
        rows = session.scalars(select(OriginalFile)).all()
        fileset = session.scalar(select(Fileset).where(Fileset.id == image.fileset_id))
        assert fileset is not None and fileset.state == FilesetState.READY
        assert set(json.loads(fileset.timings)) >= {"upload", "metadata", "minmax", "catalog"}
        entry = session.scalar(select(FilesetEntry).where(
            FilesetEntry.fileset_id == fileset.id))
        assert entry is not None and entry.client_path == str(cells.path)

    # Bytes: kept as they were, read-only, checksummed, under OMERO's template.
    for row in rows:
        on_disk = vault.layout.root / row.path
        assert row.store == "ManagedRepository" and row.hasher == "SHA1-160"
        assert row.hash == digest_bytes("SHA1-160", on_disk.read_bytes())
        assert stat.S_IMODE(on_disk.stat().st_mode) == 0o444
        assert on_disk.read_bytes() == (source / row.name).read_bytes()
        # user_id/year-month/day/time, then the client's last three directories.
        relative = on_disk.relative_to(vault.managed.root).parts
        assert relative[0] == f"root_{actor.user_id}" and len(relative) == 8
        assert relative[-4:] == (source.parent.parent.name, "data", "exp1", row.name)
    logs = [p for p in vault.managed.root.rglob("*.log")]
    assert len(logs) == 3 and "SHA1-160" in logs[0].read_text()


def test_a_damaged_file_fails_alone_and_leaves_nothing(vault: Vault, tmp_path: Path) -> None:
    good = png_rgb(tmp_path)
    bad = ome_tiff(tmp_path)
    plan = imports.plan([tmp_path])  # a file truncated already is refused by the plan
    data = bad.path.read_bytes()
    bad.path.write_bytes(data[:int(len(data) * 0.9)])  # metadata intact, pixels cut off
    outcome = imports.run(vault, vault.local_admin(), plan, imports.ImportOptions())
    assert [f.fileset.files[0].name for f in outcome.failed] == ["cells.ome.tif"]
    assert "cells.ome.tif" in outcome.failed[0].reason
    assert len(outcome.imported) == 1
    assert counts(vault)["fileset"] == 1 and counts(vault)["original_file"] == 1
    assert [p.name for p in managed_files(vault)] == [good.path.name, ] + \
        [p.name for p in managed_files(vault) if p.suffix == ".log"]
    assert sum(1 for p in managed_files(vault) if p.suffix == ".log") == 1


def test_a_png_declaring_ten_billion_pixels_is_refused_by_name_and_leaves_nothing(
        vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    good = png_rgb(source)
    (source / "bomb.png").write_bytes(png_bomb())
    plan = imports.plan([source])  # opened to plan it, and refused by name
    (skipped,) = plan.skipped
    assert skipped.path.name == "bomb.png"
    assert skipped.reason.startswith("bomb.png: Image size (10000000000 pixels) exceeds")
    assert "convert it to a tiled OME-TIFF" in skipped.reason
    outcome = imports.run(vault, vault.local_admin(), plan, imports.ImportOptions())
    assert outcome.failed == [] and len(outcome.imported) == 1
    assert counts(vault)["fileset"] == 1
    assert [p.name for p in managed_files(vault) if p.suffix != ".log"] == [good.path.name]


def test_a_full_disk_mid_import_leaves_nothing(env: Env, tmpfs: Callable[..., Path],
                                               tmp_path: Path) -> None:
    disk = tmpfs("data", size="6m")
    env.set(data_dir=str(disk / "OMERO"))
    env.cli("admin", "init", check=True)
    source = tmp_path / "big"
    source.mkdir()
    rng = np.random.default_rng(1)
    import tifffile

    tifffile.imwrite(source / "noise.tif", rng.integers(0, 65535, (64, 256, 256),
                                                         dtype=np.uint16))
    vault = open_vault(env.settings())
    try:
        before = counts(vault)
        outcome = imports.run(vault, vault.local_admin(), imports.plan([source]),
                              imports.ImportOptions())
        assert len(outcome.failed) == 1 and "space" in outcome.failed[0].reason.lower()
        assert counts(vault) == before
        assert managed_files(vault) == []
        assert list(vault.managed.root.iterdir()) == []
    finally:
        vault.close()


def test_a_dataset_you_may_not_edit_is_refused_before_anything_is_written(
        vault: Vault) -> None:
    with pytest.raises(InvalidInputError):
        imports.plan([])
    with pytest.raises(NotFoundError, match="no dataset"):
        imports.resolve_dataset(vault.catalog, vault.local_admin(), "999999")


def test_a_file_that_changes_while_imported(vault: Vault, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sample = png_rgb(tmp_path)
    plan = imports.plan([sample.path])
    calls = 0

    def grow(_: int) -> None:  # another program appends while we copy
        nonlocal calls
        calls += 1
        if calls == 1:
            with sample.path.open("ab") as handle:
                handle.write(b"more")
            os.utime(sample.path, ns=(1, 1))

    outcome = imports.run(vault, vault.local_admin(), plan, imports.ImportOptions(),
                          progress=grow)
    assert calls and "changed while it was imported" in outcome.failed[0].reason
    assert counts(vault)["fileset"] == 0 and managed_files(vault) == []


KILLED_IMPORT = """
import os, signal, sys
from pathlib import Path
from pixelvault.config import load_settings
from pixelvault.services.objects import deletion, filesets
from pixelvault.services import imports
from pixelvault.services.vault import open_vault

vault = open_vault(load_settings())
plan = imports.plan([Path(sys.argv[1])])

def die(_):
    os.kill(os.getpid(), signal.SIGKILL)  # kill -9 in the middle of the copy

imports.run(vault, vault.local_admin(), plan, imports.ImportOptions(), progress=die)
"""


def test_a_killed_import_is_invisible_and_cleanse_removes_it(initialised: Env,
                                                             tmp_path: Path) -> None:
    source = tmp_path / "images"
    source.mkdir()
    import tifffile

    tifffile.imwrite(source / "big.tif", np.zeros((8, 1024, 1024), np.uint8))
    killed = spawn_python(KILLED_IMPORT, str(source), env=initialised.vars)
    killed.communicate(timeout=60)
    assert killed.returncode == -9
    vault = open_vault(initialised.settings())
    try:
        assert counts(vault)["image"] == 0 and counts(vault)["original_file"] == 0
        with vault.catalog.session() as session:
            (left,) = session.scalars(select(Fileset)).all()
            assert left.state == FilesetState.IMPORTING
        assert vault.managed.path(left.directory).is_dir()
    finally:
        vault.close()
    young = json.loads(initialised.cli("admin", "cleanse", "--dry-run", "-o", "json",
                                       check=True).stdout)
    assert any("import in progress" in kept["reason"] for kept in young["kept"])
    preview = json.loads(initialised.cli("admin", "cleanse", "--dry-run", "--older-than", "0",
                                         "-o", "json", check=True).stdout)
    assert preview["removed"][-1]["reason"].startswith("interrupted import")
    initialised.cli("admin", "cleanse", "--older-than", "0", check=True)
    vault = open_vault(initialised.settings())
    try:
        assert counts(vault)["fileset"] == 0
        assert list(vault.managed.root.iterdir()) == []
    finally:
        vault.close()


def test_a_multi_file_ome_tiff_is_one_fileset_read_from_its_copy(vault: Vault,
                                                                  tmp_path: Path) -> None:
    from tests.formats.test_multifile import make_set

    source = tmp_path / "set"
    source.mkdir()
    paths, planes = make_set(source)
    outcome = imports.run(vault, vault.local_admin(), imports.plan([source]),
                          imports.ImportOptions())
    (result,) = outcome.imported
    assert result.files == 3 and len(result.image_ids) == 1
    with vault.catalog.session() as session:
        (channel,) = session.scalars(select(Channel)).all()
    assert (channel.min, channel.max) == (float(planes.min()), float(planes.max()))
    copies = sorted(vault.managed.path(result.directory).rglob("*.ome.tif"))
    assert [p.name for p in copies] == sorted(p.name for p in paths)


@pytest.mark.parametrize("transfer", ["ln", "ln_s", "cp_rm", "ln_rm"])
def test_in_place_transfers(vault: Vault, tmp_path: Path, transfer: str) -> None:
    source = tmp_path / "scope"
    source.mkdir()
    sample = png_rgb(source)
    original = sample.path.read_bytes()
    inode = sample.path.stat().st_ino
    (result,) = imports.run(vault, vault.local_admin(), imports.plan([source]),
                            imports.ImportOptions(transfer=transfer)).imported
    (stored,) = [p for p in vault.managed.path(result.directory).rglob("photo.png")]
    assert stored.read_bytes() == original
    if transfer == "ln_s":
        assert stored.is_symlink() and os.readlink(stored) == str(sample.path)
        usage = filesets.usage(vault, vault.local_admin(), "component")
        assert usage[0].linked == len(original) and usage[0].bytes == 0
    else:
        assert not stored.is_symlink()
    if transfer.startswith("ln") and transfer != "ln_s":
        assert stored.stat().st_ino == inode  # the same file, not a copy
    assert sample.path.exists() == (not transfer.endswith("_rm"))
    with vault.catalog.session() as session:
        fileset = session.get(Fileset, result.fileset_id)
        assert fileset is not None and fileset.transfer == transfer
    deletion.delete_fileset(vault, vault.local_admin(), result.fileset_id)
    if transfer == "ln_s":  # deleting an in-place import never touches the user's file
        assert sample.path.read_bytes() == original


def test_a_failed_in_place_import_keeps_the_source(vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "scope"
    source.mkdir()
    bad = ome_tiff(source)
    plan = imports.plan([source])
    data = bad.path.read_bytes()
    bad.path.write_bytes(data[:int(len(data) * 0.9)])  # cut short after it was planned
    outcome = imports.run(vault, vault.local_admin(), plan,
                          imports.ImportOptions(transfer="cp_rm"))
    assert len(outcome.failed) == 1 and bad.path.exists()
    assert managed_files(vault) == []


def test_hard_links_across_filesystems_are_refused_with_the_fix(
        vault: Vault, tmpfs: Callable[..., Path]) -> None:
    disk = tmpfs("elsewhere", size="4m")
    png_rgb(disk)
    outcome = imports.run(vault, vault.local_admin(), imports.plan([disk]),
                          imports.ImportOptions(transfer="ln"))
    (failure,) = outcome.failed
    assert "another filesystem" in failure.reason and "ln_s" in failure.reason
    assert managed_files(vault) == []


def test_an_ome_zarr_directory_is_one_fileset(vault: Vault, tmp_path: Path) -> None:
    from tests.formats.samples import ome_zarr

    source = tmp_path / "plate-day1"
    source.mkdir()
    sample = ome_zarr("0.5")(source)
    png_rgb(source)
    plan = imports.plan([source])
    formats = sorted(f.format for f in plan.filesets)
    assert formats == ["OME-Zarr", "PNG/JPEG/BMP/GIF"] and plan.skipped == []
    outcome = imports.run(vault, vault.local_admin(), plan, imports.ImportOptions())
    zarr_result = next(r for r in outcome.imported if r.files > 1)
    with vault.catalog.session() as session:
        pixels = session.scalar(select(Pixels).where(
            Pixels.image_id == zarr_result.image_ids[0]))
        assert pixels is not None
        assert (pixels.size_x, pixels.size_y, pixels.size_z, pixels.size_c,
                pixels.size_t) == (48, 64, 2, 3, 2)
        assert json.loads(pixels.levels) == [[48, 64], [24, 32], [12, 16]]
        channels = session.scalars(select(Channel).where(Channel.pixels_id == pixels.id)
                                   .order_by(Channel.index)).all()
        assert [c.name for c in channels] == ["DAPI", "GFP", "RFP"]
        assert channels[0].max == float(sample.truth[0][:, 0].max())
    copied = vault.managed.path(zarr_result.directory)
    assert (next(copied.rglob("image-0.5.ome.zarr")) / "zarr.json").is_file()



def test_an_ome_zarr_plate_is_one_fileset_of_every_field(vault: Vault, tmp_path: Path) -> None:
    from tests.formats.samples import ome_zarr_plate

    sample = ome_zarr_plate("0.4")(tmp_path)
    outcome = imports.run(vault, vault.local_admin(), imports.plan([sample.path]),
                          imports.ImportOptions())
    assert outcome.failed == [] and len(outcome.imported) == 1
    result = outcome.imported[0]
    with vault.catalog.session() as session:
        names = session.scalars(select(Image.name).where(Image.id.in_(result.image_ids))
                                .order_by(Image.series)).all()
    # named by each field's full-resolution array, as Bio-Formats' Zarr reader names them
    assert names == [f"{sample.path.name} [B/3/0/0]", f"{sample.path.name} [B/3/1/0]",
                     f"{sample.path.name} [B/4/0/0]"]
    from pixelvault.catalog.models import Plate, Well, WellSample

    with vault.catalog.session() as session:
        [plate] = session.scalars(select(Plate)).all()
        assert plate.fileset_id == result.fileset_id
        wells = session.execute(select(Well.row, Well.column, WellSample.field)
                                .join(WellSample, WellSample.well_id == Well.id)
                                .order_by(WellSample.image_id)).all()
    assert [tuple(w) for w in wells] == [(1, 2, 0), (1, 2, 1), (1, 3, 0)]


def test_ome_xml_annotations_become_the_images_annotations(vault: Vault,
                                                           tmp_path: Path) -> None:
    import base64

    plane = base64.b64encode(bytes(range(6))).decode()
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
 <Image ID="Image:0" Name="annotated">
  <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" SizeX="3" SizeY="2" SizeZ="1"
          SizeC="1" SizeT="1">
   <Channel ID="Channel:0:0"/><BinData BigEndian="false" Length="8">{plane}</BinData>
  </Pixels>
  <AnnotationRef ID="Annotation:map"/><AnnotationRef ID="Annotation:tag"/>
  <AnnotationRef ID="Annotation:note"/>
 </Image>
 <StructuredAnnotations>
  <MapAnnotation ID="Annotation:map" Namespace="openmicroscopy.org/omero/client/mapAnnotation">
   <Value><M K="Cell line">HeLa</M><M K="Stain">DAPI</M></Value></MapAnnotation>
  <TagAnnotation ID="Annotation:tag"><Value>mitosis</Value></TagAnnotation>
  <CommentAnnotation ID="Annotation:note"><Value>imaged on Monday</Value></CommentAnnotation>
 </StructuredAnnotations>
</OME>"""
    (tmp_path / "annotated.ome.xml").write_text(xml)
    (result,) = imports.run(vault, vault.local_admin(), imports.plan([tmp_path]),
                            imports.ImportOptions()).imported
    from pixelvault.services.objects.annotation import list_annotations

    found = list_annotations(vault.catalog, vault.local_admin(), "image", result.image_ids[0])
    by_type = {a.type: a for a in found if a.namespace != ORIGINAL_METADATA_NS}
    assert by_type["map"].values == [("Cell line", "HeLa"), ("Stain", "DAPI")]
    assert by_type["tag"].text == "mitosis" and by_type["comment"].text == "imaged on Monday"


def test_a_companion_set_imports_whole(vault: Vault, tmp_path: Path) -> None:
    from tests.formats.samples import companion_set

    sample = companion_set(tmp_path)
    outcome = imports.run(vault, vault.local_admin(), imports.plan([tmp_path]),
                          imports.ImportOptions())
    (result,) = outcome.imported
    assert result.files == 3 and outcome.failed == []
    with vault.catalog.session() as session:
        channels = session.scalars(select(Channel).order_by(Channel.index)).all()
    assert [(c.name, c.max) for c in channels] == [
        ("DAPI", float(sample.truth[0][:, 0].max())), ("GFP", float(sample.truth[0][:, 1].max()))]


def test_nd2_and_lif_files_import_with_their_series(vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "scope"
    source.mkdir()
    nd2 = nd2_file(np.uint16, "uint16", 2, False)(source)
    lif = lif_file(np.uint8, "uint8")(source)
    outcome = imports.run(vault, vault.local_admin(), imports.plan([source]),
                          imports.ImportOptions())
    assert outcome.failed == [] and len(outcome.imported) == 2
    with vault.catalog.session() as session:
        images = {i.name: i for i in session.scalars(select(Image))}
        assert set(images) == {f"{nd2.path.name} [point 1]", f"{nd2.path.name} [point 2]",
                               f"{lif.path.name} [Series001]", f"{lif.path.name} [Series002]"}
        for name, truth, series in ((f"{nd2.path.name} [point 2]", nd2.truth[1], 1),
                                    (f"{lif.path.name} [Series001]", lif.truth[0], 0)):
            image = images[name]
            assert image.series == series
            pixels = session.scalar(select(Pixels).where(Pixels.image_id == image.id))
            assert pixels is not None
            size_t, size_c, size_z, size_y, size_x = truth.shape
            assert (pixels.size_x, pixels.size_y, pixels.size_z, pixels.size_c,
                    pixels.size_t) == (size_x, size_y, size_z, size_c, size_t)
            channels = session.scalars(select(Channel).where(Channel.pixels_id == pixels.id)
                                       .order_by(Channel.index)).all()
            assert [c.name for c in channels] == ["DAPI", "GFP"]
            assert [(c.min, c.max) for c in channels] == [
                (float(truth[:, c].min()), float(truth[:, c].max())) for c in range(size_c)]
        nd2_pixels = session.scalar(select(Pixels).where(
            Pixels.image_id == images[f"{nd2.path.name} [point 1]"].id))
        assert nd2_pixels is not None and nd2_pixels.physical_size_x == pytest.approx(0.325)
        assert nd2_pixels.time_increment == pytest.approx(0.25)
        assert images[f"{nd2.path.name} [point 1]"].description == "HeLa, H2B-GFP"
        emission = session.scalars(select(Channel.emission_wavelength).where(
            Channel.pixels_id == nd2_pixels.id).order_by(Channel.index)).all()
        assert emission == [450.0, 550.0]


def test_thumbnails_are_made_at_import_unless_skipped(vault: Vault, tmp_path: Path) -> None:
    from pixelvault.catalog.models import Thumbnail

    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    png_rgb(first)
    png_rgb(second)
    actor = vault.local_admin()
    imports.run(vault, actor, imports.plan([first]), imports.ImportOptions())
    imports.run(vault, actor, imports.plan([second]), imports.ImportOptions(thumbnails=False))
    with vault.catalog.session() as session:
        rows = session.scalars(select(Thumbnail)).all()
    assert [(r.size_x, r.size_y) for r in rows] == [(96, 72)]
    assert vault.thumbnails.read(rows[0].id)[:2] == b"\xff\xd8"  # type: ignore[index]
