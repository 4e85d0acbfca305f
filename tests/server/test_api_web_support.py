"""What the web application asks beyond OMERO's routes: a delete's dry run, a fileset's
original files, an image's parents, search field completion, and administrators'
edits of users and groups (a group's permission level included)."""

from pathlib import Path

from sqlalchemy import func, select

from pixelvault.catalog.models import AnnotationLink, Fileset, Image, OriginalFile, Permissions, Roi
from tests.formats.samples import ome_multiseries, ome_tiff
from tests.server.conftest import Api, World, add_image
from tests.server.test_api_imported import import_as


def _count(api: Api, model: type) -> int:
    with api.vault.catalog.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_delete_dry_run_says_what_goes_and_changes_nothing(api: Api, world: World,
                                                           tmp_path: Path) -> None:
    alice, bob = world.headers["alice"], world.headers["bob"]
    group = world.groups[Permissions.READ_ANNOTATE]
    double = import_as(api, "alice", group, ome_multiseries(tmp_path).path)
    first, second = double.image_ids
    api.client.post(f"/api/v1/images/{first}/annotations", headers=alice,
                    json={"type": "comment", "text": "only here"})
    with api.vault.catalog.session() as session:
        session.add(Roi(image_id=first, owner_id=world.users["alice"], group_id=group))
    files_before, images_before = _count(api, OriginalFile), _count(api, Image)
    directory = api.vault.managed.path(double.directory)

    # an image of a fileset of two: refused with the way out, dry run or not
    for dry in (True, False):
        refused = api.client.post("/api/v1/delete", headers=alice,
                                  json={"target": f"Image:{first}", "dry_run": dry})
        assert refused.status_code == 400 and "Fileset" in refused.json()["message"]

    plan = api.client.post("/api/v1/delete", headers=alice,
                           json={"target": f"Fileset:{double.fileset_id}", "dry_run": True})
    assert plan.status_code == 200, plan.text
    answer = plan.json()
    assert answer["dry_run"] is True and answer["kind"] == "fileset"
    assert sorted(answer["images"]) == sorted(double.image_ids)
    assert answer["filesets"] == [double.fileset_id]
    with api.vault.catalog.session() as session:  # the comment, and the import's own
        linked = session.scalar(select(func.count(AnnotationLink.annotation_id.distinct())).where(
            AnnotationLink.parent_kind == "image",
            AnnotationLink.parent_id.in_(double.image_ids)))
    assert linked and linked >= 2 and (answer["annotations"], answer["rois"]) == (linked, 1)
    assert answer["original_files"] == 1
    assert answer["bytes"] == next(directory.rglob("two.ome.tif")).stat().st_size
    # nothing went: rows, bytes and ROIs all stay
    assert (_count(api, OriginalFile), _count(api, Image)) == (files_before, images_before)
    assert _count(api, Roi) == 1 and directory.is_dir()
    assert api.client.get(f"/api/v1/images/{second}", headers=alice).status_code == 200

    # who may not delete is told so by the dry run too; who may not see, not found
    assert api.client.post("/api/v1/delete", headers=bob, json={
        "target": f"Fileset:{double.fileset_id}", "dry_run": True}).status_code == 403
    assert api.client.post("/api/v1/delete", headers=world.headers["xavier"], json={
        "target": f"Fileset:{double.fileset_id}", "dry_run": True}).status_code == 404
    assert api.client.post("/api/v1/delete", headers=alice, json={
        "target": "Roi:1", "dry_run": True}).status_code == 400

    done = api.client.post("/api/v1/delete", headers=alice,
                           json={"target": f"Fileset:{double.fileset_id}"})
    assert done.status_code == 200 and done.json() == answer | {"dry_run": False}
    assert not directory.exists() and _count(api, Roi) == 0
    with api.vault.catalog.session() as session:
        assert session.get(Fileset, double.fileset_id) is None


