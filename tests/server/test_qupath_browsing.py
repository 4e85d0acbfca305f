"""QuPath's browsing requests (docs/clients/qupath-omero-extension.md, step 5), as
``core/apis/json/JsonApi.java`` sends them: projects with ``childCount``, orphaned
datasets with ``childCount``, orphaned images, each with ``normalize=true``; a
dataset's parents and an image's datasets; one project with ``childCount``.

QuPath requires ``omero:childCount`` on projects and datasets
(``json/jsonentities/server_entities/Project.java``, ``Dataset.java``) and
``omero:details.owner.@id`` and ``group.@id`` on every object
(``OmeroDetails.java``)."""

from __future__ import annotations

from typing import Any

from pixelvault.catalog.models import Permissions
from tests.server.conftest import Api, World, add_image
from tests.server.test_api_omero_web import web_login


def _tree(api: Api, world: World) -> dict[str, int]:
    """In alice's read-annotate group: a project holding two datasets, one holding an
    image; an orphaned dataset; an orphaned image; a linked image."""
    alice = world.headers["alice"]
    group = world.groups[Permissions.READ_ANNOTATE]
    ids: dict[str, int] = {}
    for name, kind in (("project", "projects"), ("held", "datasets"), ("empty", "datasets"),
                       ("orphan_dataset", "datasets")):
        made = api.client.post(f"/api/v1/{kind}", headers=alice,
                               json={"name": name, "group_id": group})
        assert made.status_code == 201, made.text
        ids[name] = made.json()["id"]
    ids["image"] = add_image(api, world.users["alice"], group, "linked.tif")
    ids["orphan_image"] = add_image(api, world.users["alice"], group, "alone.tif")
    for parent, child, kind in (("project", "held", "datasets"),
                                ("project", "empty", "datasets"),
                                ("held", "image", "images")):
        plural = "projects" if parent == "project" else "datasets"
        linked = api.client.post(f"/api/v1/{plural}/{ids[parent]}/{kind}", headers=alice,
                                 json={"child_id": ids[child]})
        assert linked.status_code == 204, linked.text
    return ids


def _data(answer: Any) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"limit", "totalCount"} <= set(body["meta"])
    items: list[dict[str, Any]] = body["data"]
    for item in items:
        assert isinstance(item["omero:details"]["owner"]["@id"], int)
        assert isinstance(item["omero:details"]["group"]["@id"], int)
    return items


def test_the_root_of_the_tree_as_qupath_lists_it(api: Api, world: World) -> None:
    ids = _tree(api, world)
    bob = web_login(api, "bob")
    projects = _data(bob.get("/api/v0/m/projects/?childCount=true&normalize=true"))
    assert {p["@id"]: p["omero:childCount"] for p in projects} == {ids["project"]: 2}
    datasets = _data(bob.get("/api/v0/m/datasets/?childCount=true&orphaned=true"
                             "&normalize=true"))
    assert {d["@id"]: d["omero:childCount"] for d in datasets} == {ids["orphan_dataset"]: 0}
    images = _data(bob.get("/api/v0/m/images/?orphaned=true&normalize=true"))
    assert [i["@id"] for i in images] == [ids["orphan_image"]]
    everything = _data(bob.get("/api/v0/m/datasets/?childCount=true"))
    counts = {d["@id"]: d["omero:childCount"] for d in everything}
    assert counts == {ids["held"]: 1, ids["empty"]: 0, ids["orphan_dataset"]: 0}


def test_normalize_lists_owners_and_groups_once_at_the_top(api: Api, world: World) -> None:
    _tree(api, world)
    body = web_login(api, "bob").get("/api/v0/m/datasets/?normalize=true").json()
    assert [e["@id"] for e in body["experimenters"]] == [world.users["alice"]]
    assert body["experimenters"][0]["UserName"] == "alice"
    assert [g["@id"] for g in body["experimenterGroups"]] == [
        world.groups[Permissions.READ_ANNOTATE]]
    for item in body["data"]:
        assert item["omero:details"]["owner"] == {"@id": world.users["alice"]}
        assert "permissions" in item["omero:details"]
    plain = web_login(api, "bob").get("/api/v0/m/datasets/").json()
    assert "experimenters" not in plain
    assert plain["data"][0]["omero:details"]["owner"]["UserName"] == "alice"


def test_parents_and_one_object_with_its_child_count(api: Api, world: World) -> None:
    ids = _tree(api, world)
    bob = web_login(api, "bob")
    parents = _data(bob.get(f"/api/v0/m/datasets/{ids['held']}/projects/"))
    assert [p["@id"] for p in parents] == [ids["project"]]
    holders = _data(bob.get(f"/api/v0/m/images/{ids['image']}/datasets/"))
    assert [d["@id"] for d in holders] == [ids["held"]]
    assert _data(bob.get(f"/api/v0/m/images/{ids['orphan_image']}/datasets/")) == []
    one = bob.get(f"/api/v0/m/projects/{ids['project']}?childCount=true")  # QuPath's form
    assert one.status_code == 200, one.text
    assert one.json()["data"]["omero:childCount"] == 2
    assert "omero:childCount" not in bob.get(
        f"/api/v0/m/projects/{ids['project']}/").json()["data"]


