"""An OMERO.iviewer session, request by request in the order its source makes them
(ome/omero-iviewer 0.19: ``src/app/context.js``, ``src/model/image_info.js``,
``src/settings/settings.js``, ``src/app/thumbnail-slider.js``,
``src/viewers/viewer/source/Image.js``, ``src/model/regions_info.js``,
``src/controls/IntensityDisplay.js``), each answer checked for the keys and types the
viewer reads, on SQLite and PostgreSQL.
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

from tests.conftest import Env
from tests.server.conftest import Api, World, serving
from tests.server.omero_clients import Browser, timelapse
from tests.server.test_webgateway import import_as


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0")
    with serving(initialised) as made:
        yield made


def _types(found: dict[str, Any], expected: dict[str, type | tuple[type, ...]]) -> None:
    for key, kind in expected.items():
        assert isinstance(found[key], kind), f"{key}: {found.get(key)!r}"


def _opened(api: Api, world: World, tmp_path: Path) -> tuple[Browser, int, int]:
    """alice's image in a dataset, opened as ``/iviewer/?images=ID&dataset=D`` opens it."""
    image_id = import_as(api, "alice", timelapse(tmp_path))
    alice = world.headers["alice"]
    dataset = api.client.post("/api/v1/datasets", headers=alice, json={"name": "movies"})
    dataset_id = dataset.json()["id"]
    assert api.client.post(f"/api/v1/datasets/{dataset_id}/images", headers=alice,
                           json={"child_id": image_id}).status_code == 204
    return Browser(api, "alice"), image_id, dataset_id


def test_opening_an_image(api: Api, world: World, tmp_path: Path) -> None:
    browser, image_id, dataset_id = _opened(api, world, tmp_path)
    # 1. context.js: the LUT list, each with its name and row in luts_png
    luts = browser.json("/webgateway/luts/")
    assert luts["png_luts_new"], "a truthy png_luts_new makes the viewer use luts_png"
    names = [lut["name"] for lut in luts["luts"]]
    assert names == sorted(names, key=str.lower) and "fire.lut" in names
    assert [lut["png_index_new"] for lut in luts["luts"]] == list(range(len(names)))
    # 2. <img> luts_png: one 10-pixel row per table, then the gradient
    png = browser.get("/webgateway/luts_png/")
    assert png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (256, 10 * (len(names) + 1))
    # 4. image_info.js: image_data, with the keys the viewer reads
    data = browser.json(f"/iviewer/image_data/{image_id}/")
    _types(data, {"channels": list, "size": dict, "rdefs": dict, "meta": dict, "perms": dict,
                  "pixel_range": list, "pixel_size": dict, "roi_count": int, "id": int,
                  "import_date": str, "families": list, "tiles": bool})
    assert data["size"] == {"width": 64, "height": 48, "z": 2, "t": 3, "c": 2}
    assert [c["label"] for c in data["channels"]] == ["DAPI", "GFP"]
    for channel in data["channels"]:
        _types(channel, {"active": bool, "label": str, "color": str, "inverted": bool,
                         "family": str, "coefficient": float, "window": dict})
        assert set(channel["window"]) == {"min", "max", "start", "end"}
    _types(data["rdefs"], {"model": str, "projection": str, "defaultZ": int, "defaultT": int})
    assert data["perms"]["canAnnotate"] is True and data["roi_count"] == 0
    assert data["meta"]["datasetId"] == dataset_id and data["meta"]["datasetName"] == "movies"
    assert data["meta"]["projectName"] == "Multiple" and data["meta"]["projectId"] is None
    assert data["meta"]["imageAuthor"] == "Alice Lab"
    sizes = data["pixel_size"]
    assert sizes["x"] == pytest.approx(0.1625) and sizes["unit_id_x"] == "MICROMETER"
    assert sizes["symbol_x"] == "nm" and sizes["unit_x"] == pytest.approx(162.5)
    assert sizes["symbol_z"] == "µm" and sizes["unit_z"] == pytest.approx(1.5)
    # 5. image_info.js: time offsets when size.t > 1
    delta = browser.json(f"/iviewer/image_data/{image_id}/delta_t/")
    assert delta["delta_t"] == pytest.approx([0.0, 2.5, 5.0])
    assert delta["delta_t_unit_symbol"] == "s" and delta["image_id"] == str(image_id)
    # 6. getImgRDef: nothing copied yet
    assert browser.json("/webgateway/getImgRDef/") == {"rdef": None}
    # thumbnail-slider.js: paths_to_object, then the dataset's images
    paths = browser.json(f"/webclient/api/paths_to_object/?image={image_id}&page_size=10")
    (path,) = paths["paths"]
    assert {"type": "dataset", "id": dataset_id} in [
        {k: step[k] for k in ("type", "id")} for step in path]
    strip = browser.json(f"/api/v0/m/datasets/{dataset_id}/images/?offset=0&limit=10")
    assert strip["meta"]["totalCount"] == 1 and strip["data"][0]["@id"] == image_id
    assert strip["data"][0]["Name"] == "timelapse.ome.tif"
    # thumbnail-slider.html: each thumbnail through the webclient's own prefix
    for url in (f"/webclient/render_thumbnail/{image_id}/?version=0",
                f"/webclient/render_thumbnail/size/64/{image_id}/"):
        answer = browser.client.get(url)
        assert answer.headers["content-type"] == "image/jpeg", url
    assert browser.json(f"/webclient/imgData/{image_id}/")["id"] == image_id
    # 8. settings.js: every user's settings (none saved yet)
    assert browser.json(f"/webgateway/get_image_rdefs_json/{image_id}/") == {"rdefs": []}
    # Image.js: tiles of the active channels with raw-JSON maps, and the bird's eye view
    maps = json.dumps([{"inverted": {"enabled": False}}, {"inverted": {"enabled": False}}])
    tile = browser.client.get(
        f"/webgateway/render_image/{image_id}/0/1/?c=1|0:1000$0000FF,2|0:3000$00FF00"
        f"&maps={maps}&m=c&p=normal&q=0.9")
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/jpeg"
    assert browser.client.get(f"/webgateway/render_thumbnail/{image_id}/?rev=1-2"
                              ).status_code == 200
    # open_with: none registered
    assert browser.json("/webgateway/open_with/") == {"open_with_options": []}


