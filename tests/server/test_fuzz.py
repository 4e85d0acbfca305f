"""Never a 500: generated queries, rendering parameters and JSON bodies, sent to a real
server on a real repository, get an answer below 500, and a 4xx says why in JSON.

The generators know each grammar's pieces (search's fields, operators and ranges;
OMERO.web's ``c=``, ``tile=``, ``maps=``...), so most inputs are nearly right and
reach deep into the parsers, with arbitrary text mixed in. The TestClient re-raises
anything the server did not expect, so an unexpected exception fails as loudly as
a 500.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pixelvault.services.search.index import index_of
from tests.conftest import Env
from tests.server.conftest import ROOT_PASSWORD, Api, serving
from tests.server.test_webgateway import import_as, two_channels

# 150 examples, the same ones every run; PIXELVAULT_FUZZ_EXAMPLES=5000 explores further,
# with new ones each run (add what it finds as an @example).
_EXPLORE = int(os.environ.get("PIXELVAULT_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_EXPLORE or 150, deadline=None, derandomize=not _EXPLORE,
                database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow])


@dataclass
class Served:
    api: Api
    root: dict[str, str]
    image: int
    project: int


@pytest.fixture
def served(initialised: Env, tmp_path: Path) -> Iterator[Served]:
    """Root's session, an image of two channels (50 x 60) and a project, indexed."""
    initialised.set(pixels_pyramid_workers="0", search_indexer="off",
                    render_max_region=str(300 * 300))
    with serving(initialised) as api:
        root = api.login("root", ROOT_PASSWORD)
        image = import_as(api, "root", two_channels(tmp_path))
        project = api.client.post("/api/v1/projects", headers=root, json={
            "name": "GFP timelapse", "description": "HeLa mitosis"}).json()["id"]
        index_of(api.vault).catch_up()
        yield Served(api, root, image, project)


def check(answer: httpx.Response) -> None:
    """Below 500; a 4xx is a JSON object whose message is one line."""
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        message = answer.json()["message"]
        assert isinstance(message, str) and message and "\n" not in message, answer.text


# The search grammar ------------------------------------------------------------------
DATES = st.sampled_from(["2026-01-01", "2026-13-45", "2026", "2026-06", "1", "0001-01-01",
                         "9999-12-31", "10000-01-01", "*", "2026-01-01T10:00:00+02:00",
                         "2026-01-01T25:00", "-5", "0000", "1970-01-01", "NaN"])
FIELDS = st.sampled_from(["name", "description", "owner", "group", "tag", "tags", "comment",
                          "file", "path", "channel", "format", "content", "mimetype", "hash",
                          "type", "created", "modified", "text", "kv", "nosuch", "Stain",
                          "\"Cell line\"", "*", "?", ""])
WORDS = st.sampled_from(["gfp", "GFP-H2B_1.dv", "mitosis", "hela", "h2b*", "*gfp", "gf?",
                         "?", "*", "-", "+", "!", "\\", "\"", "\"gfp", "gfp\"", "\"\"",
                         "project", "images", "café", "x" * 50, "日本", "1e999"])
OPERATORS = st.sampled_from(["AND", "OR", "NOT", "&&", "||", "!", "+", "-", "(", ")", "[",
                             "]", "{", "}", "TO", ":", "*:*"])


@st.composite
def ranges(draw: st.DrawFn) -> str:
    opening, closing = draw(st.sampled_from("[{")), draw(st.sampled_from("]}"))
    parts = [draw(DATES), draw(st.sampled_from(["TO", "to", "", "TO TO"])), draw(DATES)]
    return f"{draw(FIELDS)}:{opening}{' '.join(p for p in parts if p)}{closing}"


TERMS = st.one_of(WORDS, OPERATORS, ranges(), st.builds(lambda f, w: f"{f}:{w}", FIELDS,
                                                        st.one_of(WORDS, DATES)),
                  st.text(max_size=12))
QUERIES = st.one_of(
    st.lists(TERMS, min_size=1, max_size=12).map(" ".join),
    st.lists(TERMS, min_size=1, max_size=12).map("".join),
    st.text(max_size=60),
)


