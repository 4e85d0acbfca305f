"""chgrp and chown: graphs move whole, shared children stay, and only the right people move."""

from typing import Any

from pixelvault.catalog.models import AnnotationLink, OriginalFile, Permissions
from tests.server.conftest import Api, World, add_image

PRIVATE, READ_ONLY, READ_WRITE = (Permissions.PRIVATE, Permissions.READ_ONLY,
                                  Permissions.READ_WRITE)


def make(api: Api, headers: dict[str, str], kind: str, group: int, name: str = "x") -> int:
    answer = api.client.post(f"/api/v1/{kind}s", headers=headers,
                             json={"name": name, "group_id": group})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def link(api: Api, headers: dict[str, str], parent: str, parent_id: int, child: int) -> None:
    child_kind = "datasets" if parent == "project" else "images"
    answer = api.client.post(f"/api/v1/{parent}s/{parent_id}/{child_kind}", headers=headers,
                             json={"child_id": child})
    assert answer.status_code == 204, answer.text


def post(api: Api, headers: dict[str, str], verb: str, **body: Any) -> Any:
    return api.client.post(f"/api/v1/{verb}", headers=headers, json=body)


def test_chgrp_moves_the_graph_and_cuts_links_to_what_stays(api: Api, world: World) -> None:
    alice, root, bob = (world.headers[n] for n in ("alice", "root", "bob"))
    private, public = world.groups[PRIVATE], world.groups[READ_ONLY]
    project = make(api, alice, "project", private)
    other_project = make(api, alice, "project", private, "stays")
    only_here, shared = (make(api, alice, "dataset", private) for _ in range(2))
    image, shared_image = (add_image(api, world.users["alice"], private) for _ in range(2))
    stays = make(api, alice, "dataset", private, "stays")
    link(api, alice, "project", project, only_here)
    link(api, alice, "project", project, shared)
    link(api, alice, "project", other_project, shared)
    link(api, alice, "dataset", only_here, image)
    link(api, alice, "dataset", only_here, shared_image)
    link(api, alice, "dataset", stays, shared_image)
    tag = api.client.post(f"/api/v1/projects/{project}/annotations", headers=alice,
                          json={"type": "tag", "text": "mitosis"}).json()["id"]
    attached = api.client.post(f"/api/v1/datasets/{only_here}/attachments?name=a.txt",
                               headers=alice, content=b"notes").json()
    assert api.client.get(f"/api/v1/projects/{project}", headers=bob).status_code == 404

    preview = post(api, root, "chgrp", group_id=public, targets=[f"Project:{project}"],
                   dry_run=True)
    assert preview.status_code == 200, preview.text
    assert preview.json()["dry_run"] is True
    assert api.client.get(f"/api/v1/projects/{project}", headers=bob).status_code == 404

    moved = post(api, root, "chgrp", group_id=public, targets=[f"Project:{project}"])
    assert moved.status_code == 200, moved.text
    assert moved.json() == preview.json() | {"dry_run": False}
    assert moved.json()["moved"] == {"project": [project], "dataset": [only_here],
                                     "image": [image], "annotation": sorted(
                                         [tag, attached["id"]]), "fileset": [],
                                     "screen": [], "plate": []}
    # The shared dataset stays with the other project; the shared image with "stays".
    assert moved.json()["unlinked"] == {"project_dataset": 1, "dataset_image": 1,
                                        "screen_plate": 0, "annotation": 0}
    for kind, object_id in (("project", project), ("dataset", only_here), ("image", image)):
        seen = api.client.get(f"/api/v1/{kind}s/{object_id}", headers=bob)
        assert seen.status_code == 200 and seen.json()["group_id"] == public
    for kind, object_id in (("dataset", shared), ("image", shared_image)):
        assert api.client.get(f"/api/v1/{kind}s/{object_id}", headers=bob).status_code == 404
    listed = api.client.get(f"/api/v1/projects/{project}/datasets", headers=bob).json()
    assert [d["id"] for d in listed["data"]] == [only_here]
    download = api.client.get(f"/api/v1/files/{attached['file']['id']}", headers=bob)
    assert download.status_code == 200 and download.content == b"notes"
    with api.vault.catalog.session() as session:
        file_row = session.get(OriginalFile, attached["file"]["id"])
        assert file_row is not None and file_row.group_id == public
        assert {row.group_id for row in session.query(AnnotationLink)} == {public}


def test_a_tag_on_something_that_stays_stays_and_loses_the_moved_link(
        api: Api, world: World) -> None:
    alice, root = world.headers["alice"], world.headers["root"]
    private, public = world.groups[PRIVATE], world.groups[READ_ONLY]
    moving, staying = (make(api, alice, "dataset", private) for _ in range(2))
    tag = api.client.post(f"/api/v1/datasets/{staying}/annotations", headers=alice,
                          json={"type": "tag", "text": "shared"}).json()["id"]
    with api.vault.catalog.session() as session:  # link the same tag to both (OMERO's tags)
        session.add(AnnotationLink(parent_kind="dataset", parent_id=moving, annotation_id=tag,
                                   owner_id=world.users["alice"], group_id=private))
    moved = post(api, root, "chgrp", group_id=public, targets=[f"Dataset:{moving}"]).json()
    assert moved["moved"]["annotation"] == [] and moved["unlinked"]["annotation"] == 1
    assert [a["id"] for a in api.client.get(f"/api/v1/datasets/{staying}/annotations",
                                            headers=alice).json()] == [tag]
    assert api.client.get(f"/api/v1/datasets/{moving}/annotations", headers=alice).json() == []


