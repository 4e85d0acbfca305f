"""Annotations and attachments through the API, with OMERO's rights to annotate."""

import hashlib
import os
from collections.abc import Iterator

import pytest

from pixelvault.catalog.models import Permissions
from tests.server.conftest import Api, World

LEVELS = list(Permissions)
ANNOTATE = {"bob": {Permissions.READ_ANNOTATE, Permissions.READ_WRITE},
            "olga": {Permissions.READ_ONLY, Permissions.READ_ANNOTATE, Permissions.READ_WRITE},
            "xavier": set(), "alice": set(LEVELS), "root": set(LEVELS)}
READ = {"bob": {Permissions.READ_ONLY, Permissions.READ_ANNOTATE, Permissions.READ_WRITE},
        "olga": set(LEVELS), "xavier": set(), "alice": set(LEVELS), "root": set(LEVELS)}


def projects(api: Api, world: World) -> dict[Permissions, int]:
    ids = {}
    for level, group_id in world.groups.items():
        answer = api.client.post("/api/v1/projects", headers=world.headers["alice"],
                                 json={"name": level.value, "group_id": group_id})
        ids[level] = answer.json()["id"]
    return ids


@pytest.mark.parametrize("who", ["alice", "bob", "olga", "xavier", "root"])
def test_who_may_annotate_and_read_annotations(api: Api, world: World, who: str) -> None:
    ids = projects(api, world)
    for level, project_id in ids.items():
        api.client.post(f"/api/v1/projects/{project_id}/annotations",
                        headers=world.headers["alice"], json={"type": "tag", "text": "mitosis"})
        made = api.client.post(f"/api/v1/projects/{project_id}/annotations",
                               headers=world.headers[who],
                               json={"type": "comment", "text": f"seen by {who}"})
        expected = 201 if level in ANNOTATE[who] else 403 if level in READ[who] else 404
        assert made.status_code == expected, (level, made.text)
        listed = api.client.get(f"/api/v1/projects/{project_id}/annotations",
                                headers=world.headers[who])
        assert listed.status_code == (200 if level in READ[who] else 404)
        if level in READ[who]:
            assert "mitosis" in {a["text"] for a in listed.json()}


def test_map_annotations_keep_order_and_repeated_keys(api: Api, world: World) -> None:
    project = projects(api, world)[Permissions.READ_ANNOTATE]
    values = [["Cell line", "HeLa"], ["Stain", "DAPI"], ["Stain", "GFP"]]
    made = api.client.post(f"/api/v1/projects/{project}/annotations",
                           headers=world.headers["bob"], json={"type": "map", "values": values})
    assert made.status_code == 201 and made.json()["values"] == values
    for body in ({"type": "map"}, {"type": "comment"}, {"type": "rating", "text": "5"},
                 {"type": "map", "values": [["", "x"]]}, {"type": "file", "text": "x"}):
        bad = api.client.post(f"/api/v1/projects/{project}/annotations",
                              headers=world.headers["bob"], json=body)
        assert bad.status_code == 400, body


def test_attachments_stream_in_and_download_with_ranges(api: Api, world: World) -> None:
    project = projects(api, world)[Permissions.READ_ONLY]
    data = os.urandom(3 * 1024 * 1024 + 11)

    def body() -> Iterator[bytes]:  # streamed, without Content-Length
        for start in range(0, len(data), 100_000):
            yield data[start:start + 100_000]

    made = api.client.post(f"/api/v1/projects/{project}/attachments?name=../../etc/notes.bin",
                           headers=world.headers["alice"], content=body())
    assert made.status_code == 201, made.text
    info = made.json()["file"]
    assert info["name"] == "notes.bin" and info["size"] == len(data)
    assert info["hasher"] == "SHA1-160"
    assert info["hash"] == hashlib.sha1(data).hexdigest()  # noqa: S324 - OMERO's algorithm
    on_disk = api.vault.layout.root / "Files" / str(info["id"])
    assert on_disk.read_bytes() == data

    url = f"/api/v1/files/{info['id']}"
    bob = world.headers["bob"]  # a member of the read-only group may read it
    full = api.client.get(url, headers=bob)
    assert full.status_code == 200 and full.content == data
    assert "filename*=UTF-8''notes.bin" in full.headers["content-disposition"]
    assert full.headers["x-content-type-options"] == "nosniff"
    part = api.client.get(url, headers={**bob, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = api.client.get(url, headers={**bob, "Range": "bytes=-10"})
    assert tail.content == data[-10:]
    beyond = api.client.get(url, headers={**bob, "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"
    assert api.client.get(url, headers=world.headers["xavier"]).status_code == 404

    # Bob may read but not annotate in a read-only group: nothing is written.
    refused = api.client.post(f"/api/v1/projects/{project}/attachments?name=x.bin",
                              headers=bob, content=b"intruding bytes")
    assert refused.status_code == 403
    assert sorted(p.name for p in (api.vault.layout.root / "Files").iterdir()) == [
        str(info["id"])]

    # Deleting the annotation frees the bytes.
    annotation_id = made.json()["id"]
    assert api.client.delete(f"/api/v1/annotations/{annotation_id}",
                             headers=bob).status_code == 403
    assert api.client.delete(f"/api/v1/annotations/{annotation_id}",
                             headers=world.headers["alice"]).status_code == 204
    assert not on_disk.exists()
    assert api.client.get(url, headers=world.headers["alice"]).status_code == 404


@pytest.mark.parametrize("name", ["a\x00b.txt", "..", "/", "x" * 2000])
def test_hostile_attachment_names(api: Api, world: World, name: str) -> None:
    project = projects(api, world)[Permissions.PRIVATE]
    made = api.client.post(f"/api/v1/projects/{project}/attachments",
                           params={"name": name}, headers=world.headers["alice"], content=b"x")
    if len(name) > 1024 or "\x00" in name:  # control characters are refused, not cleaned
        assert made.status_code == 400
        return
    assert made.status_code == 201, made.text
    stored = made.json()["file"]["name"]
    assert "/" not in stored and "\x00" not in stored and stored not in ("", ".", "..")
    assert (api.vault.layout.root / "Files" / str(made.json()["file"]["id"])).is_file()


def test_a_script_attached_is_never_served_as_script(api: Api, world: World) -> None:
    """A user's file of a script type comes back as bytes (with nosniff): no page of
    this origin could ever load it as a script."""
    project = projects(api, world)[Permissions.READ_ONLY]
    for declared in ("application/javascript", "text/javascript; charset=utf-8",
                     "application/ECMAScript"):
        made = api.client.post(f"/api/v1/projects/{project}/attachments?name=evil.js",
                               headers={**world.headers["alice"], "Content-Type": declared},
                               content=b"alert(1)")
        assert made.status_code == 201, made.text
        served = api.client.get(f"/api/v1/files/{made.json()['file']['id']}",
                                headers=world.headers["alice"])
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["x-content-type-options"] == "nosniff"
    kept = api.client.post(f"/api/v1/projects/{project}/attachments?name=notes.txt",
                           headers={**world.headers["alice"], "Content-Type": "text/plain"},
                           content=b"notes")
    served = api.client.get(f"/api/v1/files/{kept.json()['file']['id']}",
                            headers=world.headers["alice"])
    assert served.headers["content-type"].startswith("text/plain")