def test_parents_of_what_one_may_not_see_are_missing(api: Api, world: World) -> None:
    ids = _tree(api, world)
    xavier = web_login(api, "xavier")
    hidden = xavier.get(f"/api/v0/m/images/{ids['image']}/datasets/")
    missing = xavier.get("/api/v0/m/images/999999/datasets/")
    assert hidden.status_code == missing.status_code == 404
    assert _data(xavier.get("/api/v0/m/images/?orphaned=true")) == []
    ignored = web_login(api, "bob").get("/api/v0/m/projects/?childCount=true&orphaned=true"
                                        "&unknownParameter=1&normalize=false")
    assert ignored.status_code == 200  # OMERO's parameters that do not apply are ignored


def test_paths_to_an_image_as_qupath_reads_its_parents(api: Api, world: World) -> None:
    """webclient/SimpleServerEntity.createFromJson flattens ``paths`` of
    ``{"type", "id"}`` and keeps project, dataset and image (ApisHandler.getParentsOfImage)."""
    ids = _tree(api, world)
    bob = web_login(api, "bob")
    answer = bob.get(f"/webclient/api/paths_to_object/?image={ids['image']}")
    assert answer.status_code == 200, answer.text
    alice = world.users["alice"]
    assert answer.json() == {"paths": [[
        {"type": "experimenter", "id": alice}, {"type": "project", "id": ids["project"]},
        {"type": "dataset", "id": ids["held"], "childCount": 1},
        {"type": "image", "id": ids["image"]}]]}
    orphan = bob.get(f"/webclient/api/paths_to_object/?image={ids['orphan_image']}").json()
    assert orphan == {"paths": [[{"type": "experimenter", "id": alice},
                                 {"type": "orphaned", "id": alice},
                                 {"type": "image", "id": ids["orphan_image"]}]]}
    dataset = bob.get(f"/webclient/api/paths_to_object/?dataset={ids['orphan_dataset']}")
    assert dataset.json()["paths"] == [[{"type": "experimenter", "id": alice},
                                        {"type": "dataset", "id": ids["orphan_dataset"],
                                         "childCount": 0}]]
    assert bob.get("/webclient/api/paths_to_object/?plate=3").json() == {"paths": []}
    xavier = web_login(api, "xavier")
    assert xavier.get(f"/webclient/api/paths_to_object/?image={ids['image']}").status_code \
        == 404


def test_annotations_as_qupath_parses_them(api: Api, world: World) -> None:
    """webclient/annotations/AnnotationCreator.java: ``annotations`` and ``experimenters``
    required; each annotation's ``id``, ``class``, ``owner.id`` and ``link.owner.id``;
    MapAnnotationI ``values`` as pairs, Tag/Comment ``textValue``, FileAnnotationI
    ``file{name, mimetype, size}``; experimenters ``{id, firstName, lastName}``."""
    ids = _tree(api, world)
    image = ids["image"]
    alice, bob = world.headers["alice"], world.headers["bob"]
    for headers, body in ((alice, {"type": "tag", "text": "mitosis"}),
                          (bob, {"type": "comment", "text": "nice cells"}),
                          (alice, {"type": "map", "values": [["cell line", "HeLa"],
                                                             ["stain", "DAPI"]],
                                   "namespace": "openmicroscopy.org/omero/client/mapAnnotation"})):
        made = api.client.post(f"/api/v1/images/{image}/annotations", headers=headers,
                               json=body)
        assert made.status_code == 201, made.text
    attached = api.client.post(f"/api/v1/images/{image}/attachments?name=notes.txt",
                               headers={**alice, "Content-Type": "text/plain"},
                               content=b"twelve bytes")
    assert attached.status_code == 201, attached.text
    answer = web_login(api, "bob").get(f"/webclient/api/annotations/?image={image}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    by_class = {a["class"]: a for a in body["annotations"]}
    assert set(by_class) == {"TagAnnotationI", "CommentAnnotationI", "MapAnnotationI",
                             "FileAnnotationI"}
    assert by_class["TagAnnotationI"]["textValue"] == "mitosis"
    assert by_class["CommentAnnotationI"]["textValue"] == "nice cells"
    assert by_class["CommentAnnotationI"]["link"]["owner"]["id"] == world.users["bob"]
    assert by_class["MapAnnotationI"]["values"] == [["cell line", "HeLa"], ["stain", "DAPI"]]
    assert by_class["MapAnnotationI"]["ns"] == "openmicroscopy.org/omero/client/mapAnnotation"
    assert by_class["FileAnnotationI"]["file"] == {
        "id": by_class["FileAnnotationI"]["file"]["id"], "name": "notes.txt", "size": 12,
        "path": "", "mimetype": "text/plain"}
    for item in body["annotations"]:
        assert isinstance(item["id"], int) and isinstance(item["owner"]["id"], int)
        assert item["link"]["parent"] == {"id": image, "class": "ImageI"}
    assert by_class["CommentAnnotationI"]["permissions"]["canDelete"] is True
    assert by_class["TagAnnotationI"]["permissions"]["canDelete"] is False
    people = {p["id"]: p for p in body["experimenters"]}
    assert set(people) == {world.users["alice"], world.users["bob"]}
    assert {"firstName", "lastName", "omeName"} <= set(people[world.users["alice"]])
    xavier = web_login(api, "xavier")
    assert xavier.get(f"/webclient/api/annotations/?image={image}").status_code == 404
    assert xavier.get("/webclient/api/annotations/?well=1").json() == {
        "annotations": [], "experimenters": []}