def test_settings_saved_copied_pasted_and_reset(api: Api, world: World,
                                                 tmp_path: Path) -> None:
    browser, image_id, dataset_id = _opened(api, world, tmp_path)
    other = import_as(api, "alice", timelapse(tmp_path, "second.ome.tif"))
    # image_config.js: Save sends every channel, inactive ones with "-", z and t from 1
    maps = json.dumps([{"inverted": {"enabled": True}}, {"inverted": {"enabled": False}}])
    saved = browser.post(f"/webgateway/saveImgRDef/{image_id}/?m=c&p=normal&t=2&z=1&q=0.9"
                         f"&ia=0&c=1|100:900$FF0000,-2|0:2000$viridis.lut&maps={maps}")
    assert saved.status_code == 200 and saved.json() is True
    data = browser.json(f"/iviewer/image_data/{image_id}/")
    red, green = data["channels"]
    assert (red["color"], red["window"]["start"], red["window"]["end"]) == ("FF0000", 100, 900)
    assert red["inverted"] is True and red["active"] is True
    assert green["active"] is False and green["lut"] == "viridis.lut"
    assert (data["rdefs"]["defaultZ"], data["rdefs"]["defaultT"]) == (0, 1)
    rdefs = browser.json(f"/webgateway/get_image_rdefs_json/{image_id}/")["rdefs"]
    assert len(rdefs) == 1 and rdefs[0]["owner"] == {
        "id": world.users["alice"], "firstName": "Alice", "lastName": "Lab"}
    assert rdefs[0]["model"] == "rgb" and rdefs[0]["c"][1]["lut"] == "viridis.lut"
    assert rdefs[0]["c"][0]["rgb"] == {"red": 255, "green": 0, "blue": 0}
    # "Imported": the defaults, without saving them
    defaults = browser.json(f"/webgateway/imgData/{image_id}/?getDefaults=true")
    assert defaults["channels"][0]["color"] != "FF0000" and defaults["rdefs"]["projection"]
    assert browser.json(f"/iviewer/image_data/{image_id}/")["channels"][0]["color"] == "FF0000"
    # settings.js: Copy (GET with the settings), then getImgRDef hands them back
    copied = browser.get(f"/webgateway/copyImgRDef/?imageId={image_id}&q=0.9"
                         "&pixel_range=0:65535&m=c&p=normal&ia=0"
                         "&c=1|5:50$00FFFF,2|6:60$FFFF00&maps=[{},{}]")
    assert copied.status_code == 200 and copied.json() is True
    rdef = browser.json("/webgateway/getImgRDef/")["rdef"]
    assert rdef["c"] == "1|5:50$00FFFF,2|6:60$FFFF00" and rdef["pixel_range"] == "0:65535"
    assert rdef["m"] == "c" and rdef["maps"] == [{}, {}]
    # Save to all: POST copyImgRDef with the dataset as target
    pasted = browser.post("/webgateway/copyImgRDef/?m=c&c=1|5:50$00FFFF,2|6:60$FFFF00",
                          data={"toids": str(dataset_id), "to_type": "dataset"})
    assert pasted.status_code == 200 and pasted.json() == {"true": [image_id], "false": []}
    assert browser.json(f"/webgateway/imgData/{image_id}/")["channels"][1]["color"] == "FFFF00"
    # webclient: copy by image id, paste onto another image
    assert browser.get(f"/webgateway/copyImgRDef/?fromid={image_id}").json() is True
    held = browser.json("/webgateway/getImgRDef/")["rdef"]
    assert held["imageId"] == image_id and held["c"].startswith("1|5:50$00FFFF")
    pasted = browser.post("/webgateway/copyImgRDef/", data={"toids": [str(other)]})
    assert pasted.json() == {"true": [other], "false": []}
    assert browser.json(f"/webgateway/imgData/{other}/")["channels"][0]["color"] == "00FFFF"
    # resetRDef and applyOwnersRDef answer the ids they set
    assert browser.post("/webgateway/resetRDef/", data={"toids": [str(other)]}).json() == \
        [other]
    assert browser.json(f"/webgateway/imgData/{other}/")["channels"][0]["color"] != "00FFFF"
    assert browser.post("/webgateway/applyOwnersRDef/", data={
        "toids": str(image_id), "to_type": "image"}).json() == [image_id]


