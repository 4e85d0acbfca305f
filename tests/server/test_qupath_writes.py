"""What QuPath's OMERO extension does after browsing, request by request as its source
makes them (qupath/qupath-extension-omero 0.2.5, docs/clients/qupath-omero-extension.md
sections 4-6): the image's reachability check and the public user's id
(``core/apis/webclient/WebclientApi.java``, ``OmeroImageServerBuilder.java``), search
by scraping the results table (``core/apis/webclient/search/SearchResult.java``), and
the writes (``WebclientApi.changeImageName``, ``sendKeyValuePairs``,
``changeChannelNames``, ``sendAttachment``, ``deleteAttachments``,
``WebGatewayApi.changeChannelDisplayRangesAndColors``), each checked for the key QuPath
looks for in the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from pixelvault.catalog.models import Permissions
from pixelvault.services.search.index import index_of
from tests.conftest import Env
from tests.server.conftest import Api, World, serving
from tests.server.omero_clients import Browser, timelapse
from tests.server.test_webgateway import import_as

# SearchResult.createFromHTMLResponse's patterns
ROW = re.compile(r'<tr id="(\w+)-(\d+)".+?</tr>', re.DOTALL)
NAME = re.compile(r'<td class="desc"><a>(.+?)</a></td>')
DATE = re.compile(r"<td class=\"date\" data-isodate='(.*?)'></td>")
GROUP = re.compile(r'<td class="group">(.+?)</td>')
LINK = re.compile(r'<td><a href="(.+?)"')
USER = re.compile(r"WEBCLIENT.USER = \{'id': (.+?), 'fullName':")


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0", search_indexer="off")
    with serving(initialised) as made:
        yield made


def test_the_image_is_reachable_and_the_user_known(api: Api, world: World,
                                                    tmp_path: Path) -> None:
    image_id = import_as(api, "alice", timelapse(tmp_path))
    browser = Browser(api, "alice")
    page = browser.client.get(f"/webclient/?show=image-{image_id}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    found = USER.search(page.text)
    assert found is not None and int(found[1]) == world.users["alice"]
    assert "timelapse.ome.tif" in page.text
    # another's private image, a missing one, a malformed show=: never a 200
    assert Browser(api, "bob").client.get(f"/webclient/?show=image-{image_id}"
                                          ).status_code == 404
    assert browser.client.get("/webclient/?show=image-999999").status_code == 404
    assert browser.client.get("/webclient/?show=image-1<script>").status_code == 400
    assert browser.client.get(f"/webclient/?show=image-{2**40}").status_code == 400


def test_search_rows_as_qupath_scrapes_them(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    group = world.groups[Permissions.READ_ONLY]
    image_id = import_as(api, "alice", timelapse(tmp_path, "mitosis <b>1<b>.ome.tif"),
                         group_id=group)
    api.client.post("/api/v1/datasets", headers=alice,
                    json={"name": "mitosis screen", "group_id": group})
    index_of(api.vault).catch_up()
    for who, expected in (("alice", 2), ("bob", 2), ("xavier", 0)):
        browser = Browser(api, who)
        page = browser.get(
            "/webclient/load_searching/form/?query=mitosis&&field=name&field=description&&"
            f"datatype=images&datatype=datasets&searchGroup={group}&ownedBy=-1"
            "&useAcquisitionDate=false&startdateinput=&enddateinput=")
        assert page.status_code == 200, page.text
        rows = list(ROW.finditer(page.text))
        assert len(rows) == expected, (who, page.text)
        for row in rows:
            text = row[0]
            name, group_name = NAME.search(text), GROUP.search(text)
            dates, link = DATE.findall(text), LINK.search(text)
            assert name and group_name and link and len(dates) == 2
            assert group_name[1] == "lab-read_only" and dates[1]  # imported: RFC 2822
            assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", dates[1])
            if row[1] == "image":
                assert int(row[2]) == image_id
                assert name[1] == "mitosis &lt;b&gt;1&lt;b&gt;.ome.tif"  # escaped


def test_writes_answer_the_keys_qupath_checks(api: Api, world: World,
                                              tmp_path: Path) -> None:
    image_id = import_as(api, "alice", timelapse(tmp_path))
    browser = Browser(api, "alice")
    # changeImageName: the raw name as a form, the answer must hold o_type
    renamed = browser.post(f"/webclient/action/savename/image/{image_id}/",
                           content=b"name=cells & more&",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert renamed.json() == {"bad": "false", "o_type": "image"}
    assert browser.json(f"/api/v0/m/images/{image_id}/")["data"]["Name"] == "cells "
    assert browser.post(f"/webclient/action/savename/image/{image_id}/",
                        data={"name": "cells & more"}).status_code == 200
    # sendKeyValuePairs: new pairs, then replacing them by annId
    pairs = [["Cell line", "HeLa"], ["Stain", "DAPI"]]
    made = browser.post("/webclient/annotate_map/", content=(
        f"image={image_id}&ns=qupath&mapAnnotation={quote(json.dumps(pairs))}").encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"}).json()
    (annotation_id,) = made["annId"]
    replaced = browser.post("/webclient/annotate_map/", data={
        "image": str(image_id), "annId": str(annotation_id),
        "mapAnnotation": json.dumps([["Stain", "Hoechst"]])})
    assert replaced.json() == {"annId": [annotation_id]}
    found = browser.json(f"/webclient/api/annotations/?image={image_id}")
    (kv,) = [a for a in found["annotations"] if a["id"] == annotation_id]
    assert kv["values"] == [["Stain", "Hoechst"]] and kv["ns"] == "qupath"
    # changeChannelNames
    named = browser.post(f"/webclient/edit_channel_names/{image_id}/",
                         data={"channel0": "Hoechst", "channel1": "GFP-H2B", "save": "save"})
    assert named.json()["channelNames"] == {"channel0": "Hoechst", "channel1": "GFP-H2B"}
    labels = [c["label"] for c in browser.json(f"/webgateway/imgData/{image_id}/")["channels"]]
    assert labels == ["Hoechst", "GFP-H2B"]
    # sendAttachment: multipart, then the annotation lists it with name, mimetype, size
    table = b"Image,Area\ncells,12.5\n"
    sent = browser.post("/webclient/annotate_file/",
                        files={"annotation_file": ("qupath_measurements.csv", table,
                                                   "text/csv")},
                        data={"image": str(image_id), "index": ""})
    (file_annotation,) = sent.json()["fileIds"]
    found = browser.json(f"/webclient/api/annotations/?image={image_id}&type=file")
    (attached,) = [a for a in found["annotations"] if a["class"] == "FileAnnotationI"]
    assert attached["file"]["name"] == "qupath_measurements.csv"
    assert attached["file"]["mimetype"] == "text/csv"
    assert attached["file"]["size"] == len(table) and attached["id"] == file_annotation
    # deleteAttachments: an empty JSON body, the answer must hold "bad"; only files
    assert browser.post(f"/webclient/action/delete/file/{annotation_id}/").status_code == 404
    deleted = browser.post(f"/webclient/action/delete/file/{file_annotation}/",
                           content=b"", headers={"Content-Type": "application/json"})
    assert deleted.json() == {"bad": "false"}
    assert api.client.get(f"/api/v1/annotations/{file_annotation}",
                          headers=world.headers["alice"]).status_code == 404
    # changeChannelDisplayRangesAndColors: image_data first, then saveImgRDef; body "true"
    data = browser.json(f"/iviewer/image_data/{image_id}/")
    assert data["meta"]["imageName"] == "cells & more"
    query = quote("1|10:900$FF00FF,2|20:2000$00FFFF", safe="")
    saved = browser.post(f"/webgateway/saveImgRDef/{image_id}/?m=c&c={query}",
                         headers={"Referer": f"/iviewer/?images={image_id}"})
    assert saved.text == "true"


def test_writes_others_may_not_make(api: Api, world: World, tmp_path: Path) -> None:
    group = world.groups[Permissions.READ_ONLY]
    image_id = import_as(api, "alice", timelapse(tmp_path), group_id=group)
    bob = Browser(api, "bob")  # may read alice's image, not change or annotate it
    checks = [
        bob.post(f"/webclient/action/savename/image/{image_id}/", data={"name": "mine"}),
        bob.post("/webclient/annotate_map/", data={"image": str(image_id),
                                                   "mapAnnotation": '[["a","b"]]'}),
        bob.post(f"/webclient/edit_channel_names/{image_id}/", data={"channel0": "x"}),
        bob.post("/webclient/annotate_file/", data={"image": str(image_id)},
                 files={"annotation_file": ("qupath_x.csv", b"x", "text/csv")}),
        bob.post(f"/webgateway/saveImgRDef/{image_id}/?m=c&c=1|0:1$FF0000,2|0:1$FF0000"),
    ]
    assert [answer.status_code for answer in checks] == [403] * 5
    assert all("o_type" not in a.text and "annId" not in a.text and "fileIds" not in a.text
               for a in checks)
    alice = world.headers["alice"]
    found = api.client.get(f"/webclient/api/annotations/?image={image_id}",
                           headers=alice).json()["annotations"]
    assert [a["ns"] for a in found] == ["openmicroscopy.org/omero/import/original_metadata"]
    # a map for alice's own image and bob's private one: refused whole, nothing kept
    bobs = import_as(api, "bob", timelapse(tmp_path, "bobs.ome.tif"))
    alices = import_as(api, "alice", timelapse(tmp_path, "own.ome.tif"), group_id=group)
    both = Browser(api, "alice").post("/webclient/annotate_map/", data={
        "image": f"{alices},{bobs}", "mapAnnotation": '[["a","b"]]', "ns": "x"})
    assert both.status_code == 404
    assert [a for a in api.client.get(f"/webclient/api/annotations/?image={alices}",
                                      headers=alice).json()["annotations"] if a["ns"] == "x"] == []
    # without the CSRF header a cookie session writes nothing
    bob.client.headers.pop("X-CSRFToken")
    alice_browser = Browser(api, "alice")
    alice_browser.client.headers.pop("X-CSRFToken")
    refused = alice_browser.post(f"/webclient/action/savename/image/{image_id}/",
                                 data={"name": "forged"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]


@pytest.mark.parametrize(("url", "form", "says"), [
    ("/webclient/annotate_map/", {"image": "{image}", "mapAnnotation": "[[1,2]]"},
     "string pairs"),
    ("/webclient/annotate_map/", {"image": "{image}", "mapAnnotation": "[" * 5000}, "JSON"),
    ("/webclient/annotate_map/", {"mapAnnotation": '[["a","b"]]'}, "name the objects"),
    ("/webclient/annotate_map/", {"image": "x", "mapAnnotation": '[["a","b"]]'}, "not an id"),
    ("/webclient/edit_channel_names/{image}/", {"save": "save"}, "channel0"),
    ("/webclient/edit_channel_names/{image}/", {"channel7": "x"}, "no channel 8"),
    ("/webclient/action/savename/image/{image}/", {"name": ""}, "new name"),
    ("/webclient/action/savename/image/{image}/", {"name": "a\x00b"}, "control character"),
    ("/webclient/annotate_file/", {"image": "{image}"}, "annotation_file"),
    ("/webclient/annotate_map/", {"image": "²", "mapAnnotation": '[["a","b"]]'}, "not an id"),
    ("/webclient/annotate_map/", {"image": "{image}", "ns": "n" * 300,
                                  "mapAnnotation": '[["a","b"]]'}, "at most 255"),
    ("/webclient/annotate_map/", {"image": ",".join(["1"] * 101),
                                  "mapAnnotation": '[["a","b"]]'}, "more than 100"),
    ("/webclient/annotate_map/", {"image": "{image}", "annId": "999999",
                                  "mapAnnotation": "[]"}, "no map annotation"),
    ("/webclient/edit_channel_names/{image}/", {"channel²": "x"}, "channel0"),
])
def test_malformed_writes_are_400s(api: Api, world: World, tmp_path: Path, url: str,
                                   form: dict[str, str], says: str) -> None:
    image = str(import_as(api, "alice", timelapse(tmp_path)))
    answer = Browser(api, "alice").post(url.replace("{image}", image), data={
        key: value.replace("{image}", image) for key, value in form.items()})
    assert answer.status_code in (400, 404) and says in answer.json()["message"], answer.text


def test_attachment_names_cannot_leave_the_store(api: Api, world: World,
                                                 tmp_path: Path) -> None:
    image_id = import_as(api, "alice", timelapse(tmp_path))
    browser = Browser(api, "alice")
    sent = browser.post("/webclient/annotate_file/", data={"image": str(image_id)},
                        files={"annotation_file": ("../../etc/qupath_x.csv", b"x,y\n",
                                                   "text/csv")})
    (made,) = sent.json()["fileIds"]
    found = browser.json(f"/webclient/api/annotations/?image={image_id}")
    (attached,) = [a for a in found["annotations"] if a["id"] == made]
    assert attached["file"]["name"] == "qupath_x.csv"
    assert not (tmp_path / "etc").exists()
    # one file for several objects of a group, linked to each
    other = import_as(api, "alice", timelapse(tmp_path, "other.ome.tif"))
    sent = browser.post("/webclient/annotate_file/", data={"image": f"{image_id},{other}"},
                        files={"annotation_file": ("qupath_both.csv", b"x\n", "text/csv")})
    (shared,) = sent.json()["fileIds"]
    for target in (image_id, other):
        found = browser.json(f"/webclient/api/annotations/?image={target}")
        assert shared in [a["id"] for a in found["annotations"]]
    # a content type no catalog column holds
    odd = browser.post("/webclient/annotate_file/", data={"image": str(image_id)},
                       files={"annotation_file": ("qupath_y.csv", b"x", "text/" + "c" * 300)})
    assert odd.status_code == 400 and "content type" in odd.json()["message"]
