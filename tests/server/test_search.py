"""Full-text search: the event log, the index, OMERO's query syntax, permissions inside
the query, crashes, a deleted index, online reindex; bad queries answered 400."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pixelvault.catalog.models import Permissions, SearchEvent
from pixelvault.services.search.index import SearchIndex, index_of
from tests.conftest import Env
from tests.server.conftest import Api, World, serving


def make_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text``, with its cross-reference table."""
    stream = f"BT /F1 18 Tf 20 60 Td ({text}) Tj ET".encode()
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R"
               b"/Resources<</Font<</F1 5 0 R>>>>>>",
               b"<</Length %d>>stream\n%s\nendstream" % (len(stream), stream),
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1,
                                                                         xref)
    return bytes(out)


PDF = make_pdf("centrosome duplication")


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0", search_indexer="off")
    with serving(initialised) as made:
        yield made


def find(api: Api, who: dict[str, str], q: str, **params: Any) -> list[tuple[str, str]]:
    answer = api.client.get("/api/v1/search", headers=who, params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    return [(h["type"], h["name"]) for h in answer.json()["hits"]]


def populate(api: Api, world: World) -> dict[str, int]:
    alice = world.headers["alice"]
    lab = world.groups[Permissions.READ_ONLY]
    private = world.groups[Permissions.PRIVATE]
    made = {}
    for name, group, description in (("GFP-H2B_1.dv timelapse", lab, "HeLa mitosis, day 1"),
                                     ("Secret plan", private, "nobody else may see this")):
        answer = api.client.post("/api/v1/projects", headers=alice, json={
            "name": name, "description": description, "group_id": group})
        made[name] = answer.json()["id"]
    project = made["GFP-H2B_1.dv timelapse"]
    for body in ({"type": "tag", "text": "mitosis"},
                 {"type": "comment", "text": "slightly blurry in channel two"},
                 {"type": "map", "values": [["Cell line", "HeLa Kyoto"], ["Stain", "DAPI"]]}):
        assert api.client.post(f"/api/v1/projects/{project}/annotations", headers=alice,
                               json=body).status_code == 201
    for name, data in (("protocol.txt", b"fixed in paraformaldehyde, stained overnight"),
                       ("notes.pdf", PDF), ("broken.pdf", b"%PDF-1.4 not really"),
                       ("latin1.txt", "caf\xe9 au lait".encode("latin-1"))):
        answer = api.client.post(f"/api/v1/projects/{project}/attachments?name={name}",
                                 headers=alice, content=data)
        assert answer.status_code == 201, answer.text
    return made


def test_find_by_every_field_and_syntax(api: Api, world: World,
                                        caplog: pytest.LogCaptureFixture) -> None:
    populate(api, world)
    index = index_of(api.vault)
    with api.vault.catalog.session() as session:  # the triggers wrote the log
        assert (session.scalar(select(func.count()).select_from(SearchEvent)) or 0) > 5
    index.catch_up()
    alice = world.headers["alice"]
    project = ("project", "GFP-H2B_1.dv timelapse")
    for q in ("gfp", "h2b", "GFP-H2B_1.dv", "name:timelapse", "description:hela", "tag:mitosis",
              "comment:blurry", "cell_line:kyoto", '"Cell line":hela', "stain:dapi",
              "paraformaldehyde", "content:overnight", "centrosome", "file:protocol",
              "owner:alice", "gfp*", "time?apse", '"HeLa mitosis"', "mitosis AND kyoto",
              "mitosis OR nonexistentword", "nonexistentword OR h2b", "mitosis NOT zebrafish",
              "(mitosis OR x) AND -nonexistentword", "created:[2000-01-01 TO *]",
              "type:project AND mitosis", "created:[* TO *]", "modified:{* TO *}",
              "mitosis AND created:[* TO *]", "created:[0001-01-01 TO 9999-12-31]"):
        assert project in find(api, alice, q), q
    for q in ("mitosis AND nonexistentword", "mitosis -kyoto", "mitosis NOT blurry",
              '"mitosis hela"', "created:[2000-01-01 TO 2001-01-01]", "created:0001-01-01",
              "created:[9999-01-01 TO *]",
              "type:image AND mitosis", "café"):
        assert project not in find(api, alice, q), q
    hits = api.client.get("/api/v1/search", headers=alice, params={"q": "paraformaldehyde"}
                          ).json()["hits"]
    assert any("<b>paraformaldehyde</b>" in (h.get("snippet") or "") for h in hits)
    assert ("annotation", "broken.pdf") in find(api, alice, "broken")  # by name only
    assert "not a readable PDF" in caplog.text and "not UTF-8" in caplog.text
    assert find(api, alice, "mitosis", type="image") == []
    dated = api.client.get("/api/v1/search", headers=alice,
                           params={"q": "mitosis", "sort": "newest"}).json()
    assert dated["hits"] and dated["hits"][0]["score"] is None


def test_results_are_filtered_by_permission_in_the_query(api: Api, world: World) -> None:
    populate(api, world)
    index_of(api.vault).catch_up()
    alice, bob, xavier = (world.headers[w] for w in ("alice", "bob", "xavier"))
    assert ("project", "Secret plan") in find(api, alice, "secret")
    assert find(api, bob, "secret") == []  # private group: not even counted
    assert api.client.get("/api/v1/search", headers=bob, params={"q": "secret"}
                          ).json()["total"] == 0
    assert ("project", "GFP-H2B_1.dv timelapse") in find(api, bob, "mitosis")  # read-only
    assert find(api, xavier, "mitosis") == []
    everything = find(api, world.headers["root"], "secret OR mitosis")
    assert ("project", "Secret plan") in everything


def test_changes_show_and_deletions_go(api: Api, world: World) -> None:
    made = populate(api, world)
    index = index_of(api.vault)
    index.catch_up()
    alice = world.headers["alice"]
    project = made["GFP-H2B_1.dv timelapse"]
    api.client.patch(f"/api/v1/projects/{project}", headers=alice,
                     json={"name": "Renamed anaphase series"})
    index.catch_up()
    assert ("project", "Renamed anaphase series") in find(api, alice, "anaphase")
    assert find(api, alice, "timelapse") == []
    assert api.client.delete(f"/api/v1/projects/{project}", headers=alice).status_code == 204
    index.catch_up()
    assert find(api, alice, "anaphase") == []


@pytest.mark.parametrize(("q", "says"), [
    ('"unclosed phrase', "closing quote"), ("(mitosis", "balance"), ("mitosis)", "balance"),
    ("*", "lone wildcard"), ("*tosis", "may not start"), ("nosuchfield:x", "unknown field"),
    ("created:[2026-13-45 TO *]", "not a date"), ("created:[2026-02-01 TO 2026-01-01]",
                                                  "starts after"),
    ("created:[2026-01-01 2026-02-01]", "FROM TO TO"), ("mitosis\x07", "control"),
    ("x " * 600, "at most 1000"), (" ".join(["a"] * 70), "more than 64"), ("", "empty"),
    ("OR mitosis", "before it"), ("name:()", "empty"), ("NOT", "needs a term after"),
    ("!", "needs a term after"), ("mitosis AND (NOT)", "needs a term after"),
    ('created:"0 gfp"', "not a date"), ("created:(gfp)", "give a date or a range"),
])
def test_bad_queries_are_400_with_the_fix(api: Api, world: World, q: str, says: str) -> None:
    answer = api.client.get("/api/v1/search", headers=world.headers["alice"], params={"q": q})
    assert answer.status_code == 400, (q, answer.text)
    assert says in answer.json()["message"]


def test_a_restart_resumes_where_the_indexer_stopped(api: Api, world: World) -> None:
    populate(api, world)
    first = index_of(api.vault)
    first.catch_up()
    before = first.status()
    assert before.lag == 0 and before.documents > 0
    api.client.post("/api/v1/projects", headers=world.headers["alice"],
                    json={"name": "After the crash"})
    # A new process: a fresh index object on the same directory resumes from POSITION.
    second = SearchIndex(api.vault)
    assert second.status().lag > 0
    assert second.catch_up() > 0
    after = second.status()
    assert after.lag == 0 and after.documents == before.documents + 1


def test_a_deleted_index_is_rebuilt_and_reindex_is_online(api: Api, world: World,
                                                          tmp_path: Path) -> None:
    populate(api, world)
    index = index_of(api.vault)
    index.catch_up()
    alice = world.headers["alice"]
    fulltext = api.vault.layout.root / "FullText"
    for path in list(fulltext.iterdir()):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    busy = api.client.get("/api/v1/search", headers=alice, params={"q": "mitosis"})
    assert busy.status_code == 503 and "rebuilding" in busy.json()["message"]
    assert "Retry-After" in busy.headers
    index.catch_up()  # the indexer rebuilds it from the catalog
    assert ("project", "GFP-H2B_1.dv timelapse") in find(api, alice, "mitosis")
    old = index.status().index
    searched: list[list[tuple[str, str]]] = []
    index.rebuild(lambda done, total: searched.append(find(api, alice, "mitosis")))
    assert searched and all(s for s in searched)  # searches kept working meanwhile
    assert index.status().index != old and sorted(p.name for p in fulltext.iterdir()) == [
        "CURRENT", index.status().index]
    assert ("project", "GFP-H2B_1.dv timelapse") in find(api, alice, "mitosis")


def test_roi_names_and_texts_find_their_image(api: Api, world: World, tmp_path: Path) -> None:
    from pixelvault.catalog.permissions import load_actor
    from pixelvault.formats.rois import Roi, Shape
    from pixelvault.services.objects import rois
    from tests.server.omero_clients import timelapse
    from tests.server.test_webgateway import import_as

    alice = world.headers["alice"]
    image_id = import_as(api, "alice", timelapse(tmp_path))
    with api.vault.catalog.session() as session:
        actor = load_actor(session, world.users["alice"])
        assert actor is not None
        [(roi_id, _)] = rois.add(session, actor, image_id, [Roi(
            shapes=(Shape("point", (1.0, 1.0), text="centrosome"),), name="spindle pole")])
    index = index_of(api.vault)
    index.catch_up()
    assert ("image", "timelapse.ome.tif") in find(api, alice, "roi:centrosome")
    assert ("image", "timelapse.ome.tif") in find(api, alice, "spindle")
    with api.vault.catalog.session() as session:
        rois.remove(session, actor, [roi_id])
    index.catch_up()
    assert find(api, alice, "roi:centrosome") == []


def test_plates_and_wells_by_name_and_by_their_images_annotations(api: Api,
                                                                  world: World) -> None:
    from pixelvault.catalog.principals import actor_for
    from pixelvault.services import imports

    sample = Path(__file__).parents[1] / "data" / "ome-model" / \
        "one-screen-one-plate-four-wells.ome.xml"
    alice = world.headers["alice"]
    with api.vault.catalog.session() as session:
        actor = actor_for(session, "alice")
    assert actor is not None
    outcome = imports.run(api.vault, actor, imports.plan([sample]),
                          imports.ImportOptions(thumbnails=False))
    first = outcome.imported[0].image_ids[0]
    index = index_of(api.vault)
    index.catch_up()
    assert ("plate", sample.name) in find(api, alice, "type:plate four")
    wells = find(api, alice, "type:well")
    assert sorted(name for _, name in wells) == ["B2", "B3", "C2", "C3"]
    # a tag on a field's image finds its well and its plate, once indexed
    assert api.client.post(f"/api/v1/images/{first}/annotations", headers=alice,
                           json={"type": "tag", "text": "prophase"}).status_code == 201
    index.catch_up()
    kinds = {kind for kind, _ in find(api, alice, "prophase")}
    assert kinds == {"annotation", "image", "plate", "well"}
    assert find(api, world.headers["xavier"], "type:well") == []