def test_intensities_and_region_tiles(api: Api, world: World, tmp_path: Path) -> None:
    browser, image_id, _ = _opened(api, world, tmp_path)
    # IntensityDisplay.js: values around the pointer, keyed "x-y" then channel
    found = browser.json(f"/iviewer/get_intensity/?image={image_id}&z=0&t=2&x=0&y=0&c=0,1")
    assert found["count"] == 51 * 48 * 2  # the window slides in from the edge, as OMERO's
    assert found["pixels"]["0-0"] == {"0": 12, "1": 12}
    assert found["pixels"]["40-10"] == {"0": 0, "1": 3000}
    # Image.js on a large image without a pyramid: whole tiles as regions, cut at the edge
    edge = browser.client.get(f"/webgateway/render_image_region/{image_id}/0/0/"
                              "?region=32,32,512,512&c=1|0:1000$FF0000&m=c&format=png")
    assert Image.open(io.BytesIO(edge.content)).size == (32, 16)
    big = browser.client.get(f"/webgateway/render_image_region/{image_id}/0/0/"
                             "?tile=0,0,0,4096,4096&format=png")
    assert Image.open(io.BytesIO(big.content)).size == (64, 48)
    # histogram.js
    histogram = browser.json(f"/webgateway/histogram_json/{image_id}/channel/0/?theT=0&theZ=0")
    assert len(histogram["data"]) == 256 and sum(histogram["data"]) == 64 * 48


