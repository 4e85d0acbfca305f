"""Imports over HTTP: announce, send (resumable), finish; damage and strangers refused."""

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pixelvault.catalog.models import Fileset
from tests.formats.samples import ome_tiff, png_bomb
from tests.server.conftest import Api, World


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # noqa: S324 - OMERO's default checksum


def announce(api: Api, headers: dict[str, str], data: bytes,
             **extra: object) -> dict[str, Any]:
    answer = api.client.post("/api/v1/imports", headers=headers, json={
        "files": [{"client_path": "/home/alice/exp/day1/cells.ome.tif", "size": len(data),
                   "checksum": sha1(data)}], **extra})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def test_upload_resume_and_finish(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    data = ome_tiff(tmp_path).path.read_bytes()
    upload = announce(api, alice, data, dataset="Day 1")
    url = f"/api/v1/imports/{upload['id']}"
    assert upload["files"][0]["received"] == 0
    assert upload["files"][0]["path"] == "alice/exp/day1/cells.ome.tif"
    half = len(data) // 2
    sent = api.client.put(f"{url}/files/0?offset=0", headers=alice, content=data[:half])
    assert sent.status_code == 200 and sent.json()["received"] == half
    # Imports under way are jobs with progress: the owner's, and every one for admins.
    jobs = api.client.get("/api/v1/imports", headers=alice).json()
    assert [(j["id"], j["received"], j["bytes"]) for j in jobs] == [
        (upload["id"], half, len(data))]
    assert api.client.get("/api/v1/imports", headers=world.headers["bob"]).json() == []
    assert len(api.client.get("/api/v1/imports", headers=world.headers["root"]).json()) == 1
    # The connection dropped: the status says where to resume; a wrong offset is refused.
    assert api.client.get(url, headers=alice).json()["files"][0]["received"] == half
    wrong = api.client.put(f"{url}/files/0?offset=0", headers=alice, content=data)
    assert wrong.status_code == 409 and f"offset {half}" in wrong.json()["message"]
    early = api.client.post(f"{url}/finish", headers=alice)
    assert early.status_code == 400 and "send the rest" in early.json()["message"]
    too_much = api.client.put(f"{url}/files/0?offset={half}", headers=alice,
                              content=data[half:] + b"extra")
    assert too_much.status_code == 400
    assert api.client.get(url, headers=alice).json()["files"][0]["received"] == half
    rest = api.client.put(f"{url}/files/0?offset={half}", headers=alice, content=data[half:])
    assert rest.json()["received"] == len(data)
    # Strangers see no upload at all.
    for who in ("bob", "xavier"):
        assert api.client.get(url, headers=world.headers[who]).status_code == 404
        assert api.client.post(f"{url}/finish", headers=world.headers[who]).status_code == 404
    done = api.client.post(f"{url}/finish", headers=alice)
    assert done.status_code == 200, done.text
    (image,) = done.json()["images"]
    got = api.client.get(f"/api/v0/m/images/{image}/", headers=alice).json()["data"]
    assert got["Name"] == "cells.ome.tif" and got["Pixels"]["SizeZ"] == 4
    datasets = api.client.get("/api/v1/datasets", headers=alice).json()["data"]
    assert [d["name"] for d in datasets] == ["Day 1"]
    listed = api.client.get(f"/api/v1/datasets/{datasets[0]['id']}/images", headers=alice)
    assert [i["id"] for i in listed.json()["data"]] == [image]
    assert api.client.get(url, headers=alice).status_code == 404  # no longer an upload


def test_damage_on_the_way_fails_the_fileset_and_leaves_nothing(api: Api, world: World,
                                                               tmp_path: Path) -> None:
    alice = world.headers["alice"]
    data = ome_tiff(tmp_path).path.read_bytes()
    upload = announce(api, alice, data)
    url = f"/api/v1/imports/{upload['id']}"
    damaged = bytearray(data)
    damaged[1000] ^= 0x01
    api.client.put(f"{url}/files/0", headers=alice, content=bytes(damaged))
    failed = api.client.post(f"{url}/finish", headers=alice)
    assert failed.status_code == 422 and "arrived damaged" in failed.json()["message"]
    assert "cells.ome.tif" in failed.json()["message"]
    with api.vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Fileset)) == 0
    assert list(api.vault.managed.root.iterdir()) == []


