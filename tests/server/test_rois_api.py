"""pixelvault's own ROI API: pages filtered by plane and viewport, GeoJSON in and out
(QuPath's files and ours), and every bad file refused whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env
from tests.server.conftest import Api, World, serving
from tests.server.omero_clients import timelapse
from tests.server.test_webgateway import import_as

SAMPLES = Path(__file__).parents[1] / "data" / "ome-model"


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0")
    with serving(initialised) as made:
        yield made


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry,
            "properties": {"objectType": "annotation", **properties}}


# What QuPath 0.5 writes (qupath-core's ROITypeAdapters and PathObjectTypeAdapters).
QUPATH = {"type": "FeatureCollection", "features": [
    _feature({"type": "Polygon", "coordinates": [[[10, 10], [40, 10], [40, 30], [10, 10]]]},
             classification={"name": "Tumor", "color": [200, 0, 0]}),
    _feature({"type": "Polygon", "isEllipse": True, "plane": {"c": -1, "z": 1, "t": 2},
              "coordinates": [[[50, 20], [60, 25], [50, 30], [40, 25], [50, 20]]]},
             name="cell 1", isLocked=True),
    _feature({"type": "MultiPoint", "coordinates": [[1, 2], [3, 4], [5, 6]]}),
    _feature({"type": "LineString", "coordinates": [[0, 0], [63, 47]]}),
]}


def _post(api: Api, headers: dict[str, str], image_id: int, body: bytes) -> Any:
    return api.client.post(f"/api/v1/images/{image_id}/rois.geojson", headers=headers,
                           content=body)


def test_geojson_in_pages_out_and_back_equal(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    image_id = import_as(api, "alice", timelapse(tmp_path))
    added = _post(api, alice, image_id, json.dumps(QUPATH).encode())
    assert added.status_code == 201 and added.json() == {"rois": 4, "shapes": 6}
    page = api.client.get(f"/api/v1/images/{image_id}/rois", headers=alice).json()
    assert page["total"] == 4
    tumour, cell, points, line = page["rois"]
    assert tumour["name"] == "Tumor" and tumour["shapes"][0]["type"] == "Polygon"
    assert tumour["shapes"][0]["points"] == [[10, 10], [40, 10], [40, 30]]
    assert tumour["shapes"][0]["stroke_color"] == -939523841  # 200,0,0 opaque
    ellipse = cell["shapes"][0]
    assert (ellipse["type"], ellipse["x"], ellipse["radius_x"], ellipse["z"], ellipse["t"],
            ellipse["c"]) == ("Ellipse", 50, 10, 1, 2, None)
    assert ellipse["style"] == {"locked": True}
    assert [s["type"] for s in points["shapes"]] == ["Point"] * 3
    assert line["shapes"][0]["type"] == "Line"
    # a viewport and a plane keep the ROIs (and only the shapes) there
    near = api.client.get(f"/api/v1/images/{image_id}/rois?bbox=0,0,6,6",
                          headers=alice).json()
    assert [r["id"] for r in near["rois"]] == [points["id"], line["id"]]
    assert len(near["rois"][0]["shapes"]) == 3
    on_z0 = api.client.get(f"/api/v1/images/{image_id}/rois?z=0&t=0", headers=alice).json()
    assert on_z0["total"] == 3  # the ellipse is on z=1, t=2 only
    second = api.client.get(f"/api/v1/images/{image_id}/rois?limit=2&offset=2",
                            headers=alice).json()
    assert [r["id"] for r in second["rois"]] == [points["id"], line["id"]]
    # out, in again onto another image, out again: the same features
    out = api.client.get(f"/api/v1/images/{image_id}/rois.geojson", headers=alice)
    assert out.headers["content-type"] == "application/geo+json"
    exported = out.json()
    assert len(exported["features"]) == 4
    assert exported["features"][1]["geometry"]["isEllipse"] is True
    other = import_as(api, "alice", timelapse(tmp_path, "other.ome.tif"))
    assert _post(api, alice, other, out.content).json() == {"rois": 4, "shapes": 6}
    again = api.client.get(f"/api/v1/images/{other}/rois.geojson", headers=alice).json()

    def same(found: dict[str, Any]) -> list[Any]:
        return [(f["geometry"], {k: v for k, v in f["properties"]["omero"].items()
                                 if k != "roi"}) for f in found["features"]]

    assert same(again) == same(exported)
    # one ROI, then gone
    roi_id = tumour["id"]
    assert api.client.get(f"/api/v1/rois/{roi_id}", headers=alice).json()["name"] == "Tumor"
    assert api.client.delete(f"/api/v1/rois/{roi_id}", headers=alice).status_code == 204
    assert api.client.get(f"/api/v1/rois/{roi_id}", headers=alice).status_code == 404
    # another user outside the group sees none of it
    xavier = world.headers["xavier"]
    assert api.client.get(f"/api/v1/images/{image_id}/rois", headers=xavier).status_code == 404
    assert api.client.get(f"/api/v1/rois/{cell['id']}", headers=xavier).status_code == 404


def test_the_schemas_rois_survive_geojson(api: Api, world: World) -> None:
    """Every OME shape type, its style, transform and mask bits: imported from OME-XML,
    out as GeoJSON, in again: equal."""
    alice = world.headers["alice"]
    image_id = import_as(api, "alice", SAMPLES / "ROI.ome.xml")
    exported = api.client.get(f"/api/v1/images/{image_id}/rois.geojson", headers=alice)
    before = api.client.get(f"/api/v1/images/{image_id}/rois", headers=alice).json()["rois"]
    target = import_as(api, "alice", SAMPLES / "ROI.ome.xml")
    for roi in api.client.get(f"/api/v1/images/{target}/rois", headers=alice).json()["rois"]:
        api.client.delete(f"/api/v1/rois/{roi['id']}", headers=alice)
    assert _post(api, alice, target, exported.content).status_code == 201
    after = api.client.get(f"/api/v1/images/{target}/rois", headers=alice).json()["rois"]

    def shapes(found: list[dict[str, Any]]) -> list[Any]:
        return [[{k: v for k, v in s.items() if k != "id"} for s in r["shapes"]] for r in found]

    assert shapes(after) == shapes(before)
    assert any(s["type"] == "Mask" for r in after for s in r["shapes"])


BAD: list[tuple[bytes, str]] = [
    (b"nonsense", "not GeoJSON"),
    (b'{"type": "FeatureCollection", "features": [', "not valid JSON"),
    (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "no features"),
    (json.dumps([_feature({"type": "Circle", "coordinates": [1, 2]})]).encode(),
     "geometry type 'Circle'"),
    (b'[{"type": "Feature", "properties": {}, "geometry": '
     + b'{"type": "GeometryCollection", "geometries": [' * 40 + b"]}" * 40 + b"}]",
     "nested 32 levels deep"),
    (json.dumps([_feature({"type": "Polygon", "coordinates": [
        [[0, 0], [9, 0], [9, 9], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 1]]]})]).encode(),
     "hole(s)"),
    (json.dumps([_feature({"type": "Point", "coordinates": [1, None]})]).encode(),
     "not a finite number"),
    (b'[{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, NaN]}}]',
     "not valid JSON"),
    (json.dumps([_feature({"type": "Point", "coordinates": [1, 1], "plane": {"z": 7}})]
                ).encode(), "theZ 7 is not a plane"),
    (json.dumps([_feature({"type": "LineString", "coordinates": [[0, 0]] * 500_002})]
                ).encode(), "at most 500000"),
]


def test_a_bad_geojson_file_adds_nothing(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    image_id = import_as(api, "alice", timelapse(tmp_path))
    good = json.dumps(QUPATH["features"][0])  # a good feature first: all or nothing
    for body, says in BAD:
        if body.startswith(b"[{"):
            body = b"[" + good.encode() + b"," + body[1:]
        refused = _post(api, alice, image_id, body)
        assert refused.status_code == 400 and says in refused.json()["message"], refused.text
        assert api.client.get(f"/api/v1/images/{image_id}/rois",
                              headers=alice).json()["total"] == 0