@pytest.mark.parametrize(("who", "level", "status"), [
    ("bob", "READ_ONLY", 403), ("bob", "READ_ANNOTATE", 200), ("bob", "PRIVATE", 404),
    ("olga", "READ_ONLY", 200), ("olga", "PRIVATE", 403), ("xavier", "READ_WRITE", 404),
])
def test_who_may_keep_rendering_settings(api: Api, world: World, tmp_path: Path, who: str,
                                         level: str, status: int) -> None:
    """OMERO's rule: your own settings on another's image need the right to annotate it
    (a member of a read-only group may look, not keep; the group's owner may)."""
    from pixelvault.catalog.models import Permissions

    alice = world.headers["alice"]
    image_id = import_as(api, "alice", timelapse(tmp_path),
                         group_id=world.groups[Permissions[level]])
    browser = Browser(api, who)
    saved = browser.post(f"/webgateway/saveImgRDef/{image_id}/?m=g&c=1|0:10$FF0000,"
                         "2|0:20$00FF00")
    assert saved.status_code == status, saved.text
    kept = api.client.get(f"/webgateway/get_image_rdefs_json/{image_id}/", headers=alice)
    assert len(kept.json()["rdefs"]) == (1 if status == 200 else 0)
    if status == 200:  # theirs, not alice's: alice still sees her own view
        assert kept.json()["rdefs"][0]["owner"]["id"] == world.users[who]
        assert api.client.get(f"/webgateway/imgData/{image_id}/", headers=alice).json()[
            "rdefs"]["model"] == "color"


@pytest.mark.parametrize(("query", "says"), [
    ("m=c&c=1|0:10$FF0000", "give all 2"), ("c=1|0:10$FF0000,2|0:5$00FF00", "m= must"),
    ("m=c&c=1$FF0000,2|0:5$00FF00", "needs [-]INDEX|START:END$COLOUR"),
    ("m=c&c=2|0:10$FF0000,1|0:5$00FF00", "in order"), ("m=x&c=1|0:1$FF0000,2|0:1$FF0000",
                                                         "m= must"),
    ("m=c&c=1|0:10$FF0000,2|0:5$nosuch.lut", "not known"),
    ("m=c&z=9&c=1|0:10$FF0000,2|0:5$00FF00", "a plane from 1 to 2"),
    ("m=c&c=1|9:1$FF0000,2|0:5$00FF00", "above end"),
])
def test_bad_settings_are_refused_and_nothing_kept(api: Api, world: World, tmp_path: Path,
                                                  query: str, says: str) -> None:
    browser, image_id, _ = _opened(api, world, tmp_path)
    answer = browser.post(f"/webgateway/saveImgRDef/{image_id}/?{query}")
    assert answer.status_code == 400 and says in answer.json()["message"], answer.text
    assert browser.json(f"/webgateway/get_image_rdefs_json/{image_id}/") == {"rdefs": []}
    assert browser.get(f"/webgateway/saveImgRDef/{image_id}/?{query}").status_code == 405


