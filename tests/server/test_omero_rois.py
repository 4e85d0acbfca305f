"""ROIs drawn, saved, listed, changed and removed the way OMERO.iviewer and QuPath do it
(``persist_rois`` with the bodies their sources build; ``m/rois`` read back with the keys
they parse), with OMERO's permission rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pixelvault.catalog.models import Permissions
from tests.conftest import Env
from tests.server.conftest import Api, World, serving
from tests.server.omero_clients import Browser, timelapse
from tests.server.test_webgateway import import_as

OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06#"
TEXT = {"Content-Type": "text/plain;charset=UTF-8"}


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0")
    with serving(initialised) as made:
        yield made


def _save(browser: Browser, image_id: int, **changes: Any) -> dict[str, Any]:
    """What iviewer's Regions.js sends (toJsonObject), as text/plain."""
    rois = {"count": 0, "empty_rois": {}, "new": [], "modified": [], "deleted": {},
            "new_and_deleted": [], **changes}
    answer = browser.post("/iviewer/persist_rois/", headers=TEXT,
                          content=json.dumps({"imageId": image_id, "rois": rois}))
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


RECTANGLE = {"@type": OME + "Rectangle", "X": 4.0, "Y": 2.0, "Width": 10.0, "Height": 6.0,
             "TheZ": 1, "TheT": 2, "StrokeColor": -16776961, "FillColor": 1073741824,
             "StrokeWidth": {"@type": "TBD#LengthI", "Unit": "PIXEL", "Symbol": "px",
                             "Value": 2}, "Text": "nucleus", "oldId": "-1:-1"}
POLYGON = {"@type": OME + "Polygon", "Points": "0,0 30,0 30,20", "TheC": -1, "oldId": "-2:-2"}
ELLIPSE = {"@type": OME + "Ellipse", "X": 40.0, "Y": 20.0, "RadiusX": 5.0, "RadiusY": 3.0,
           "Transform": {"@type": OME + "AffineTransform", "A00": 1.0, "A10": 0.0,
                         "A01": 0.0, "A11": 1.0, "A02": 2.0, "A12": 1.0}, "oldId": "-3:-3"}


def test_drawn_saved_listed_changed_and_removed(api: Api, world: World,
                                                tmp_path: Path) -> None:
    image_id = import_as(api, "alice", timelapse(tmp_path))
    browser = Browser(api, "alice")
    saved = _save(browser, image_id, count=3, new=[RECTANGLE, POLYGON, ELLIPSE])
    assert "errors" not in saved and set(saved["ids"]) == {"-1:-1", "-2:-2", "-3:-3"}
    roi_id, shape_id = (int(v) for v in saved["ids"]["-1:-1"].split(":"))
    # regions_info.js: the ROI table, omero-marshal's keys in its order
    listed = browser.json(f"/api/v0/m/rois/?image={image_id}&limit=500&offset=0")
    assert listed["meta"] == {"offset": 0, "limit": 500, "maxLimit": 500, "totalCount": 3}
    first = listed["data"][0]
    assert list(first)[:3] == ["@type", "@id", "omero:details"]
    assert first["@type"] == OME + "ROI" and first["url:roi"].endswith(f"/m/rois/{roi_id}/")
    rectangle = first["shapes"][0]
    assert rectangle["@id"] == shape_id and rectangle["@type"] == OME + "Rectangle"
    assert (rectangle["X"], rectangle["Width"], rectangle["TheZ"], rectangle["TheT"]) == \
        (4.0, 10.0, 1, 2)
    assert rectangle["StrokeWidth"] == {"@type": "TBD#LengthI", "Unit": "PIXEL",
                                        "Symbol": "pixel", "Value": 2.0}
    assert rectangle["StrokeColor"] == -16776961 and rectangle["Text"] == "nucleus"
    permissions = rectangle["omero:details"]["permissions"]
    assert permissions["canEdit"] and permissions["canDelete"]
    # QuPath's parser: a group in details carries its own permissions
    assert "permissions" in rectangle["omero:details"]["group"]["omero:details"]
    polygon = listed["data"][1]["shapes"][0]
    assert polygon["Points"] == "0,0 30,0 30,20" and "TheC" not in polygon  # -1: every C
    assert listed["data"][2]["shapes"][0]["Transform"]["A02"] == 2.0
    # the plane grid: the rectangle on z=1, t=2; the others on every plane
    assert browser.json(f"/iviewer/plane_shape_counts/{image_id}/") == {
        "data": [[2, 2, 2], [2, 2, 3]]}
    on_plane = browser.json(f"/iviewer/rois_by_plane/{image_id}/0/2/?limit=500&offset=0")
    assert on_plane["meta"]["totalCount"] == 2
    assert browser.json(f"/iviewer/rois_by_plane/{image_id}/0-1/2/")["meta"][
        "totalCount"] == 3
    assert browser.json(f"/iviewer/shape/{shape_id}/page_data/") == {
        "image": {"id": image_id}, "roi": {"id": roi_id}, "roi_index": 0, "roi_count": 3,
        "theT": 2, "theZ": 1}
    # statistics inside the rectangle (x 4 to 14: DAPI's half of the image)
    stats = browser.json(f"/iviewer/shape_stats/?ids={roi_id}:{shape_id}&z=1&t=2&cs=0,1")
    dapi, gfp = stats[str(shape_id)]
    assert dapi["points"] == gfp["points"] > 0 and dapi["max"] == 1000 and gfp["max"] == 0
    # the old webgateway form
    old = browser.json(f"/webgateway/get_rois_json/{image_id}/")
    assert old[1]["shapes"][0]["type"] == "Polygon" and \
        old[1]["shapes"][0]["points"] == "M 0.0 0.0 L 30.0 0.0 L 30.0 20.0 z"
    assert old[0]["shapes"][0]["strokeColor"] == "#ff0000"
    # figure: counts and rectangles
    assert browser.json(f"/figure/roiCount/{image_id}/?shapes=true") == {"roi": 3, "shape": 3}
    assert browser.json(f"/figure/roiRectangles/{image_id}/")["meta"]["totalCount"] == 1
    assert browser.json(f"/iviewer/image_data/{image_id}/")["roi_count"] == 3
    # modified: a full replacement; the ROI and the id stay
    moved = {**rectangle, "X": 20.0, "oldId": f"{roi_id}:{shape_id}"}
    del moved["Text"]
    assert _save(browser, image_id, modified=[moved]) == {
        "ids": {f"{roi_id}:{shape_id}": f"{roi_id}:{shape_id}"}}
    again = browser.json(f"/api/v0/m/shapes/{shape_id}/")["data"]
    assert again["X"] == 20.0 and "Text" not in again and again["url:roi"].endswith(
        f"/m/rois/{roi_id}/")
    # deleted: the shape goes, and its ROI, now empty; empty_rois: whole ROIs
    polygon_roi = listed["data"][1]["@id"]
    gone = _save(browser, image_id, deleted={str(roi_id): [f"{roi_id}:{shape_id}"]},
                 empty_rois={str(polygon_roi): [f"{polygon_roi}:{polygon['@id']}"]})
    assert "errors" not in gone
    assert browser.get(f"/api/v0/m/rois/{roi_id}/").status_code == 404
    assert browser.json(f"/api/v0/m/rois/?image={image_id}")["meta"]["totalCount"] == 1


