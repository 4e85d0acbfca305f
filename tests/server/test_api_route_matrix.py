"""OMERO's permission table (§9) over every route that returns or changes user data.

For each role, each group level holds alice's project, dataset (in the
project), image (in the dataset), tag, attachment, ROIs, and a screen with a
plate. Every route is called on each of them and must answer exactly as the
table says: the success status with the right, 403 with only the right to read,
404 (as for a missing id) without even that. Listings, as in OMERO.web, answer
200 with exactly what may be read.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pixelvault.catalog.models import Permissions
from tests.server.conftest import Api, World, add_image
from tests.server.omero_clients import timelapse
from tests.server.test_webgateway import import_as

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
    other_shape: int
    spare_roi: int
    spare_shape: int
    plate: int
    well: int
    screen: int


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
    return Objects(project, dataset, spare, image, tag["id"], attached["id"],
                   attached["file"]["id"], **_rois_and_plate(api, world.users["alice"], group,
                                                             image))


def _rois_and_plate(api: Api, owner: int, group: int, image: int) -> dict[str, int]:
    """alice's two ROIs on her image (one of three shapes; a 64x48 plane, as rows: the
    pixels themselves are not read here), and her screen holding a one-well plate."""
    from pixelvault.catalog.bulk import insert_returning_ids
    from pixelvault.catalog.models import Pixels, Plate, Screen, ScreenPlateLink, Well
    from pixelvault.formats.rois import Roi, Shape
    from pixelvault.services.objects import rois

    owned = {"owner_id": owner, "group_id": group}
    with api.vault.catalog.session() as session:
        session.add(Pixels(image_id=image, size_x=64, size_y=48, size_z=1, size_c=1,
                           size_t=1, pixel_type="uint8", significant_bits=8))
        [(roi, [shape, other, _]), (spare, [spare_shape])] = rois.insert(
            session, owned, image, [Roi(shapes=(Shape("point", (1.0, 2.0), z=0, t=0),
                                                Shape("rectangle", (1.0, 1.0, 4.0, 4.0)),
                                                Shape("point", (9.0, 9.0)))),
            Roi(name="spare", shapes=(Shape("point", (3.0, 3.0)),))])
        [plate] = insert_returning_ids(session, Plate, [{"name": "p", "rows": 8,
                                                         "columns": 12, **owned}])
        [well] = insert_returning_ids(session, Well, [{"plate_id": plate, "row": 0,
                                                       "column": 0, **owned}])
        [screen] = insert_returning_ids(session, Screen, [{"name": "s", **owned}])
        session.add(ScreenPlateLink(parent_id=screen, child_id=plate, **owned))
    return {"roi": roi, "shape": shape, "other_shape": other, "spare_roi": spare,
            "spare_shape": spare_shape, "plate": plate, "well": well, "screen": screen}


class _Said:
    """OMERO.iviewer's ``persist_rois`` answers 200 with ``errors`` (as OMERO.web does);
    this reads its answer as the status the table speaks of."""

    def __init__(self, answer: Any) -> None:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        errors = " ".join(body.get("errors", []))
        self.text = answer.text
        self.status_code = 404 if "Could not find" in errors or " no " in errors else \
            403 if " may " in errors or "not a member" in errors else \
            500 if errors else 200
        self.message = errors

    def json(self) -> dict[str, str]:
        return {"message": self.message}


def _persist(a: Api, h: dict[str, str], image: int, **rois: Any) -> _Said:
    return _Said(a.client.post("/iviewer/persist_rois/", headers=h,
                               json={"imageId": image, "rois": rois}))


NEW_POINT = {"@type": OME + "Point", "X": 5.0, "Y": 5.0, "oldId": "-1:-1"}
GEOJSON = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2, 3]},
     "properties": {"objectType": "annotation"}}]}


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
    ("GET v1 image rois", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/images/{o.image}/rois", headers=h)),
    ("GET v1 rois.geojson", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v1/images/{o.image}/rois.geojson", headers=h)),
    ("GET plane_shape_counts", "read", 200,
     lambda a, h, o: a.client.get(f"/iviewer/plane_shape_counts/{o.image}/", headers=h)),
    ("GET roi page_data", "read", 200,
     lambda a, h, o: a.client.get(f"/iviewer/roi/{o.roi}/page_data/", headers=h)),
    ("GET shape page_data", "read", 200,
     lambda a, h, o: a.client.get(f"/iviewer/shape/{o.shape}/page_data/", headers=h)),
    ("GET get_rois_json", "read", 200,
     lambda a, h, o: a.client.get(f"/webgateway/get_rois_json/{o.image}/", headers=h)),
    ("GET v0 screen", "read", 200,
     lambda a, h, o: a.client.get(f"/api/v0/m/screens/{o.screen}/", headers=h)),
    ("GET plate grid", "read", 200,
     lambda a, h, o: a.client.get(f"/webgateway/plate/{o.plate}/", headers=h)),
    ("GET plate field grid", "read", 200,
     lambda a, h, o: a.client.get(f"/webgateway/plate/{o.plate}/0/", headers=h)),
    ("GET well_images", "read", 200,
     lambda a, h, o: a.client.get(f"/iviewer/well_images/?id={o.well}", headers=h)),
    ("GET zarr plate", "read", 200,
     lambda a, h, o: a.client.get(f"/zarr/plate/{o.plate}.zarr/zarr.json", headers=h)),
    ("POST persist_rois new", "annotate", 200,
     lambda a, h, o: _persist(a, h, o.image, new=[NEW_POINT])),
    ("POST v1 rois.geojson", "annotate", 201,
     lambda a, h, o: a.client.post(f"/api/v1/images/{o.image}/rois.geojson", headers=h,
                                   json=GEOJSON)),
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
    ("POST persist_rois modified", "edit", 200,
     lambda a, h, o: _persist(a, h, o.image, modified=[
         {**NEW_POINT, "@id": o.shape, "oldId": f"{o.roi}:{o.shape}"}])),
    ("DELETE v0 shape", "delete", 200,
     lambda a, h, o: a.client.delete(f"/api/v0/m/shapes/{o.shape}/", headers=h)),
    ("POST persist_rois deleted", "delete", 200,
     lambda a, h, o: _persist(a, h, o.image, deleted={
         str(o.roi): [f"{o.roi}:{o.other_shape}"]})),
    ("DELETE v0 roi", "delete", 200,
     lambda a, h, o: a.client.delete(f"/api/v0/m/rois/{o.roi}/", headers=h)),
    ("DELETE v1 roi", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/rois/{o.spare_roi}", headers=h)),
    ("DELETE v1 plate", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/plates/{o.plate}", headers=h)),
    ("DELETE v1 screen", "delete", 204,
     lambda a, h, o: a.client.delete(f"/api/v1/screens/{o.screen}", headers=h)),
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
    # ROIs and plates: OMERO.web lists what may be read, and nothing of the rest
    rois = {made.roi for lv, made in objects.items() if lv in readable} | \
        {made.spare_roi for lv, made in objects.items() if lv in readable}
    listed = api.client.get("/api/v0/m/rois/?limit=500", headers=headers).json()
    assert {row["@id"] for row in listed["data"]} == rois
    for level, made in objects.items():
        mine = {made.roi, made.spare_roi} if level in readable else set()
        for url in (f"/api/v0/m/rois/?image={made.image}", f"/api/v0/m/images/{made.image}/rois/",
                    f"/iviewer/rois_by_plane/{made.image}/0/0/"):
            answer = api.client.get(url, headers=headers)
            assert answer.status_code == 200, (url, answer.text)
            assert {row["@id"] for row in answer.json()["data"]} == mine, (url, level)
        for url, key, child in ((f"/api/v0/m/screens/{made.screen}/plates/", "plate",
                                 made.plate),
                                (f"/api/v0/m/plates/{made.plate}/wells/", "well", made.well),
                                (f"/api/v0/m/wells/?plate={made.plate}", "well", made.well),
                                (f"/api/v0/m/plates/?screen={made.screen}", "plate",
                                 made.plate)):
            answer = api.client.get(url, headers=headers)
            assert answer.status_code == 200, (url, answer.text)
            assert [row["@id"] for row in answer.json()["data"]] == \
                ([child] if level in readable else []), (url, level, key)
    for kind, key in (("screens", "screen"), ("plates", "plate")):
        expected = {getattr(made, key) for lv, made in objects.items() if lv in readable}
        web = api.client.get(f"/api/v0/m/{kind}/", headers=headers).json()
        assert {row["@id"] for row in web["data"]} == expected


def test_routes_that_read_pixels_follow_the_table(api: Api, world: World,
                                                  tmp_path: Path) -> None:
    """Shape statistics, mask PNGs and a plate's fields over OME-Zarr read pixels: alice
    imports one image per group level, draws on it and makes it a plate's field."""
    from pixelvault.catalog.bulk import insert_returning_ids
    from pixelvault.catalog.models import Plate, Well, WellSample
    from pixelvault.formats.rois import Roi, Shape
    from pixelvault.services.objects import rois

    made: dict[Permissions, dict[str, int]] = {}
    for level, group in world.groups.items():
        image = import_as(api, "alice", timelapse(tmp_path, f"{level.name}.ome.tif"), group)
        owned = {"owner_id": world.users["alice"], "group_id": group}
        inside = np.zeros((4, 8), bool)
        inside[1:3, 2:6] = True
        with api.vault.catalog.session() as session:
            [(_, [rectangle, mask])] = rois.insert(session, owned, image, [Roi(shapes=(
                Shape("rectangle", (0.0, 0.0, 40.0, 10.0), z=0, t=0),
                Shape("mask", (2.0, 2.0, 8.0, 4.0), mask=np.packbits(inside).tobytes())))])
            [plate] = insert_returning_ids(session, Plate, [{"name": "p", "rows": 1,
                                                             "columns": 1, **owned}])
            [well] = insert_returning_ids(session, Well, [{"plate_id": plate, "row": 0,
                                                           "column": 0, **owned}])
            session.add(WellSample(well_id=well, image_id=image, field=0, **owned))
        made[level] = {"image": image, "rectangle": rectangle, "mask": mask,
                       "plate": plate, "well": well}
    failures = []
    for who, rights in RIGHTS.items():
        headers = world.headers[who]
        for level, ids in made.items():
            readable = level in rights["read"]
            stats = api.client.get(f"/iviewer/shape_stats/?ids={ids['rectangle']}&z=0&t=0",
                                   headers=headers).json()
            if readable:
                [dapi, gfp] = stats[str(ids["rectangle"])]
                assert (dapi["points"], dapi["max"], gfp["max"]) == (451, 1000, 3000), stats
            elif stats != {}:  # a shape not seen is left out, as in OMERO
                failures.append(f"{who} {level.value}: shape_stats {stats}")
            base = f"/zarr/plate/{ids['plate']}.zarr/A/1/0"
            for url in (f"/webgateway/render_shape_mask/{ids['mask']}/",
                        f"/webgateway/plate/{ids['plate']}/0/",
                        f"/api/v0/m/wells/{ids['well']}/", f"{base}/zarr.json",
                        f"{base}/0/zarr.json", f"{base}/0/c/0/0/0/0/0"):
                answer = api.client.get(url, headers=headers)
                if answer.status_code != (200 if readable else 404):
                    failures.append(f"{who} {level.value}: {url} {answer.status_code}")
    assert not failures, "\n".join(failures)