def test_jsonp_and_parts_of_img_data(api: Api, world: World, tmp_path: Path) -> None:
    browser, image_id, _ = _opened(api, world, tmp_path)
    # never to a browser session: a <script> tag on any page of the site would send it
    refused = browser.get(f"/webgateway/imgData/{image_id}/?callback=show")
    assert refused.status_code == 400 and "JSONP" in refused.json()["message"]
    alice = world.headers["alice"]  # a Bearer session, which no script tag carries
    wrapped = api.client.get(f"/webgateway/imgData/{image_id}/?callback=show_1$", headers=alice)
    assert wrapped.headers["content-type"].startswith("application/javascript")
    assert wrapped.text.startswith("show_1$(") and wrapped.text.endswith(")")
    assert json.loads(wrapped.text[len("show_1$("):-1])["id"] == image_id
    hostile = api.client.get(f"/webgateway/imgData/{image_id}/?callback=alert(1)//",
                             headers=alice)
    assert hostile.status_code == 400 and "alert" not in hostile.text.split('"message"')[0]
    assert browser.json(f"/webgateway/imgData/{image_id}/meta.imageName/") == \
        "timelapse.ome.tif"
    assert browser.json(f"/webgateway/imgData/{image_id}/no.such.key/") is None
    split = browser.json(f"/webgateway/imgData/{image_id}/split_channel/")
    assert split["g"] == {"width": 64 * 2 + 6, "height": 48 + 4, "border": 2, "gridx": 2,
                          "gridy": 1}
    assert split["c"]["gridx"] == 2 and split["c"]["gridy"] == 2
    panels = browser.client.get(f"/webgateway/render_split_channel/{image_id}/0/0/?format=png")
    picture = np.asarray(Image.open(io.BytesIO(panels.content)).convert("RGB"))
    assert picture.shape == (split["c"]["height"], split["c"]["width"], 3)
    assert (picture[0, 0] == 255).all()  # the white border
    thumbnail = browser.json(f"/webgateway/get_thumbnail/{image_id}/")
    assert thumbnail.startswith("data:image/jpeg;base64,")
    eye = browser.client.get(f"/webgateway/render_birds_eye_view/{image_id}/40/")
    assert max(Image.open(io.BytesIO(eye.content)).size) == 40


def test_parameters_pixelvault_does_not_use_are_ignored(api: Api, world: World,
                                                        tmp_path: Path) -> None:
    """OMERO.web ignores query parameters a view does not read (jQuery's ``_``, ``ia``,
    ``dataType``, a share's ``server``...); so does pixelvault, never a 4xx or a 500."""
    browser, image_id, dataset_id = _opened(api, world, tmp_path)
    extra = "_=1&ia=0&dataType=json&server=1&share_id=&callback_=x&format_=&zm=100"
    for url in (f"/webgateway/imgData/{image_id}/", f"/iviewer/image_data/{image_id}/",
                f"/figure/imgData/{image_id}/", "/webgateway/luts/",
                f"/webgateway/render_image/{image_id}/0/0/", f"/webgateway/get_thumbnail/"
                f"{image_id}/", f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,0,0",
                f"/webclient/api/paths_to_object/?image={image_id}",
                f"/api/v0/m/datasets/{dataset_id}/images/", "/webgateway/getImgRDef/",
                f"/iviewer/plane_shape_counts/{image_id}/", "/figure/list_web_figures/"):
        joiner = "&" if "?" in url else "?"
        answer = browser.client.get(f"{url}{joiner}{extra}")
        assert answer.status_code == 200, (url, answer.text[:200])
    saved = browser.post(f"/webgateway/saveImgRDef/{image_id}/?{extra}&q=0.9&p=intmax"
                         "&m=c&c=1|0:10$FF0000,2|0:20$00FF00")
    assert saved.status_code == 200
    # a projection is not kept by saving, as in OMERO.web
    assert browser.json(f"/webgateway/imgData/{image_id}/")["rdefs"]["projection"] == "normal"