@FUZZ
@given(q=QUERIES)
@example(q="NOT")
@example(q="created:[* TO *]")
@example(q="modified:{* TO *}")
@example(q="created:0001-01-01")
@example(q="created:[0001-01-01 TO 9999-12-31]")
@example(q='CREATED:"0 gfp"')
@example(q="modified:(gfp)")
def test_search_grammar(served: Served, q: str) -> None:
    check(served.api.client.get("/api/v1/search", headers=served.root, params={"q": q}))


# OMERO.web's rendering grammar --------------------------------------------------------
NUMBER = st.one_of(st.integers(-3, 70).map(str),
                   st.sampled_from(["", "-0", "1e999", "nan", "inf", "0x10", "99999999999",
                                    "1.5", "\u0663", "+1", " 1", "1 "]))


def joined(parts: st.SearchStrategy[str], size: int, sep: str = ",") -> st.SearchStrategy[str]:
    return st.lists(parts, min_size=0, max_size=size).map(sep.join)


@st.composite
def channel(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(["", "-"])) + draw(NUMBER)
    if draw(st.booleans()):
        text += "|" + draw(NUMBER) + draw(st.sampled_from([":", "", "::"])) + draw(NUMBER)
    if draw(st.booleans()):
        text += "$" + draw(st.sampled_from(["FF0000", "00ff00", "fff", "GGGGGG", "cool.lut",
                                            "nosuch.lut", "", "$", "FF0000FF", "glasbey"]))
    return text


MAP = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
                   lambda inner: st.one_of(
                       st.lists(inner, max_size=3),
                       st.dictionaries(st.sampled_from(["inverted", "reverse", "enabled",
                                                        "x"]), inner, max_size=3)),
                   max_leaves=8)
MAPS = st.one_of(st.lists(MAP, max_size=3).map(json.dumps), st.text(max_size=10),
                 st.sampled_from(["[" * 4000, "[" * 2000 + "]" * 2000, "NaN", "{}", "[]"]))
RENDER_PARAMS: dict[str, st.SearchStrategy[str]] = {
    "c": st.one_of(joined(channel(), 4), st.text(max_size=12)),
    "m": st.sampled_from(["g", "c", "G", "x", "", "gc"]),
    "p": st.one_of(st.sampled_from(["intmax", "intmean", "normal", "intsum", "x"]).flatmap(
        lambda p: st.sampled_from([p, f"{p}|0:0", f"{p}|0:5", f"{p}|2:1", f"{p}|a:b",
                                   f"{p}|0"])), st.text(max_size=8)),
    "region": st.one_of(joined(NUMBER, 5), st.text(max_size=12)),
    "tile": st.one_of(joined(NUMBER, 6), st.text(max_size=12)),
    "maps": MAPS,
    "q": st.one_of(NUMBER, st.text(max_size=5)),
    "z": NUMBER, "t": NUMBER,
    "format": st.sampled_from(["jpeg", "png", "tif", "gif", "", "PNG"]),
    "flip": st.sampled_from(["h", "v", "hv", "vh", "hh", "x", ""]),
}
RENDER_QUERIES = st.dictionaries(st.sampled_from(sorted(RENDER_PARAMS)), st.just(""),
                                 max_size=6).flatmap(
    lambda keys: st.fixed_dictionaries({k: RENDER_PARAMS[k] for k in keys}))
PATHS_LIST = ["/webgateway/render_image_region/{id}/{z}/{t}/", "/webgateway/render_image/{id}/",
              "/webgateway/render_image/{id}/{z}/", "/webgateway/render_image/{id}/{z}/{t}/",
              "/api/v1/images/{id}/render"]
PATHS = st.sampled_from(PATHS_LIST)


@FUZZ
@given(path=PATHS, query=RENDER_QUERIES, z=st.sampled_from(["0", "1", "3", "70", "99999999999"]),
       t=st.sampled_from(["0", "1", "2147483647"]))
@example(path=PATHS_LIST[0], query={"maps": "[" * 4000, "c": "1"}, z="0", t="0")
def test_rendering_grammar(served: Served, path: str, query: dict[str, str], z: str,
                           t: str) -> None:
    url = path.format(id=served.image, z=z, t=t)
    check(served.api.client.get(url, headers=served.root, params=query))