def test_who_may_chgrp(api: Api, world: World) -> None:
    alice, bob, root = (world.headers[n] for n in ("alice", "bob", "root"))
    private, public, shared = (world.groups[level] for level in (PRIVATE, READ_ONLY,
                                                                 READ_WRITE))
    mine = make(api, alice, "project", private)
    # A user moves their own data between groups they belong to.
    assert post(api, alice, "chgrp", group_id=public,
                targets=[f"Project:{mine}"]).status_code == 200
    # Not into a group they are not in, not others' data, not what they cannot see.
    elsewhere = next(g["id"] for g in api.client.get("/api/v1/groups", headers=root).json()
                     if g["name"] == "elsewhere")
    refused = post(api, alice, "chgrp", group_id=elsewhere, targets=[f"Project:{mine}"])
    assert refused.status_code == 404 and "not in" in refused.json()["message"]
    bobs = make(api, bob, "dataset", private)
    assert post(api, alice, "chgrp", group_id=public,
                targets=[f"Dataset:{bobs}"]).status_code == 404
    # In a read-write group alice may put bob's dataset in her project, not move it.
    container = make(api, alice, "project", shared)
    link(api, alice, "project", container, make(api, bob, "dataset", shared))
    refused = post(api, alice, "chgrp", group_id=public, targets=[f"Project:{container}"])
    assert refused.status_code == 403 and "belongs to bob" in refused.json()["message"]
    # Administrators move anyone's data, but only to groups its owners are in.
    refused = post(api, root, "chgrp", group_id=elsewhere, targets=[f"Project:{container}"])
    assert refused.status_code == 400 and "group adduser" in refused.json()["message"]
    assert api.client.get(f"/api/v1/projects/{container}", headers=alice
                          ).json()["group_id"] == shared
    user_group = next(g["id"] for g in api.client.get("/api/v1/groups", headers=root).json()
                      if g["name"] == "user")
    for body in ({"group_id": user_group, "targets": [f"Project:{container}"]},
                 {"group_id": public, "targets": ["Project"]},
                 {"group_id": public, "targets": ["Annotation:1"]},
                 {"group_id": public, "targets": []},
                 {"group_id": public, "targets": "Project:1"},
                 {"group_id": 2**40, "targets": [f"Project:{container}"]}):
        assert post(api, root, "chgrp", **body).status_code == 400, body
    assert post(api, root, "chgrp", group_id=99999,
                targets=[f"Project:{container}"]).status_code == 404


def test_chown_gives_what_the_owner_owned_and_leaves_others_annotations(
        api: Api, world: World) -> None:
    alice, bob, olga, root = (world.headers[n] for n in ("alice", "bob", "olga", "root"))
    group = world.groups[Permissions.READ_ANNOTATE]
    project = make(api, alice, "project", group)
    dataset = make(api, alice, "dataset", group)
    link(api, alice, "project", project, dataset)
    tag = api.client.post(f"/api/v1/projects/{project}/annotations", headers=alice,
                          json={"type": "tag", "text": "mine"}).json()["id"]
    comment = api.client.post(f"/api/v1/projects/{project}/annotations", headers=bob,
                              json={"type": "comment", "text": "bob's"}).json()["id"]
    # Members may not give data away; the group's owner and administrators may.
    assert post(api, alice, "chown", user_id=world.users["bob"],
                targets=[f"Project:{project}"]).status_code == 403
    given = post(api, olga, "chown", user_id=world.users["bob"],
                 targets=[f"Project:{project}"])
    assert given.status_code == 200, given.text
    assert given.json()["moved"] == {"project": [project], "dataset": [dataset], "image": [],
                                     "annotation": [tag], "fileset": [], "screen": [],
                                     "plate": []}
    assert api.client.get(f"/api/v1/datasets/{dataset}", headers=bob
                          ).json()["owner_id"] == world.users["bob"]
    owners = {a["id"]: a["owner_id"] for a in api.client.get(
        f"/api/v1/projects/{project}/annotations", headers=bob).json()}
    assert owners == {tag: world.users["bob"], comment: world.users["bob"]}
    # Now bob's, so bob edits it; alice (a member of a read-annotate group) may not.
    assert api.client.patch(f"/api/v1/projects/{project}", headers=bob,
                            json={"name": "bob's now"}).status_code == 200
    assert api.client.patch(f"/api/v1/projects/{project}", headers=alice,
                            json={"name": "mine"}).status_code == 403
    # The new owner must be in the data's group.
    refused = post(api, root, "chown", user_id=world.users["xavier"],
                   targets=[f"Project:{project}"])
    assert refused.status_code == 400 and "xavier is not a member" in refused.json()["message"]
    assert post(api, root, "chown", user_id=99999,
                targets=[f"Project:{project}"]).status_code == 404


def test_chown_leaves_contained_data_of_other_owners_alone(api: Api, world: World) -> None:
    alice, bob, root = (world.headers[n] for n in ("alice", "bob", "root"))
    shared = world.groups[READ_WRITE]
    project = make(api, alice, "project", shared)
    hers, his = make(api, alice, "dataset", shared), make(api, bob, "dataset", shared)
    link(api, alice, "project", project, hers)
    link(api, alice, "project", project, his)
    given = post(api, root, "chown", user_id=world.users["olga"],
                 targets=[f"Project:{project}"]).json()
    assert given["moved"]["dataset"] == [hers]
    owners = {d["id"]: d["owner_id"] for d in api.client.get(
        f"/api/v1/projects/{project}/datasets", headers=root).json()["data"]}
    assert owners == {hers: world.users["olga"], his: world.users["bob"]}