def test_hostile_copies_and_pastes(api: Api, world: World, tmp_path: Path) -> None:
    browser, image_id, _ = _opened(api, world, tmp_path)
    deep = "[" * 100 + "]" * 100
    answer = browser.get(f"/webgateway/copyImgRDef/?c=1|0:1$FF0000&maps={deep}")
    assert answer.status_code == 400 and "nests" in answer.json()["message"]
    assert browser.get("/webgateway/copyImgRDef/?fromid=999999").status_code == 404
    for hostile in ("²", str(2**40), "1" * 5000):
        answer = browser.post("/webgateway/copyImgRDef/", data={"toids": str(image_id)},
                              params={"fromid": hostile})
        assert answer.status_code == 400, (hostile[:10], answer.text)
    too_long = browser.post(f"/webgateway/saveImgRDef/{image_id}/?m=c&c=" + "1" * 4400)
    assert too_long.status_code == 400
    assert browser.post(f"/webgateway/saveImgRDef/{image_id}/?m=c&z=²&c=1|0:1$FF0000,"
                        "2|0:1$FF0000").status_code == 400
    for place in ("nan", "inf", "1e400", "-1"):
        answer = browser.get(f"/iviewer/get_intensity/?image={image_id}&z=0&t=0&x={place}"
                             "&y=0&c=0")
        assert answer.status_code == 400, (place, answer.text)
    assert browser.get(f"/iviewer/get_intensity/?image={2**40}&z=0&t=0&x=0&y=0&c=0"
                       ).status_code == 400
    # a colour that is no colour, behind a LUT, is refused rather than kept
    bad = api.client.put(f"/api/v1/images/{image_id}/rendering", headers=world.headers["alice"],
                         json={"channels": [{"lut": "fire", "color": "ZZZZZZ"}, {}]})
    assert bad.status_code == 400 and "RRGGBB" in bad.json()["message"]
    assert browser.json(f"/webgateway/get_image_rdefs_json/{image_id}/") == {"rdefs": []}
    assert browser.get("/webgateway/copyImgRDef/").status_code == 400
    assert browser.json("/webgateway/getImgRDef/") == {"rdef": None}
    # bob may not read alice's private image: copying from it is a 404, pasting onto it
    # lands in "false"
    bob = Browser(api, "bob")
    assert bob.get(f"/webgateway/copyImgRDef/?fromid={image_id}").status_code == 404
    own = import_as(api, "bob", timelapse(tmp_path, "bobs.ome.tif"))
    assert bob.get(f"/webgateway/copyImgRDef/?fromid={own}").json() is True
    pasted = bob.post("/webgateway/copyImgRDef/", data={"toids": f"{image_id},{own}"})
    assert pasted.json() == {"true": [own], "false": [image_id]}
    for form in ({"toids": "x"}, {"toids": "1", "to_type": "plate"}, {}, {"toids": "²"},
                 {"toids": str(2**40)}, {"toids": ",".join(["1"] * 10_001)}):
        answer = bob.post("/webgateway/resetRDef/", data=form)
        assert answer.status_code == 400, (form, answer.text)


def test_saving_a_projection(api: Api, world: World, tmp_path: Path) -> None:
    """header.js: save_projection makes a new image of the planes projected, every
    channel and time point, in the dataset given; answers its id."""
    browser, image_id, dataset_id = _opened(api, world, tmp_path)
    made = browser.json(f"/iviewer/save_projection/?image={image_id}&projection=intsum"
                        f"&start=0&end=1&dataset={dataset_id}")["id"]
    data = browser.json(f"/iviewer/image_data/{made}/")
    assert data["size"] == {"width": 64, "height": 48, "z": 1, "t": 3, "c": 2}
    assert data["meta"]["imageName"] == "timelapse_proj.ome.tif"
    assert data["meta"]["datasetId"] == dataset_id
    assert [c["label"] for c in data["channels"]] == ["DAPI", "GFP"]
    assert data["pixel_size"]["x"] == pytest.approx(0.1625)
    values = browser.json(f"/iviewer/get_intensity/?image={made}&z=0&t=2&x=0&y=0&c=0,1")
    assert values["pixels"]["0-0"] == {"0": 24, "1": 24}  # 12 on each of two planes
    assert values["pixels"]["40-10"] == {"0": 0, "1": 6000}
    description = api.client.get(f"/api/v1/images/{made}", headers=world.headers["alice"])
    assert "intsum" in description.json()["description"]
    for query, status in ((f"image={image_id}&projection=median", 400),
                          (f"image={image_id}&projection=intmax&start=1&end=0", 400),
                          (f"image={image_id}&projection=intmax&end=9", 400),
                          ("image=999999&projection=intmax", 404)):
        assert browser.get(f"/iviewer/save_projection/?{query}").status_code == status, query
    bob = Browser(api, "bob")  # alice's image is in her private group
    assert bob.get(f"/iviewer/save_projection/?image={image_id}&projection=intmax"
                   ).status_code == 404