def test_qupath_saves_with_zero_ids_and_reads_pages_by_offset(api: Api, world: World,
                                                              tmp_path: Path) -> None:
    """qupath-extension-omero: ``@id`` 0 and oldId "0:0" on every new shape, TheC -1;
    reads ``m/rois/?image=`` by offset alone, so the default page is what meta says."""
    image_id = import_as(api, "alice", timelapse(tmp_path))
    browser = Browser(api, "alice")
    shapes = [{"@id": 0, "oldId": "0:0", "@type": OME + "Point", "X": float(n), "Y": 1.0,
               "TheC": -1, "TheZ": 0, "TheT": 0, "Locked": False,
               "Text": "Annotation:NoClass:uuid:NoParent:NoName"} for n in range(3)]
    answer = browser.post("/iviewer/persist_rois/", headers={
        "Content-Type": "application/json", "Referer": f"/iviewer/?images={image_id}"},
        content=json.dumps({"imageId": image_id, "rois": {
            "count": 3, "empty_rois": {}, "new_and_deleted": [], "deleted": {},
            "new": shapes, "modified": []}}))
    assert "error" not in answer.text.lower()
    listed = browser.json(f"/api/v0/m/rois/?image={image_id}")
    assert listed["meta"]["limit"] == 200 and listed["meta"]["totalCount"] == 3
    assert all(r["shapes"][0]["Locked"] is False for r in listed["data"])


@pytest.mark.parametrize(("level", "drawer", "editor", "can_draw", "can_edit", "can_delete"), [
    ("READ_ANNOTATE", "bob", "alice", True, False, False),  # not even the image's owner
    ("READ_ANNOTATE", "bob", "olga", True, False, True),  # the group's owner removes
    ("READ_ONLY", "bob", None, False, False, False),
    ("READ_WRITE", "bob", "alice", True, True, True),
])
def test_who_may_draw_and_change_rois(api: Api, world: World, tmp_path: Path, level: str,
                                      drawer: str, editor: str | None, can_draw: bool,
                                      can_edit: bool, can_delete: bool) -> None:
    image_id = import_as(api, "alice", timelapse(tmp_path),
                         group_id=world.groups[Permissions[level]])
    drawn = _save(Browser(api, drawer), image_id, new=[RECTANGLE])
    assert ("errors" not in drawn) is can_draw, drawn
    if not can_draw:
        return
    roi, shape = drawn["ids"]["-1:-1"].split(":")
    browser = Browser(api, editor or drawer)
    listed = browser.json(f"/api/v0/m/rois/?image={image_id}")["data"][0]
    assert listed["shapes"][0]["omero:details"]["permissions"]["canEdit"] is can_edit
    changed = _save(browser, image_id, modified=[
        {**RECTANGLE, "@id": int(shape), "X": 9.0, "oldId": f"{roi}:{shape}"}])
    assert ("errors" not in changed) is can_edit, changed
    removed = _save(browser, image_id, empty_rois={roi: [f"{roi}:{shape}"]})
    assert ("errors" not in removed) is can_delete
    # a user outside the group sees nothing at all
    outsider = Browser(api, "xavier")
    assert outsider.json(f"/api/v0/m/rois/?image={image_id}")["data"] == []
    if not can_delete:
        assert outsider.get(f"/api/v0/m/rois/{roi}/").status_code == 404


