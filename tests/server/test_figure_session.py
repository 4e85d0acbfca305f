"""An OMERO.figure session, request by request in the order its source makes them
(ome/omero-figure 8.0: ``src/js/views/lutpicker.js``, ``src/js/models/figure_model.js``
``importImage``/``save_to_OMERO``/``load_from_OMERO``, ``src/js/models/panel_model.js``
``get_img_src``, ``src/js/views/files.js``, ``src/js/views/roi_modal_view.js``), each
answer checked for the keys and types figure reads, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pixelvault.catalog.models import Permissions
from tests.conftest import Env
from tests.server.conftest import Api, World, serving
from tests.server.omero_clients import Browser, timelapse
from tests.server.test_webgateway import import_as


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0")
    with serving(initialised) as made:
        yield made


def _figure(image_id: int, name: str = "") -> dict[str, Any]:
    """What figure_toJSON writes (version 9), one panel."""
    figure: dict[str, Any] = {
        "version": 9, "paper_width": 595, "paper_height": 842, "page_size": "A4",
        "page_count": 1, "paper_spacing": 50, "page_col_count": 1, "orientation": "vertical",
        "legend": "", "legend_collapsed": True, "page_color": "FFFFFF",
        "panels": [{"imageId": image_id, "name": "timelapse.ome.tif", "x": 10, "y": 10,
                    "width": 200, "height": 150, "orig_width": 64, "orig_height": 48,
                    "channels": [], "theZ": 0, "theT": 0}]}
    if name:
        figure["figureName"] = name
    return figure


def _project(api: Api, world: World, image_id: int) -> tuple[int, int]:
    alice = world.headers["alice"]
    project = api.client.post("/api/v1/projects", headers=alice, json={"name": "paper"})
    dataset = api.client.post("/api/v1/datasets", headers=alice, json={"name": "fig 1"})
    project_id, dataset_id = project.json()["id"], dataset.json()["id"]
    for url, child in ((f"/api/v1/projects/{project_id}/datasets", dataset_id),
                       (f"/api/v1/datasets/{dataset_id}/images", image_id)):
        assert api.client.post(url, headers=alice, json={"child_id": child}).status_code == 204
    return project_id, dataset_id


def test_adding_an_image_panel(api: Api, world: World, tmp_path: Path) -> None:
    image_id = import_as(api, "alice", timelapse(tmp_path))
    project_id, dataset_id = _project(api, world, image_id)
    browser = Browser(api, "alice")
    # A2 lutpicker.js (fetch, no cache-buster): names and rows of luts_png
    luts = browser.client.get("/webgateway/luts/").json()
    assert luts["png_luts_new"][-1] == "gradient.png"
    assert all(isinstance(lut["name"], str) and lut["name"].endswith(".lut")
               for lut in luts["luts"])
    assert browser.json("/webgateway/open_with/") == {"open_with_options": []}
    assert browser.client.get("/webclient/keepalive_ping/").text == "OK"
    # B1 importImage: /figure/imgData/ (fetch, with a JSON content type on a GET)
    data = browser.client.get(f"/figure/imgData/{image_id}/",
                              headers={"Content-Type": "application/json"}).json()
    assert data["id"] == image_id and data["meta"]["imageName"] == "timelapse.ome.tif"
    assert data["meta"]["datasetName"] == "fig 1" and data["meta"]["datasetId"] == dataset_id
    assert data["meta"]["projectName"] == "paper" and data["meta"]["projectId"] == project_id
    assert data["meta"]["pixelsType"] == "uint16" and data["pixel_range"] == [0, 65535]
    assert (data["size"]["width"], data["size"]["height"], data["size"]["z"],
            data["size"]["t"]) == (64, 48, 2, 3)
    sizes = data["pixel_size"]
    assert sizes["valueX"] == pytest.approx(0.1625) and sizes["valueZ"] == pytest.approx(1.5)
    assert (sizes["symbolX"], sizes["unitX"], sizes["unitZ"]) == ("µm", "MICROMETER",
                                                                  "MICROMETER")
    assert data["deltaT"] == pytest.approx([0.0, 2.5, 5.0])
    parents = data["parents"]
    assert parents["project"] == {"id": project_id, "name": "paper"}
    assert parents["dataset"]["name"] == "fig 1" and parents["image"]["id"] == image_id
    assert parents["experimenter"] == {"id": world.users["alice"], "name": "alice"}
    for channel in data["channels"]:
        assert {"window", "color", "active", "label", "reverseIntensity"} <= set(channel)
    assert isinstance(data["rdefs"]["defaultZ"], int) and data["rdefs"]["model"] == "color"
    # B2 get_img_src: the panel, with the channels as the panel has them
    maps = json.dumps([{"reverse": {"enabled": False}}, {"reverse": {"enabled": True}}])
    panel = browser.client.get(f"/webgateway/render_image/{image_id}/1/2/"
                               f"?c=1|0:1000$FF0000,2|0:3000$cool.lut&maps={maps}&m=c")
    assert panel.status_code == 400 and "cool.lut" in panel.json()["message"]
    panel = browser.client.get(f"/webgateway/render_image/{image_id}/1/2/"
                               f"?c=1|0:1000$FF0000,2|0:3000$fire.lut&maps={maps}&m=c")
    assert Image.open(io.BytesIO(panel.content)).size == (64, 48)
    # a big image's viewport, zoomed out: the margin outside the image is grey
    scaled = browser.client.get(f"/figure/render_scaled_region/{image_id}/0/0/"
                                "?c=1|0:1000$FF0000&m=c&region=-32,-24,128,96&format=png")
    picture = np.asarray(Image.open(io.BytesIO(scaled.content)).convert("RGB"))
    assert picture.shape == (96, 128, 3)
    assert (picture[0, 0] == 221).all() and (picture[95, 127] == 221).all()
    assert picture[24 + 10, 32 + 10, 0] == 255  # the image's red left half
    assert (picture[24 + 10, 32 + 40] == 0).all()
    # C: ROIs (see test_omero_rois for ones drawn), older files' metadata
    assert browser.client.get(f"/figure/roiCount/{image_id}/").json() == {"roi": 0}
    assert browser.client.get(f"/figure/roiRectangles/{image_id}/?limit=50&offset=0"
                              ).json() == {"data": [], "meta": {"totalCount": 0}}
    assert browser.json(f"/figure/timestamps/?image={image_id}&image=999999") == {
        str(image_id): pytest.approx([0.0, 2.5, 5.0])}
    assert browser.json(f"/figure/z_scale/?image={image_id}") == {str(image_id): {
        "valueZ": 1.5, "symbolZ": "µm", "unitZ": "MICROMETER"}}
    assert browser.json(f"/figure/pixels_type/?image={image_id}")[str(image_id)] == {
        "pixelsType": "uint16", "pixel_range": [0, 65535]}
    # align magnification (figure_model.js), the move-to-group dialog (chgrp_modal_view.js)
    assert browser.json("/figure/unit_conversion/0.1625/MICROMETER/NANOMETER/") == {
        "value": pytest.approx(162.5), "unit": "NANOMETER", "symbol": "nm"}
    assert browser.get("/figure/unit_conversion/1/PARSEC/METER/").status_code == 400
    assert browser.get("/figure/unit_conversion/nan/METER/METER/").status_code == 400
    (details,) = browser.json(f"/figure/images_details/?image={image_id},999999")["data"]
    assert details["name"] == "timelapse.ome.tif" and details["owner"] == {
        "id": world.users["alice"], "firstName": "Alice", "lastName": "Lab"}
    assert Browser(api, "xavier").json(f"/figure/images_details/?image={image_id}") == {
        "data": []}


def test_saving_listing_loading_and_deleting_figures(api: Api, world: World,
                                                      tmp_path: Path) -> None:
    group = world.groups[Permissions.READ_ONLY]
    image_id = import_as(api, "alice", timelapse(tmp_path), group_id=group)
    browser = Browser(api, "alice")
    # D1 save_to_OMERO: a form with figureJSON; the answer is the id as text
    saved = browser.post("/figure/save_web_figure/",
                         data={"figureJSON": json.dumps(_figure(image_id, "Fig. 1"))})
    assert saved.status_code == 200, saved.text
    file_id = int(saved.text)
    # D3 files.js: the list, with owner.id an int and creationDate in seconds
    (listed,) = browser.json("/figure/list_web_figures/")
    assert listed["id"] == file_id and listed["name"] == "Fig. 1"
    assert json.loads(listed["description"]) == {"name": "Fig. 1", "imageId": image_id}
    assert listed["owner"]["id"] == world.users["alice"] and listed["ownerFullName"] == \
        "Alice Lab"
    assert listed["group"]["id"] == group and listed["canEdit"] is True
    assert isinstance(listed["creationDate"], float) and listed["creationDate"] > 1.7e9
    thumbnail = browser.client.get(f"/figure/render_thumbnail/{image_id}/")
    assert thumbnail.headers["content-type"] == "image/jpeg"
    # D5 load_from_OMERO: the stored JSON plus canEdit, group, figureName
    loaded = browser.json(f"/figure/load_web_figure/{file_id}/")
    assert loaded["panels"][0]["imageId"] == image_id and loaded["version"] == 9
    assert loaded["canEdit"] is True and loaded["figureName"] == "Fig. 1"
    assert loaded["group"] == {"id": group, "name": "lab-read_only"}
    # a new version under the same id
    again = browser.post("/figure/save_web_figure/", data={
        "figureJSON": json.dumps(_figure(image_id, "Fig. 1b")), "fileId": str(file_id)})
    assert int(again.text) == file_id
    assert browser.json(f"/figure/load_web_figure/{file_id}/")["figureName"] == "Fig. 1b"
    # bob, in the read-only group, sees it, may open it, may not change or delete it
    bob = Browser(api, "bob")
    (seen,) = bob.json("/figure/list_web_figures/")
    assert seen["canEdit"] is False
    assert bob.json(f"/figure/load_web_figure/{file_id}/")["canEdit"] is False
    assert bob.post("/figure/save_web_figure/", data={
        "figureJSON": json.dumps(_figure(image_id)), "fileId": str(file_id)}
    ).status_code == 403
    assert bob.post("/figure/delete_web_figure/", data={"fileId": str(file_id)}
                    ).status_code == 403
    assert Browser(api, "xavier").json("/figure/list_web_figures/") == []
    assert Browser(api, "xavier").get(f"/figure/load_web_figure/{file_id}/").status_code == 404
    # chgrp_modal_view.js: move it into another group of alice's
    other = world.groups[Permissions.READ_ANNOTATE]
    assert bob.post("/figure/chgrp/", data={"ann_id": str(file_id), "group_id": str(other)}
                    ).status_code == 403
    assert browser.post("/figure/chgrp/", data={"ann_id": str(file_id), "group_id": "999999"}
                        ).status_code == 404
    moved = browser.post("/figure/chgrp/", data={"ann_id": str(file_id),
                                                 "group_id": str(other)})
    assert moved.json() == {"success": True}
    assert browser.json("/figure/list_web_figures/")[0]["group"]["id"] == other
    # D8 delete
    deleted = browser.post("/figure/delete_web_figure/", data={"fileId": str(file_id)})
    assert deleted.text == "Deleted OK"
    assert browser.json("/figure/list_web_figures/") == []
    assert browser.get(f"/figure/load_web_figure/{file_id}/").status_code == 404


def test_a_figure_without_images_and_bad_figures(api: Api, world: World) -> None:
    browser = Browser(api, "alice")
    saved = browser.post("/figure/save_web_figure/", data={"figureJSON": json.dumps(
        {"version": 9, "panels": []})})
    (listed,) = browser.json("/figure/list_web_figures/")
    assert listed["id"] == int(saved.text) and listed["name"].startswith("Figure_")
    assert listed["description"] == "{}"
    for form, says in (({}, "figureJSON"), ({"figureJSON": "not json"}, "not JSON"),
                       ({"figureJSON": "[1]"}, "JSON object"),
                       ({"figureJSON": "[" * 100 + "]" * 100}, "nests"),
                       ({"figureJSON": "{}", "fileId": "x"}, "not a figure id"),
                       ({"figureJSON": "{}", "fileId": "999999"}, "no figure")):
        answer = browser.post("/figure/save_web_figure/", data=form)
        assert answer.status_code in (400, 404) and says in answer.json()["message"], \
            (form, answer.text)
    # a deeply nested figure, stored compact when indenting would bloat it, opens again
    deep: dict[str, object] = {"version": 9, "panels": []}
    node = deep
    for _ in range(55):
        node["n"] = {}
        node = node["n"]  # type: ignore[assignment]
    node["values"] = [0] * 700_000  # 1.4 MB sent; over 64 MiB once indented 56 deep
    saved = browser.post("/figure/save_web_figure/", data={"figureJSON": json.dumps(deep)})
    assert saved.status_code == 200, saved.text
    assert browser.json(f"/figure/load_web_figure/{saved.text}/")["version"] == 9
    # an ordinary attachment is not a figure
    assert browser.get(f"/figure/load_web_figure/{listed['id'] + 1000}/").status_code == 404