# JSON bodies of the routes that create and change ---------------------------------------
KEYS = st.sampled_from([
    "name", "description", "group_id", "user_id", "child_id", "type", "text", "values",
    "namespace", "targets", "dry_run", "files", "client_path", "size", "checksum",
    "checksum_algorithm", "dataset", "minmax", "thumbnails", "entry_depth", "transfer",
    "username", "password", "first_name", "last_name", "email", "groups", "admin", "owner",
    "permissions", "size_x", "size_y", "size_z", "size_c", "size_t", "pixel_type", "channels",
    "from_image", "to_images", "image_id", "window", "color", "lut", "active", "model",
    "default_z", "default_t", "@type", "@id", "Name", "Description"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 70),
    st.sampled_from([2**31, 2**31 - 1, 2**63, -(2**63) - 1, 10**30]),
    st.floats(), st.text(max_size=10),
    st.sampled_from(["Project:1", "Image:1", "Dataset:99", "Fileset:1", "Annotation:1",
                     "comment", "tag", "map", "uint8", "uint16", "float", "bit", "SHA1-160",
                     "cp", "upload", "ln_s", "mv", "rwra--", "private", "../x", "a/b.tif",
                     "http://www.openmicroscopy.org/Schemas/OME/2016-06#Project",
                     "http://www.openmicroscopy.org/Schemas/OME/2016-06#Dataset", "FF0000",
                     "root", "user", "system", "a\x00b", "\ud800", "\U0001f600"]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(KEYS, st.text(max_size=5)), inner,
                                                 max_size=6)), max_leaves=12)
IDS = st.one_of(st.integers(0, 5), SCALARS)
NAMES = st.one_of(st.text(min_size=1, max_size=8), SCALARS)
FLOATS = st.one_of(st.floats(), st.integers(-5, 70000), SCALARS)


