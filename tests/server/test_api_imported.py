"""Imported images through the APIs: pixels in OMERO.web's JSON, original files,
deletion and chgrp that keep filesets whole."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from pixelvault.catalog.models import Annotation, Fileset, OriginalFile, Permissions
from pixelvault.catalog.principals import actor_for
from pixelvault.errors import InvalidInputError
from pixelvault.services import files, imports
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
