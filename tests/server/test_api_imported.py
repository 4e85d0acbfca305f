"""Imported images through the APIs: pixels in OMERO.web's JSON, original files,
deletion and chgrp that keep filesets whole."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from pixelvault.catalog.models import Annotation, Fileset, OriginalFile, Permissions
from pixelvault.catalog.principals import actor_for
from pixelvault.errors import InvalidInputError
from pixelvault.services import imports
from pixelvault.services.objects import files
from tests.formats.samples import ome_multiseries, ome_tiff
from tests.server.conftest import Api, World

OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06#"


def import_as(api: Api, username: str, group_id: int, path: Path) -> imports.ImportedFileset:
    with api.vault.catalog.session() as session:
        actor = actor_for(session, username)
    assert actor is not None
    actor = type(actor)(**{**actor.__dict__, "group_id": group_id})
    plan = imports.plan([path])
    (result,) = imports.run(api.vault, actor, plan, imports.ImportOptions()).imported
    return result


def test_pixels_originals_delete_and_chgrp(api: Api, world: World, tmp_path: Path) -> None:
    alice, bob = world.headers["alice"], world.headers["bob"]
    private, public = world.groups[Permissions.PRIVATE], world.groups[Permissions.READ_ONLY]
    single = import_as(api, "alice", private, ome_tiff(tmp_path).path)
    double = import_as(api, "alice", private, ome_multiseries(tmp_path).path)

    shown = api.client.get(f"/api/v0/m/images/{single.image_ids[0]}/", headers=alice).json()
    pixels = shown["data"]["Pixels"]
    assert pixels["@type"] == OME + "Pixels"
    assert (pixels["SizeX"], pixels["SizeY"], pixels["SizeZ"], pixels["SizeC"],
            pixels["SizeT"]) == (60, 50, 4, 3, 2)
    assert pixels["Type"]["value"] == "uint16"
    assert pixels["PhysicalSizeX"]["Value"] == pytest.approx(0.65)
    assert pixels["PhysicalSizeX"]["Unit"] == "MICROMETER"
    listed = api.client.get("/api/v0/m/images/", headers=alice).json()["data"]
    assert all("Pixels" in image for image in listed) and len(listed) == 3

    with api.vault.catalog.session() as session:
        original = session.scalar(select(OriginalFile).where(
            OriginalFile.store == "ManagedRepository", OriginalFile.name == "cells.ome.tif"))
        assert original is not None
    on_disk = (api.vault.layout.root / original.path).read_bytes()
    part = api.client.get(f"/api/v1/files/{original.id}", headers={**alice,
                                                                  "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == on_disk[:100]
    assert api.client.get(f"/api/v1/files/{original.id}", headers=bob).status_code == 404
    with pytest.raises(InvalidInputError, match="fileset"):
        files.delete_file(api.vault, api.vault.local_admin(), original.id)

    # Filesets move and go whole.
    first, second = double.image_ids
    refused = api.client.post("/api/v1/chgrp", headers=alice, json={
        "group_id": public, "targets": [f"Image:{first}"]})
    assert refused.status_code == 400 and "fileset" in refused.json()["message"]
    moved = api.client.post("/api/v1/chgrp", headers=alice, json={
        "group_id": public, "targets": [f"Image:{first}", f"Image:{second}"]})
    assert moved.status_code == 200 and moved.json()["moved"]["fileset"] == [double.fileset_id]
    with api.vault.catalog.session() as session:
        rows = session.scalars(select(OriginalFile).where(OriginalFile.name == "two.ome.tif"))
        (moved_file,) = rows.all()
        assert moved_file.group_id == public
    assert api.client.get(f"/api/v1/files/{moved_file.id}", headers=bob).status_code == 200

    refused = api.client.delete(f"/api/v1/images/{first}", headers=alice)
    assert refused.status_code == 400 and "delete them together" in refused.json()["message"]
    directory = api.vault.managed.path(double.directory)
    assert directory.is_dir()
    # The fileset's images were moved into alice's read-only group, where she deletes her own.
    assert api.client.delete(f"/api/v1/images/{second}", headers=alice).status_code == 400
    with api.vault.catalog.session() as session:
        before = session.scalar(select(func.count()).select_from(Annotation)) or 0
    assert api.client.delete(f"/api/v1/images/{single.image_ids[0]}",
                             headers=alice).status_code == 204
    with api.vault.catalog.session() as session:
        assert session.get(Fileset, single.fileset_id) is None
        assert session.scalar(select(func.count()).select_from(Annotation)) == before - 1
        assert session.get(OriginalFile, original.id) is None
    assert not api.vault.managed.path(single.directory).exists()
    assert not (api.vault.layout.root / original.path).exists()

    # A fileset of several images goes whole; bob (not its owner) may not, alice may.
    url = f"/api/v1/filesets/{double.fileset_id}"
    assert api.client.delete(url, headers=bob).status_code == 403
    assert api.client.delete(url, headers=world.headers["xavier"]).status_code == 404
    assert api.client.delete(url, headers=alice).status_code == 204
    assert api.client.get(f"/api/v1/images/{first}", headers=alice).status_code == 404
    assert not directory.exists()
    assert api.client.delete(url, headers=alice).status_code == 404
    assert list(api.vault.managed.root.iterdir()) == []


def test_image_metadata_says_what_the_import_read(api: Api, world: World,
                                                   tmp_path: Path) -> None:
    """One call with dimensions, units, channels, fileset and datasets, as its reader may
    see it: another user of a private group gets the same 404 as for no image."""
    import base64

    import numpy as np

    plane = np.arange(12 * 10, dtype=np.uint8).reshape(10, 12)
    bindata = "".join(
        f'<BinData BigEndian="false" Length="120">{base64.b64encode(plane.tobytes()).decode()}'
        "</BinData>" for _ in range(2))
    source = tmp_path / "stained.ome.xml"
    source.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Image ID="Image:0" Name="stained"><AcquisitionDate>2026-03-04T05:06:07'
        '</AcquisitionDate><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" '
        'SizeX="12" SizeY="10" SizeZ="1" SizeC="2" SizeT="1" PhysicalSizeX="0.65" '
        'PhysicalSizeY="0.65" TimeIncrement="2.5">'
        '<Channel ID="Channel:0:0" Name="DAPI" Color="65535" EmissionWavelength="461" '
        'ExcitationWavelength="358" SamplesPerPixel="1"/>'
        '<Channel ID="Channel:0:1" Name="GFP" Color="16711935" EmissionWavelength="510" '
        f'SamplesPerPixel="1"/>{bindata}</Pixels></Image></OME>', encoding="utf-8")
    private = world.groups[Permissions.PRIVATE]
    alice = world.headers["alice"]
    dataset = api.client.post("/api/v1/datasets", headers=alice,
                              json={"name": "Day 1", "group_id": private}).json()
    with api.vault.catalog.session() as session:
        actor = actor_for(session, "alice")
    assert actor is not None
    actor = type(actor)(**{**actor.__dict__, "group_id": private})
    (result,) = imports.run(api.vault, actor, imports.plan([source]),
                            imports.ImportOptions(dataset_id=dataset["id"])).imported
    [image_id] = result.image_ids

    answer = api.client.get(f"/api/v1/images/{image_id}/metadata", headers=alice)
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["name"] == "stained.ome.xml" and shown["owner"]["username"] == "alice"
    assert shown["acquisition_date"].startswith("2026-03-04T05:06:07")
    assert shown["created_at"].endswith("Z")
    assert shown["fileset"] == {"id": result.fileset_id, "format": "OME-XML", "series": 0}
    assert shown["datasets"] == [{"id": dataset["id"], "name": "Day 1"}]
    pixels = shown["pixels"]
    assert [pixels[f"size_{a}"] for a in "xyzct"] == [12, 10, 1, 2, 1]
    assert pixels["pixel_type"] == "uint8" and pixels["significant_bits"] == 8
    assert pixels["physical_size_x"] == {"value": pytest.approx(0.65), "unit": "µm"}
    assert pixels["physical_size_z"] is None
    assert pixels["time_increment"] == {"value": pytest.approx(2.5), "unit": "s"}
    assert pixels["levels"] == [[12, 10]]
    dapi, gfp = shown["channels"]
    assert (dapi["name"], dapi["color"], dapi["emission_wavelength"]["value"],
            dapi["excitation_wavelength"]) == ("DAPI", "0000FF", 461, {"value": 358,
                                                                        "unit": "nm"})
    assert (gfp["name"], gfp["color"], gfp["excitation_wavelength"]) == ("GFP", "00FF00", None)
    assert (dapi["min"], dapi["max"]) == (0.0, 119.0)

    for outsider in ("bob", "xavier"):
        refused = api.client.get(f"/api/v1/images/{image_id}/metadata",
                                 headers=world.headers[outsider])
        assert refused.status_code == 404, outsider
    assert api.client.get("/api/v1/images/999999/metadata", headers=alice).status_code == 404
