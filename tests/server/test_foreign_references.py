"""A crafted OME-TIFF naming another user's file, an attachment or a server file from
inside its XML (OMERO's CVE-2019-9944): refused, for uploads and local imports, and
nothing of the target becomes readable."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
import tifffile
from sqlalchemy import func, select

from pixelvault.catalog.models import Fileset, Image, Permissions
from pixelvault.catalog.principals import actor_for
from pixelvault.services import imports
from tests.server.conftest import Api, World

SECRET = np.arange(24 * 32, dtype=np.uint16).reshape(24, 32) * 7 + 3
OWN_UUID = "urn:uuid:0b6f7c1e-0000-4000-8000-00000000aaaa"
TARGET_UUID = "urn:uuid:0b6f7c1e-0000-4000-8000-00000000bbbb"
XML = """<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="{own}">
 <Image ID="Image:0" Name="innocent">
  <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="32" SizeY="24"
          SizeZ="1" SizeC="1" SizeT="1">
   <Channel ID="Channel:0:0" SamplesPerPixel="1"/>
   <TiffData IFD="0" PlaneCount="1"><UUID FileName="{name}">{target}</UUID></TiffData>
  </Pixels>
 </Image>
</OME>"""


def secret_tiff(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, SECRET, photometric="minisblack")
    return path


def attack(path: Path, name: str) -> Path:
    """An OME-TIFF whose one plane is said to be in ``name``; its own page is zeros."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, np.zeros((24, 32), np.uint16),
                     description=XML.format(own=OWN_UUID, name=name, target=TARGET_UUID),
                     metadata=None, photometric="minisblack")
    return path


def climbing(target: Path) -> str:
    """A relative name that lands on ``target`` from any directory of the repository."""
    return "../" * 40 + str(target).lstrip("/")


@pytest.fixture
def targets(api: Api, world: World, tmp_path: Path) -> dict[str, Path]:
    """The three kinds of file an attacker aims at, each holding SECRET."""
    private = world.groups[Permissions.PRIVATE]
    with api.vault.catalog.session() as session:
        alice = actor_for(session, "alice")
    assert alice is not None
    alice = type(alice)(**{**alice.__dict__, "group_id": private})
    plan = imports.plan([secret_tiff(tmp_path / "alice" / "secret.tif")])
    (imported,) = imports.run(api.vault, alice, plan, imports.ImportOptions()).imported
    (managed,) = api.vault.managed.path(imported.directory).rglob("secret.tif")
    data = (tmp_path / "alice" / "secret.tif").read_bytes()
    made = api.client.post("/api/v1/projects", headers=world.headers["alice"],
                           json={"name": "p"})
    project = made.json()["id"]
    attached = api.client.post(f"/api/v1/projects/{project}/attachments?name=secret.tif",
                               headers=world.headers["alice"], content=data)
    assert attached.status_code == 201, attached.text
    attachment = api.vault.layout.root / "Files" / str(attached.json()["file"]["id"])
    outside = secret_tiff(tmp_path / "server" / "etc" / "secret.tif")
    return {"another user's import": managed, "an attachment": attachment,
            "a file outside the repository": outside}


def upload(api: Api, headers: dict[str, str], path: Path) -> tuple[int, dict[str, object]]:
    data = path.read_bytes()
    made = api.client.post("/api/v1/imports", headers=headers, json={"files": [{
        "client_path": f"/home/bob/exp/{path.name}", "size": len(data),
        "checksum": hashlib.sha1(data).hexdigest()}]})  # noqa: S324 - OMERO's default
    assert made.status_code == 201, made.text
    url = f"/api/v1/imports/{made.json()['id']}"
    assert api.client.put(f"{url}/files/0?offset=0", headers=headers,
                          content=data).status_code == 200
    done = api.client.post(f"{url}/finish", headers=headers)
    return done.status_code, done.json()


def nothing_of_bob(api: Api, world: World) -> None:
    bob = world.headers["bob"]
    assert api.client.get("/api/v1/images", headers=bob).json()["data"] == []
    with api.vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Image)
                              .where(Image.owner_id == world.users["bob"])) == 0
        assert session.scalar(select(func.count()).select_from(Fileset)
                              .where(Fileset.owner_id == world.users["bob"])) == 0


@pytest.mark.parametrize("kind", ["another user's import", "an attachment",
                                  "a file outside the repository"])
@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_an_upload_naming_a_file_outside_its_fileset_is_refused(
        api: Api, world: World, tmp_path: Path, targets: dict[str, Path], kind: str,
        absolute: bool) -> None:
    target = targets[kind]
    name = str(target) if absolute else climbing(target)
    status, answer = upload(api, world.headers["bob"], attack(tmp_path / "bob" / "a.ome.tif",
                                                              name))
    assert status == 422, answer
    assert "not one of the files imported with it" in str(answer["message"])
    nothing_of_bob(api, world)


@pytest.mark.parametrize("kind", ["another user's import", "an attachment",
                                  "a file outside the repository"])
def test_a_local_import_naming_a_file_outside_its_fileset_is_refused(
        api: Api, world: World, tmp_path: Path, targets: dict[str, Path], kind: str) -> None:
    with api.vault.catalog.session() as session:
        bob = actor_for(session, "bob")
    assert bob is not None
    source = attack(tmp_path / "bob" / "scope" / "a.ome.tif", climbing(targets[kind]))
    plan = imports.plan([source.parent])
    assert plan.filesets == []
    (skipped,) = plan.skipped
    assert "not one of the files imported with it" in skipped.reason
    outcome = imports.run(api.vault, bob, plan, imports.ImportOptions())
    assert outcome.imported == []
    nothing_of_bob(api, world)


def test_a_renamed_ome_tiff_naming_its_own_uuid_is_its_own_target(
        api: Api, world: World, tmp_path: Path) -> None:
    """Bio-Formats' rule: the block's UUID is the file's own, so the file is its target,
    whatever old name the block still carries."""
    path = tmp_path / "renamed.ome.tif"
    tifffile.imwrite(path, SECRET, metadata=None, photometric="minisblack",
                     description=XML.format(own=TARGET_UUID, name="acquired-as.ome.tif",
                                            target=TARGET_UUID))
    status, answer = upload(api, world.headers["bob"], path)
    assert status == 200, answer
    images = answer["images"]
    assert isinstance(images, list) and len(images) == 1
    image = images[0]
    pixels = api.client.get(f"/api/v1/images/{image}/pixels?format=npy",
                            headers=world.headers["bob"])
    assert pixels.status_code == 200, pixels.text
    np.testing.assert_array_equal(np.load(io.BytesIO(pixels.content)), SECRET)