def shaped(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of ``fields``, each usually of its type, now and then of another."""
    return st.fixed_dictionaries({}, optional={k: st.one_of(v, v, v, JSON) for k, v in
                                               fields.items()})


CHANNEL = shaped(active=st.booleans(), start=FLOATS, end=FLOATS, inverted=st.booleans(),
                 color=st.sampled_from(["FF0000", "00ff00", "xyz", ""]),
                 lut=st.sampled_from(["cool.lut", "nosuch.lut", ""]))
CONTAINER = shaped(name=NAMES, description=NAMES, group_id=IDS)
TARGETS = st.lists(st.sampled_from(
    ["Project:1", "Image:1", "Dataset:1", "Fileset:1", "Annotation:1", "Image:0",
     "Image:99999999999", "Image", "Image:-1", ":1", "image:1", "Image:1:2", "Project:\u0661"]),
    max_size=4)
SHAPES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "/api/v0/m/save/": shaped(**{"@type": st.sampled_from(
        ["http://www.openmicroscopy.org/Schemas/OME/2016-06#Project",
         "http://www.openmicroscopy.org/Schemas/OME/2016-06#Dataset", "#Image", "Project"]),
        "@id": IDS, "Name": NAMES, "Description": NAMES}),
    "/api/v1/projects": CONTAINER, "/api/v1/datasets": CONTAINER,
    "/api/v1/projects/{project}": CONTAINER,
    "/api/v1/projects/{project}/datasets": shaped(child_id=IDS),
    "annotations": shaped(type=st.sampled_from(["comment", "tag", "map", "file", "x"]),
                          text=NAMES, namespace=NAMES,
                          values=st.lists(st.lists(NAMES, max_size=3), max_size=3)),
    "/api/v1/chgrp": shaped(group_id=IDS, dry_run=st.booleans(), targets=TARGETS),
    "/api/v1/chown": shaped(user_id=IDS, dry_run=st.booleans(), targets=TARGETS),
    "/api/v1/imports": shaped(files=st.lists(shaped(
        client_path=st.sampled_from(["a.tif", "d/a", "d/a/b.png", "/abs/x.png", "../../x",
                                     "", "\\\\srv\\x.tif", "a\x00b", "x" * 300, ".a.part"]),
        size=st.integers(-1, 10), checksum=st.sampled_from(["", "0" * 40, "xyz", "0" * 64])),
        max_size=3), checksum_algorithm=st.sampled_from(["SHA1-160", "sha256", "MD5", "x"]),
        dataset=NAMES, name=NAMES, entry_depth=st.integers(-1, 65),
        transfer=st.sampled_from(["upload", "cp", "ln_s", "mv", "x"])),
    "/api/v1/images": shaped(name=NAMES, size_x=st.integers(0, 70), size_y=st.integers(0, 70),
                             size_z=st.integers(0, 3), size_c=st.integers(0, 3),
                             size_t=st.integers(0, 3), physical_size_x=FLOATS,
                             pixel_type=st.sampled_from(["uint8", "uint16", "float", "double",
                                                         "bit", "int8", "complex", "x"]),
                             channel_names=st.lists(NAMES, max_size=4), dataset=IDS),
    "/api/v1/users": shaped(username=NAMES, groups=st.lists(st.one_of(NAMES, IDS), max_size=2),
                            password=NAMES, email=NAMES, admin=st.booleans()),
    "/api/v1/groups": shaped(name=NAMES, type=st.sampled_from(
        ["private", "read-only", "read-annotate", "read-write", "rwra--", "x"]),
        description=NAMES),
    "/api/v1/groups/1/members": shaped(user_id=IDS, owner=st.booleans()),
    "/api/v1/whoami/group": shaped(group_id=IDS),
    "/api/v1/rendering/copy": shaped(source=IDS, targets=st.lists(IDS, max_size=3)),
    "/api/v1/images/{image}/rendering": shaped(
        channels=st.lists(CHANNEL, max_size=3),
        model=st.sampled_from(["greyscale", "color", "x"]), default_z=FLOATS,
        default_t=FLOATS, projection=st.sampled_from(["normal", "intmax", "intmean", "x"]),
        projection_start=FLOATS, projection_end=FLOATS),
    "/api/v1/login": shaped(username=st.sampled_from(["root", "nobody", ""]), password=NAMES),
}
ROUTES = st.sampled_from([
    ("post", "/api/v0/m/save/"), ("put", "/api/v0/m/save/"), ("post", "/api/v1/projects"),
    ("post", "/api/v1/datasets"), ("patch", "/api/v1/projects/{project}"),
    ("post", "/api/v1/projects/{project}/datasets"),
    ("post", "/api/v1/projects/{project}/annotations"),
    ("post", "/api/v1/images/{image}/annotations"), ("post", "/api/v1/chgrp"),
    ("post", "/api/v1/chown"), ("post", "/api/v1/imports"), ("post", "/api/v1/images"),
    ("post", "/api/v1/users"), ("post", "/api/v1/groups"), ("post", "/api/v1/groups/1/members"),
    ("put", "/api/v1/whoami/group"), ("post", "/api/v1/rendering/copy"),
    ("put", "/api/v1/images/{image}/rendering"), ("post", "/api/v1/login"),
])


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """A route and a body: shaped for the route, any JSON, or bytes that are not JSON."""
    method, path = draw(ROUTES)
    shape = SHAPES["annotations" if path.endswith("/annotations") else path]
    kind = draw(st.sampled_from(["shaped"] * 6 + ["json", "bytes"]))
    if kind == "bytes":
        return method, path, draw(st.binary(max_size=40))
    body = draw(shape if kind == "shaped" else st.one_of(
        st.dictionaries(KEYS, JSON, max_size=7), JSON))
    return method, path, json.dumps(body).encode()


@FUZZ
@given(request=requests())
@example(request=("post", "/api/v0/m/save/", b"[" * 100_000))
@example(request=("post", "/api/v1/projects", b'{"name": "0", "group_id": 0}'))
@example(request=("post", "/api/v1/chgrp", b'{"group_id": 1, "targets": ["Image:99999999999"]}'))
@example(request=("put", "/api/v1/images/{image}/rendering", b'{"projection_start": ""}'))
@example(request=("put", "/api/v1/images/{image}/rendering", b'{"default_z": Infinity}'))
@example(request=("post", "/api/v1/projects", b'{"name": "\xff"}'))
@example(request=("put", "/api/v0/m/save/", b'{"@type": "#Project", "@id": false}'))
@example(request=("post", "/api/v1/projects", b'{"name": "\\u0000"}'))
@example(request=("post", "/api/v1/groups", b'{"name": "\\udc00"}'))
def test_json_bodies(served: Served, request: tuple[str, str, bytes]) -> None:
    method, path, content = request
    url = path.format(project=served.project, image=served.image)
    headers = {**served.root, "Content-Type": "application/json"}
    check(served.api.client.request(method, url, headers=headers, content=content))