BAD_SHAPES: list[tuple[dict[str, Any], str]] = [
    ({"@type": OME + "Polygon", "Points": "0,0 1,1"}, "at least 3 points"),
    ({"@type": OME + "Polygon", "Points": "0,0 NaN,1 2,2"}, "not a finite number"),
    ({"@type": OME + "Rectangle", "X": 1, "Y": 1, "Width": 2, "Height": 2, "TheZ": 9},
     "theZ 9 is not a plane"),
    ({"@type": OME + "Star", "X": 1, "Y": 1}, "is not one of"),
    ({"@type": OME + "Point", "X": 1}, "Y is missing"),
    ({"@type": OME + "Point", "X": 10 ** 400, "Y": 1}, "is not a finite number"),
    ({"@type": OME + "Point", "X": 1, "Y": 1, "FontStyle": "x" * 300}, "FontStyle is a short"),
    ({"@type": OME + "Polyline", "Points": " ".join(["1,2"] * 500_001)}, "at most 500000"),
]


def test_bad_shapes_are_refused_and_nothing_saved(api: Api, world: World,
                                                  tmp_path: Path) -> None:
    image_id = import_as(api, "alice", timelapse(tmp_path))
    browser = Browser(api, "alice")
    for shape, says in BAD_SHAPES:
        answer = _save(browser, image_id, new=[RECTANGLE, {**shape, "oldId": "-9:-9"}])
        assert answer["ids"] == {} and says in answer["errors"][0], answer
        assert answer["errors"][0].startswith("Error persisting new rois: ")
        assert browser.json(f"/api/v0/m/rois/?image={image_id}")["meta"]["totalCount"] == 0


def test_a_mask_is_drawn_in_its_fill_colour(api: Api, world: World, tmp_path: Path) -> None:
    from pixelvault.catalog.permissions import load_actor
    from pixelvault.formats.rois import Roi, Shape
    from pixelvault.services.objects import rois

    image_id = import_as(api, "alice", timelapse(tmp_path))
    with api.vault.catalog.session() as session:
        alice = load_actor(session, world.users["alice"])
        assert alice is not None
        [(_, [shape_id])] = rois.add(session, alice, image_id, [Roi(
            shapes=(Shape("mask", (1.0, 1.0, 3.0, 2.0), fill_color=-16776961,
                          mask=bytes([0b10110100])),))])
    browser = Browser(api, "alice")
    png = browser.get(f"/webgateway/render_shape_mask/{shape_id}/")
    assert png.status_code == 200, png.text
    pixels = Image.open(io.BytesIO(png.content))
    assert pixels.size == (3, 2) and pixels.getpixel((0, 0)) == (255, 0, 0, 255)
    assert pixels.getpixel((1, 0)) == (0, 0, 0, 0)
    listed = browser.json(f"/api/v0/m/rois/?image={image_id}")["data"][0]["shapes"][0]
    assert listed["@type"] == OME + "Mask" and listed["Width"] == 3.0


def test_changes_saved_for_one_image_touch_only_its_rois(api: Api, world: World,
                                                          tmp_path: Path) -> None:
    """persist_rois names one image: shapes of another image listed in it are refused and
    stay as they were (a viewer's save never reaches beyond the image it shows)."""
    first = import_as(api, "alice", timelapse(tmp_path, "first.ome.tif"))
    second = import_as(api, "alice", timelapse(tmp_path, "second.ome.tif"))
    browser = Browser(api, "alice")
    pair = _save(browser, first, new=[RECTANGLE])["ids"]["-1:-1"]
    roi, shape = pair.split(":")
    for changes in ({"modified": [{**RECTANGLE, "@id": int(shape), "X": 9.0, "oldId": pair}]},
                    {"deleted": {roi: [pair]}}, {"empty_rois": {roi: [pair]}}):
        answer = _save(browser, second, **changes)
        assert f"ROI {roi} is on image {first}, not on image {second}" in \
            answer["errors"][0], answer
    [kept] = browser.json(f"/api/v0/m/rois/?image={first}")["data"][0]["shapes"]
    assert kept["X"] == RECTANGLE["X"]