def test_announcements_are_checked_and_uploads_can_be_abandoned(api: Api,
                                                                world: World) -> None:
    alice = world.headers["alice"]
    for files in ([], [{"client_path": "a.tif", "size": -1, "checksum": "0" * 40}],
                  [{"client_path": "a.tif", "size": 1, "checksum": "xyz"}],
                  [{"client_path": "d/a.tif", "size": 1, "checksum": "0" * 40},
                   {"client_path": "d/a.tif", "size": 1, "checksum": "0" * 40}]):
        refused = api.client.post("/api/v1/imports", headers=alice, json={"files": files})
        assert refused.status_code == 400, files
    hostile = announce(api, alice, b"x", checksum_algorithm="SHA1-160")
    busy = api.client.delete(f"/api/v1/filesets/{hostile['id']}", headers=alice)
    assert busy.status_code == 409 and "/api/v1/imports/" in busy.json()["message"]
    upload = api.client.post("/api/v1/imports", headers=alice, json={"files": [
        {"client_path": "../../../etc/passwd", "size": 1, "checksum": sha1(b"x")}]}).json()
    assert ".." not in upload["files"][0]["path"].split("/")
    for made in (hostile, upload):
        assert api.client.delete(f"/api/v1/imports/{made['id']}",
                                 headers=alice).status_code == 204
    assert list(api.vault.managed.root.iterdir()) == []


def test_a_dataset_deleted_during_the_upload_fails_it_cleanly(api: Api, world: World,
                                                              tmp_path: Path) -> None:
    alice = world.headers["alice"]
    data = ome_tiff(tmp_path).path.read_bytes()
    upload = announce(api, alice, data, dataset="Soon gone")
    dataset = api.client.get("/api/v1/datasets", headers=alice).json()["data"][0]["id"]
    url = f"/api/v1/imports/{upload['id']}"
    api.client.put(f"{url}/files/0", headers=alice, content=data)
    assert api.client.delete(f"/api/v1/datasets/{dataset}", headers=alice).status_code == 204
    failed = api.client.post(f"{url}/finish", headers=alice)
    assert failed.status_code == 404 and "dataset" in failed.json()["message"]
    with api.vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Fileset)) == 0
    assert list(api.vault.managed.root.iterdir()) == []
    refused = api.client.post("/api/v1/imports", headers=alice, json={"files": [
        {"client_path": "d/.a.tif.part", "size": 1, "checksum": sha1(b"x")}]})
    assert refused.status_code == 400 and "partial files" in refused.json()["message"]


def test_in_place_through_the_server_is_for_administrators_who_see_its_files(
        api: Api, world: World, tmp_path: Path) -> None:
    import os

    source = ome_tiff(tmp_path).path
    data = source.read_bytes()
    files = [{"client_path": str(source), "size": len(data), "checksum": sha1(data)}]
    refused = api.client.post("/api/v1/imports", headers=world.headers["alice"],
                              json={"files": files, "transfer": "ln_s", "dataset": "New"})
    assert refused.status_code == 403 and "administrators" in refused.json()["message"]
    assert api.client.get("/api/v1/datasets", headers=world.headers["alice"]
                          ).json()["data"] == []  # nothing made before the refusal
    root = world.headers["root"]
    for bad in ("relative/cells.tif", f"{tmp_path}/../cells.tif", f"{source}\x00x"):
        hostile = api.client.post("/api/v1/imports", headers=root, json={
            "files": [{**files[0], "client_path": bad}], "transfer": "ln_s"})
        assert hostile.status_code == 400, bad

    started = api.client.post("/api/v1/imports", headers=root,
                              json={"files": files, "transfer": "ln_s"})
    assert started.status_code == 201, started.text
    made = started.json()
    url = f"/api/v1/imports/{made['id']}/finish"
    assert api.client.post(url, headers=root).status_code == 400  # no token
    wrong = api.client.post(url, headers=root, json={"token": "0" * 64})
    assert wrong.status_code == 403 and "same path" in wrong.json()["message"]
    token = Path(made["token_path"]).read_text()
    done = api.client.post(url, headers=root, json={"token": token})
    assert done.status_code == 200, done.text
    linked = next(p for p in api.vault.managed.root.rglob("cells.ome.tif"))
    assert linked.is_symlink() and os.readlink(linked) == str(source)
    assert not Path(made["token_path"]).exists()
    assert len(done.json()["images"]) == 1

    # A path naming other bytes on the server fails by name and leaves nothing.
    other = tmp_path / "other.ome.tif"
    other.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    claims = [{"client_path": str(other), "size": len(data), "checksum": sha1(data)}]
    started = api.client.post("/api/v1/imports", headers=root,
                              json={"files": claims, "transfer": "cp"}).json()
    failed = api.client.post(f"/api/v1/imports/{started['id']}/finish", headers=root,
                             json={"token": Path(started["token_path"]).read_text()})
    assert failed.status_code == 422 and "not the same file" in failed.json()["message"]
    with api.vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Fileset)) == 1


