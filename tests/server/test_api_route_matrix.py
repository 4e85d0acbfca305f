"""OMERO's permission table (§9) over every route that returns or changes user data.

For each role, each group level holds alice's project, dataset (in the
project), image (in the dataset), tag and attachment. Every route is called on
each of them and must answer exactly as the table says: the success status
with the right, 403 with only the right to read, 404 (as for a missing id)
without even that.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pixelvault.catalog.models import Permissions
from tests.server.conftest import Api, World, add_image

RO, RA, RW, PRIVATE = (Permissions.READ_ONLY, Permissions.READ_ANNOTATE,
                       Permissions.READ_WRITE, Permissions.PRIVATE)
ALL = set(Permissions)
# What each role may do to alice's data in a group of each level (OMERO-REFERENCE §9).
RIGHTS: dict[str, dict[str, set[Permissions]]] = {
    "alice": {"read": ALL, "annotate": ALL, "edit": ALL, "delete": ALL},  # the owner
    "bob": {"read": {RO, RA, RW}, "annotate": {RA, RW}, "edit": {RW}, "delete": {RW}},
    "olga": {"read": ALL, "annotate": {RO, RA, RW}, "edit": {RW}, "delete": ALL},  # group owner
    "xavier": {"read": set(), "annotate": set(), "edit": set(), "delete": set()},
    "root": {"read": ALL, "annotate": ALL, "edit": ALL, "delete": ALL},
}
OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06#"


@dataclass
class Objects:
    project: int
    dataset: int
    spare_dataset: int
    image: int
    tag: int
    attachment: int
    file: int
    roi: int
    shape: int
    plate: int
    well: int


def _objects(api: Api, world: World, level: Permissions) -> Objects:
    alice, group = world.headers["alice"], world.groups[level]

    def make(kind: str) -> int:
        answer = api.client.post(f"/api/v1/{kind}", headers=alice,
                                 json={"name": f"{kind} {level.value}", "group_id": group})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    project, dataset, spare = make("projects"), make("datasets"), make("datasets")
    image = add_image(api, world.users["alice"], group)
    for url, child in ((f"/api/v1/projects/{project}/datasets", dataset),
                       (f"/api/v1/datasets/{dataset}/images", image)):
        assert api.client.post(url, headers=alice, json={"child_id": child}).status_code == 204
    tag = api.client.post(f"/api/v1/images/{image}/annotations", headers=alice,
                          json={"type": "tag", "text": "t"}).json()
    attached = api.client.post(f"/api/v1/datasets/{dataset}/attachments?name=a.txt",
                               headers=alice, content=b"bytes").json()
    roi, shape, plate, well = _roi_and_plate(api, world.users["alice"], group, image)
    return Objects(project, dataset, spare, image, tag["id"], attached["id"],
                   attached["file"]["id"], roi, shape, plate, well)


def _roi_and_plate(api: Api, owner: int, group: int, image: int) -> tuple[int, int, int, int]:
    """alice's ROI on her image, and her one-well plate, as rows (the image has no pixels
    to check shapes against; imports are tested on their own)."""
    from pixelvault.catalog.bulk import insert_returning_ids
    from pixelvault.catalog.models import Plate, Well
    from pixelvault.formats.rois import Roi, Shape
    from pixelvault.services.objects import rois

    owned = {"owner_id": owner, "group_id": group}
    with api.vault.catalog.session() as session:
        [(roi, [shape])] = rois.insert(session, owned, image,
                                       [Roi(shapes=(Shape("point", (1.0, 2.0)),))])
        [plate] = insert_returning_ids(session, Plate, [{"name": "p", "rows": 8,
                                                         "columns": 12, **owned}])
        [well] = insert_returning_ids(session, Well, [{"plate_id": plate, "row": 0,
                                                       "column": 0, **owned}])
    return roi, shape, plate, well


Call = Callable[[Api, dict[str, str], Objects], Any]
# (route, right it needs, status on success, call); destructive ones last.
ROUTES: list[tuple[str, str, int, Call]] = [
    ("GET v1 project", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/projects/{o.project}", headers=h)),
    ("GET v1 dataset", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/datasets/{o.dataset}", headers=h)),
    ("GET v1 image", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/images/{o.image}", headers=h)),
    ("GET v1 project datasets", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/projects/{o.project}/datasets", headers=h)),
    ("GET v1 dataset images", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/datasets/{o.dataset}/images", headers=h)),
    ("GET v1 image annotations", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/images/{o.image}/annotations", headers=h)),
    ("GET v1 annotation", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/annotations/{o.tag}", headers=h)),
    ("GET v1 file", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/files/{o.file}", headers=h)),
    ("GET v1 file range", "read", 206,
     lambda a, h, o: a.client.get(f"/api/v1/files/{o.file}",
                                  headers={**h, "Range": "bytes=0-1"})),
    ("GET v0 project", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/projects/{o.project}/", headers=h)),
    ("GET v0 dataset", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/datasets/{o.dataset}/", headers=h)),
    ("GET v0 image", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/images/{o.image}/", headers=h)),
    ("GET v0 project datasets", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/projects/{o.project}/datasets/", headers=h)),
    ("GET v0 dataset images", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/datasets/{o.dataset}/images/", headers=h)),
    ("GET v1 roi", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/rois/{o.roi}", headers=h)),
    ("GET v0 roi", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/rois/{o.roi}/", headers=h)),
    ("GET v0 shape", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/shapes/{o.shape}/", headers=h)),
    ("GET v0 plate", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/plates/{o.plate}/", headers=h)),
    ("GET v0 well", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/wells/{o.well}", headers=h)),
    ("GET plate grid", "read", 200,
     lambda a, h, o: a.client.get(f"/webgateway/plate/{o.plate}/", headers=h)),
    ("POST v1 comment", "annotate", 201,
     lambda a, h, o: a.client.post(f"/api/v1/projects/{o.project}/annotations", headers=h,
                                   json={"type": "comment", "text": "c"})),
    ("POST v1 map on image", "annotate", 201,
     lambda a, h, o: a.client.post(f"/api/v1/images/{o.image}/annotations", headers=h,
                                   json={"type": "map", "values": [["k", "v"]]})),
    ("POST v1 attachment", "annotate", 201,
     lambda a, h, o: a.client.post(f"/api/v1/datasets/{o.dataset}/attachments?name=b.txt",
                                   headers=h, content=b"more")),
    ("PATCH v1 project", "edit", 200,
     lambda a, h, o: a.client.patch(f"/api/v1/projects/{o.project}", headers=h,
                                    json={"description": "edited"})),
    ("PATCH v1 image", "edit", 200,
     lambda a, h, o: a.client.patch(f"/api/v1/images/{o.image}", headers=h,
                                    json={"name": "renamed"})),
    ("PUT v0 save dataset", "edit", 200,
     lambda a, h, o: a.client.put("/api/v0/m/save/", headers=h, json={
         "@id": o.dataset, "@type": OME + "Dataset", "Name": "saved"})),
    ("POST v1 link dataset", "edit", 204,
     lambda a, h, o: a.client.post(f"/api/v1/projects/{o.project}/datasets", headers=h,
                                   json={"child_id": o.spare_dataset})),
    ("DELETE v1 unlink image", "edit", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/datasets/{o.dataset}/images/{o.image}",
                                     headers=h)),
    ("DELETE v1 roi", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/rois/{o.roi}", headers=h)),
    ("DELETE v1 tag", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/annotations/{o.tag}", headers=h)),
    ("DELETE v1 attachment", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/annotations/{o.attachment}", headers=h)),
    ("DELETE v1 image", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/images/{o.image}", headers=h)),
    ("DELETE v1 dataset", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/datasets/{o.dataset}", headers=h)),
    ("DELETE v1 project", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/projects/{o.project}", headers=h)),
]


@pytest.mark.parametrize("who", list(RIGHTS))
def test_every_route_follows_the_table(api: Api, world: World, who: str) -> None:
    objects = {level: _objects(api, world, level) for level in Permissions}
    headers = world.headers[who]
    rights = RIGHTS[who]
    failures = []
    for level, made in objects.items():
        for name, right, success, call in ROUTES:
            expected = success if level in rights[right] else \
                403 if level in rights["read"] else 404
            answer = call(api, headers, made)
            if answer.status_code != expected:
                failures.append(f"{name} in {level.value}: {answer.status_code} "
                                f"(expected {expected}) {answer.text[:100]}")
            elif expected >= 400:
                assert isinstance(answer.json()["message"], str)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("who", list(RIGHTS))
def test_listings_show_exactly_what_may_be_read(api: Api, world: World, who: str) -> None:
    objects = {level: _objects(api, world, level) for level in Permissions}
    readable = RIGHTS[who]["read"]
    headers = world.headers[who]
    for kind in ("project", "dataset", "image"):
        expected = {getattr(made, kind) for level, made in objects.items() if level in readable}
        if kind == "dataset":
            expected |= {made.spare_dataset for lv, made in objects.items() if lv in readable}
        native = api.client.get(f"/api/v1/{kind}s", headers=headers).json()
        assert {row["id"] for row in native["data"]} == expected
        assert native["total"] == len(expected)
        web = api.client.get(f"/api/v0/m/{kind}s/", headers=headers).json()
        assert {row["@id"] for row in web["data"]} == expected
        assert web["meta"]["totalCount"] == len(expected)