def test_fileset_files_parents_and_download(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    group = world.groups[Permissions.PRIVATE]
    single = import_as(api, "alice", group, ome_tiff(tmp_path).path)
    image = single.image_ids[0]
    project = api.client.post("/api/v1/projects", headers=alice,
                              json={"name": "p", "group_id": group}).json()["id"]
    dataset = api.client.post("/api/v1/datasets", headers=alice,
                              json={"name": "d", "group_id": group}).json()["id"]
    api.client.post(f"/api/v1/projects/{project}/datasets", headers=alice,
                    json={"child_id": dataset})
    api.client.post(f"/api/v1/datasets/{dataset}/images", headers=alice, json={"child_id": image})

    about = api.client.get(f"/api/v1/images/{image}/metadata", headers=alice).json()
    assert about["projects"] == [{"id": project, "name": "p"}]
    assert about["datasets"] == [{"id": dataset, "name": "d"}] and about["plate"] is None

    listed = api.client.get(f"/api/v1/filesets/{single.fileset_id}/files", headers=alice)
    assert listed.status_code == 200, listed.text
    (entry,) = listed.json()
    assert entry["name"] == "cells.ome.tif" and entry["hasher"] == "SHA1-160"
    body = api.client.get(f"/api/v1/files/{entry['id']}", headers=alice)
    assert body.status_code == 200 and len(body.content) == entry["size"]
    assert "cells.ome.tif" in body.headers["content-disposition"]
    for outsider in ("bob", "xavier"):  # bob shares the private group: still not his data
        assert api.client.get(f"/api/v1/filesets/{single.fileset_id}/files",
                              headers=world.headers[outsider]).status_code == 404


def test_search_fields_complete_with_keys_the_user_may_read(api: Api, world: World) -> None:
    alice, bob = world.headers["alice"], world.headers["bob"]
    private = world.groups[Permissions.PRIVATE]
    image = add_image(api, world.users["alice"], private)
    api.client.post(f"/api/v1/images/{image}/annotations", headers=alice,
                    json={"type": "map", "values": [["Stain Name", "DAPI"],
                                                    ["secret%key", "x"]]})
    mine = api.client.get("/api/v1/search/fields?prefix=st", headers=alice).json()
    assert mine == {"fields": [], "keys": ["stain_name"]}
    assert api.client.get("/api/v1/search/fields?prefix=st", headers=bob).json()["keys"] == []
    # keys are offered as queries name them: lower case, other characters as "_"
    assert api.client.get("/api/v1/search/fields?prefix=secret_",
                          headers=alice).json()["keys"] == ["secret_key"]
    names = api.client.get("/api/v1/search/fields?prefix=", headers=alice).json()["fields"]
    assert {"name", "tag", "created", "type"} <= set(names)
    assert api.client.get("/api/v1/search/fields?prefix=" + "x" * 101,
                          headers=alice).status_code == 400  # validation errors are 400 here


def test_administrators_edit_users(api: Api, world: World) -> None:
    root, alice = world.headers["root"], world.headers["alice"]
    bob = world.users["bob"]
    changed = api.client.patch(f"/api/v1/users/{bob}", headers=root,
                               json={"first_name": "Robert", "email": "bob@lab.org"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["first_name"], changed.json()["last_name"],
            changed.json()["email"]) == ("Robert", "Lab", "bob@lab.org")
    assert api.client.patch(f"/api/v1/users/{bob}", headers=alice,
                            json={"first_name": "x"}).status_code == 403
    made = api.client.patch(f"/api/v1/users/{bob}", headers=root, json={"admin": True})
    assert made.json()["is_admin"] is True
    bob_headers = api.login("bob")
    assert api.client.get("/api/v1/usage", headers=bob_headers).status_code == 200
    # nobody takes their own flag, nor root's
    assert api.client.patch(f"/api/v1/users/{bob}", headers=bob_headers,
                            json={"admin": False}).status_code == 400
    root_id = next(u["id"] for u in api.client.get("/api/v1/users", headers=root).json()
                   if u["username"] == "root")
    assert api.client.patch(f"/api/v1/users/{root_id}", headers=bob_headers,
                            json={"admin": False}).status_code == 400
    assert api.client.patch(f"/api/v1/users/{bob}", headers=root,
                            json={"admin": False}).status_code == 200
    # the session's rights follow at once
    assert api.client.get("/api/v1/usage", headers=bob_headers).status_code == 403
    assert api.client.patch(f"/api/v1/users/{bob}", headers=root,
                            json={"email": "a\x00b"}).status_code == 400
    assert api.client.patch("/api/v1/users/99999", headers=root,
                            json={"email": "x"}).status_code == 404


def test_group_level_changes_and_going_private_needs_no_shared_links(api: Api,
                                                                     world: World) -> None:
    root, alice, bob, olga = (world.headers[n] for n in ("root", "alice", "bob", "olga"))
    group = world.groups[Permissions.READ_ANNOTATE]
    image = add_image(api, world.users["alice"], group)
    url = f"/api/v1/groups/{group}"
    # owners describe their group; only administrators change its name or level
    assert api.client.patch(url, headers=olga, json={"description": "<b>lab</b>"}
                            ).json()["description"] == "<b>lab</b>"
    assert api.client.patch(url, headers=olga, json={"type": "read-write"}).status_code == 403
    assert api.client.patch(url, headers=alice, json={"description": "x"}).status_code == 403
    assert api.client.patch(url, headers=world.headers["xavier"],
                            json={"description": "x"}).status_code == 404

    # bob comments on alice's image: the group cannot go private while that link stands
    comment = api.client.post(f"/api/v1/images/{image}/annotations", headers=bob,
                              json={"type": "comment", "text": "nice"})
    assert comment.status_code == 201, comment.text
    refused = api.client.patch(url, headers=root, json={"type": "private"})
    assert refused.status_code == 400 and "link" in refused.json()["message"]
    assert api.client.patch(url, headers=root, json={"type": "read-only"}
                            ).json()["permissions"] == Permissions.READ_ONLY.value
    api.client.delete(f"/api/v1/annotations/{comment.json()['id']}", headers=root)
    assert api.client.patch(url, headers=root, json={"type": "private", "name": "lab-closed"}
                            ).json() | {"description": ""} == {
        "id": group, "name": "lab-closed", "permissions": Permissions.PRIVATE.value,
        "description": ""}
    # bob's session sees the new level at once: alice's image is hers alone now
    assert api.client.get(f"/api/v1/images/{image}/metadata", headers=bob).status_code == 404
    assert api.client.patch(url, headers=root, json={"type": "rwxrwx"}).status_code == 400
    taken = api.client.patch(url, headers=root,
                             json={"name": f"lab-{Permissions.READ_ONLY.name.lower()}"})
    assert taken.status_code == 400 and "exists" in taken.json()["message"]
    system = next(g["id"] for g in api.client.get("/api/v1/groups", headers=root).json()
                  if g["name"] == "system")
    assert api.client.patch(f"/api/v1/groups/{system}", headers=root,
                            json={"type": "private"}).status_code == 400


def test_containers_and_rois_across_owners_keep_a_group_from_going_private(
        api: Api, world: World) -> None:
    root, alice, bob = (world.headers[n] for n in ("root", "alice", "bob"))
    shared = world.groups[Permissions.READ_WRITE]
    image = add_image(api, world.users["alice"], shared)
    dataset = api.client.post("/api/v1/datasets", headers=bob,
                              json={"name": "bob's", "group_id": shared}).json()["id"]
    assert api.client.post(f"/api/v1/datasets/{dataset}/images", headers=bob,
                           json={"child_id": image}).status_code == 204
    url = f"/api/v1/groups/{shared}"
    assert api.client.patch(url, headers=root, json={"type": "private"}).status_code == 400
    api.client.delete(f"/api/v1/datasets/{dataset}/images/{image}", headers=bob)
    with api.vault.catalog.session() as session:  # bob's ROI on alice's image
        roi = Roi(image_id=image, owner_id=world.users["bob"], group_id=shared)
        session.add(roi)
        session.flush()
        roi_id = roi.id
    assert api.client.patch(url, headers=root, json={"type": "private"}).status_code == 400
    assert api.client.delete(f"/api/v1/rois/{roi_id}", headers=alice).status_code == 204
    assert api.client.patch(url, headers=root, json={"type": "private"}).status_code == 200
    # a misspelt field is refused, not ignored; so is an empty level
    assert api.client.patch(url, headers=root, json={"typ": "read-only"}).status_code == 400
    assert api.client.patch(url, headers=root, json={"type": ""}).status_code == 400


def test_key_value_pairs_replaced_and_file_sizes_per_image(api: Api, world: World,
                                                            tmp_path: Path) -> None:
    alice, bob = world.headers["alice"], world.headers["bob"]
    group = world.groups[Permissions.READ_ANNOTATE]
    single = import_as(api, "alice", group, ome_tiff(tmp_path).path)
    image = single.image_ids[0]
    made = api.client.post(f"/api/v1/images/{image}/annotations", headers=alice,
                           json={"type": "map", "values": [["Stain", "DAPI"]]}).json()
    url = f"/api/v1/annotations/{made['id']}/values"
    changed = api.client.put(url, headers=alice, json={"values": [["Stain", "Hoechst"],
                                                                  ["Binning", "2x2"]]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["values"] == [["Stain", "Hoechst"], ["Binning", "2x2"]]
    assert api.client.put(url, headers=bob, json={"values": [["x", "y"]]}).status_code == 403
    assert api.client.put(url, headers=alice, json={"values": []}).status_code == 400
    assert api.client.put(url, headers=world.headers["xavier"],
                          json={"values": [["x", "y"]]}).status_code == 404

    dataset = api.client.post("/api/v1/datasets", headers=alice,
                              json={"name": "d", "group_id": group}).json()["id"]
    api.client.post(f"/api/v1/datasets/{dataset}/images", headers=alice, json={"child_id": image})
    loose = add_image(api, world.users["alice"], group)  # made from arrays: no files
    api.client.post(f"/api/v1/datasets/{dataset}/images", headers=alice, json={"child_id": loose})
    sizes = api.client.get(f"/api/v1/datasets/{dataset}/file-sizes", headers=bob)
    on_disk = next(api.vault.managed.path(single.directory).rglob("cells.ome.tif")).stat()
    assert sizes.status_code == 200 and sizes.json() == {str(image): on_disk.st_size}
    assert api.client.get(f"/api/v1/datasets/{dataset}/file-sizes",
                          headers=world.headers["xavier"]).status_code == 404