def test_a_client_that_does_not_see_the_servers_repository_is_told_to_upload(
        tmp_path: Path) -> None:
    import pytest

    from pixelvault.client.importing import _token
    from pixelvault.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="--transfer upload"):
        _token({"token_path": str(tmp_path / "elsewhere" / ".pixelvault-in-place-token")})


def test_checksums_may_come_with_the_finish(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    data = ome_tiff(tmp_path).path.read_bytes()
    made = announce(api, alice, data, checksum_algorithm="SHA1-160")
    # Announced without a checksum: the client hashes while it sends.
    later = api.client.post("/api/v1/imports", headers=alice, json={"files": [
        {"client_path": "/home/alice/exp/day2/cells.ome.tif", "size": len(data),
         "checksum": ""}]}).json()
    url = f"/api/v1/imports/{later['id']}"
    api.client.put(f"{url}/files/0", headers=alice, content=data)
    missing = api.client.post(f"{url}/finish", headers=alice)
    assert missing.status_code == 400 and "with the finish" in missing.json()["message"]
    short = api.client.post(f"{url}/finish", headers=alice, json={"checksums": []})
    assert short.status_code == 400 and "give 1 checksums" in short.json()["message"]
    wrong = api.client.post(f"{url}/finish", headers=alice, json={"checksums": ["0" * 40]})
    assert wrong.status_code == 422 and "arrived damaged" in wrong.json()["message"]
    # A failed finish leaves nothing; the first upload still finishes as announced.
    assert api.client.get(url, headers=alice).status_code == 404
    first = f"/api/v1/imports/{made['id']}"
    api.client.put(f"{first}/files/0", headers=alice, content=data)
    differs = api.client.post(f"{first}/finish", headers=alice, json={"checksums": ["1" * 40]})
    assert differs.status_code == 422 and "not the one announced" in differs.json()["message"]


def test_announcements_that_no_filesystem_can_hold_are_400(api: Api, world: World) -> None:
    alice = world.headers["alice"]
    checksum = sha1(b"x")
    both = api.client.post("/api/v1/imports", headers=alice, json={"files": [
        {"client_path": "d/a", "size": 1, "checksum": checksum},
        {"client_path": "d/a/b.png", "size": 1, "checksum": checksum}]})
    assert both.status_code == 400, both.text
    assert "'d/a' is a file and also a directory above 'd/a/b.png'" in both.json()["message"]
    for name, limit in (("x" * 300 + ".png", "247 bytes"), ("é" * 124 + ".png", "247 bytes"),
                        ("é" * 128 + "/a.png", "255 bytes")):
        long = api.client.post("/api/v1/imports", headers=alice, json={"files": [
            {"client_path": f"exp/{name}", "size": 1, "checksum": checksum}]})
        assert long.status_code == 400, long.text
        assert limit in long.json()["message"] and "shorten" in long.json()["message"]
    # The longest name that fits is taken, sent and imported as announced.
    name = "y" * 243 + ".txt"
    made = api.client.post("/api/v1/imports", headers=alice, json={"files": [
        {"client_path": f"exp/{name}", "size": 1, "checksum": checksum}]})
    assert made.status_code == 201, made.text
    sent = api.client.put(f"/api/v1/imports/{made.json()['id']}/files/0", headers=alice,
                          content=b"x")
    assert sent.status_code == 200, sent.text
    with api.vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Fileset)) == 1


def test_an_uploaded_png_declaring_ten_billion_pixels_fails_and_leaves_nothing(
        api: Api, world: World) -> None:
    alice = world.headers["alice"]
    data = png_bomb()
    made = api.client.post("/api/v1/imports", headers=alice, json={"files": [
        {"client_path": "/home/alice/bomb.png", "size": len(data), "checksum": sha1(data)}]})
    url = f"/api/v1/imports/{made.json()['id']}"
    assert api.client.put(f"{url}/files/0", headers=alice, content=data).status_code == 200
    failed = api.client.post(f"{url}/finish", headers=alice)
    assert failed.status_code == 422, failed.text
    assert failed.json()["message"].startswith("bomb.png: Image size (10000000000 pixels)")
    with api.vault.catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Fileset)) == 0
    assert list(api.vault.managed.root.iterdir()) == []
