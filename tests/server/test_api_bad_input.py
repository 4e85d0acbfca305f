"""Malformed requests get a 4xx with a JSON message; never a 500."""

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.server.conftest import ROOT_PASSWORD, Api, add_image


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/api/v1/projects", b"{not json", 400),
        ("post", "/api/v1/projects", b'{"name": 12}', 400),
        ("post", "/api/v1/projects", b'{"name": ""}', 400),
        ("post", "/api/v1/projects", b'{"name": "' + b"x" * 2000 + b'"}', 400),
        ("post", "/api/v1/projects", b"[]", 400),
        ("get", "/api/v1/projects?limit=100000", None, 400),
        ("get", "/api/v1/projects?limit=0", None, 400),
        ("get", "/api/v1/projects?offset=-1", None, 400),
        ("get", "/api/v1/projects?offset=99999999999999999999", None, 400),
        ("get", "/api/v1/projects/abc", None, 400),
        ("get", "/api/v1/projects/99999999999999999999", None, 400),
        ("get", "/api/v1/projects?owner=99999999999999999999", None, 400),
        ("post", "/api/v1/projects", b'{"name": "p", "group_id": 99999999999999999999}', 400),
        ("patch", "/api/v1/projects/1", b'{"name": null, "description": 5}', 400),
        ("post", "/api/v1/groups", b'{"name": "g", "type": "everyone"}', 400),
        ("post", "/api/v1/users", b'{"username": "../x", "groups": ["user"]}', 400),
        ("post", "/api/v1/users", b'{"username": "u", "groups": []}', 400),
        ("post", "/api/v1/users", b'{"username": "u", "groups": ["nope"]}', 404),
        ("post", "/api/v1/projects", b'{"name": "p", "group_id": 0}', 404),
        ("put", "/api/v0/m/save/", b'{"@type": "#Project", "@id": false}', 400),
        ("post", "/api/v1/projects", b'{"name": "a\\u0000b"}', 400),
        ("post", "/api/v1/projects", b'{"name": "\\ud800"}', 400),
        ("post", "/api/v0/m/save/", b'{"@type": "#Project", "Name": "\\udfff"}', 400),
        ("post", "/api/v1/projects", b'{"name": "\xff"}', 400),
        ("post", "/api/v1/chgrp", b'{"group_id": 1, "targets": ["Image:99999999999"]}', 400),
        ("post", "/api/v1/chown", b'{"user_id": 1, "targets": ["Image:\xc2\xb2"]}', 400),
    ],
)
def test_malformed_requests(api: Api, method: str, path: str, body: bytes | None,
                            status: int) -> None:
    headers = api.login("root", ROOT_PASSWORD)
    headers["Content-Type"] = "application/json"
    answer = api.client.request(method, path, headers=headers, content=body)
    assert answer.status_code == status, answer.text
    assert isinstance(answer.json()["message"], str)


@pytest.mark.parametrize("header", ["Basic cm9vdDpyb290", "Bearer", "Bearer " + "x" * 5000,
                                    "Bearer \x00"])
def test_malformed_credentials(api: Api, header: str) -> None:
    answer = api.client.get("/api/v1/whoami", headers={"Authorization": header})
    assert answer.status_code == 401 and answer.json()["message"]


def test_login_body_must_be_complete(api: Api) -> None:
    assert api.client.post("/api/v1/login", json={"username": "root"}).status_code == 400
    assert api.client.post("/api/v1/login", content=b"\xff\xfe").status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/chgrp", "/api/v0/m/save/",
                                  "/api/v1/login"])
def test_oversized_bodies_are_refused_without_reading_them_whole(api: Api, path: str) -> None:
    headers = api.login("root", ROOT_PASSWORD)
    headers["Content-Type"] = "application/json"

    def body() -> Iterator[bytes]:  # streamed: no Content-Length to refuse early by
        yield b'{"name": "'
        for _ in range(64):
            yield b"x" * (1 << 20)
        yield b'"}'

    answer = api.client.post(path, headers=headers, content=body())
    assert answer.status_code == 413, answer.text
    assert "too large" in answer.json()["message"]
    declared = api.client.post(path, headers={**headers, "Content-Length": str(1 << 30)},
                               content=b"{}")
    assert declared.status_code in (400, 413)


def test_attachments_may_exceed_the_json_body_cap(api: Api) -> None:
    headers = api.login("root", ROOT_PASSWORD)
    project = api.client.post("/api/v1/projects", headers=headers, json={"name": "p"}).json()
    big = b"\x00" * (5 << 20)
    made = api.client.post(f"/api/v1/projects/{project['id']}/attachments?name=big.bin",
                           headers=headers, content=big)
    assert made.status_code == 201 and made.json()["file"]["size"] == len(big)


CONTROLS = ["\x00", "\x1b[31m", "\x7f", "\x85", "\ud800"]


@pytest.mark.parametrize("bad", CONTROLS)
def test_control_characters_in_names_and_texts_are_refused(api: Api, bad: str) -> None:
    """PostgreSQL's text cannot hold NUL (a 500 there); no catalog takes control characters
    in names, nor in texts other than tab, newline and CR."""
    root = api.login("root", ROOT_PASSWORD)
    project = api.client.post("/api/v1/projects", headers=root, json={"name": "p"}).json()["id"]
    me = api.client.get("/api/v1/whoami", headers=root).json()
    group = me["group_id"]
    image = add_image(api, me["user_id"], group)
    value = f"a{bad}b"
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("post", "/api/v1/projects", {"name": value}),
        ("post", "/api/v1/datasets", {"name": "d", "description": value}),
        ("patch", f"/api/v1/projects/{project}", {"name": value}),
        ("patch", f"/api/v1/projects/{project}", {"description": value}),
        ("patch", f"/api/v1/images/{image}", {"name": value}),
        ("post", "/api/v1/images", {"name": value, "size_x": 4, "size_y": 4}),
        ("post", f"/api/v1/projects/{project}/annotations", {"type": "comment", "text": value}),
        ("post", f"/api/v1/projects/{project}/annotations", {"type": "tag", "text": value}),
        ("post", f"/api/v1/images/{image}/annotations",
         {"type": "map", "values": [["key", value]]}),
        ("post", f"/api/v1/images/{image}/annotations",
         {"type": "map", "values": [[value, "v"]]}),
        ("post", "/api/v1/groups", {"name": "g", "description": value}),
        ("post", "/api/v1/users", {"username": "u", "first_name": value, "groups": [group]}),
    ]
    if bad != "\ud800":  # a URL cannot carry a lone surrogate
        attempts.append(("post", f"/api/v1/projects/{project}/attachments?name={quote(value)}",
                         None))
    for method, path, body in attempts:
        if body is None:
            answer = api.client.request(method, path, headers=root, content=b"bytes")
        else:  # JSON's \\u escapes carry every character, NUL and surrogates included
            answer = api.client.request(method, path, headers={
                **root, "Content-Type": "application/json"}, content=json.dumps(body))
        assert answer.status_code == 400, (path, body, answer.text)
        message = answer.json()["message"]  # (pydantic itself refuses lone surrogates)
        # refused by the names' rule, or earlier by the JSON body's (NUL, half a pair)
        assert any(word in message for word in ("control character", "unicode",
                                                "NUL character", "surrogate")), answer.text
    # Nothing was made or changed.
    assert [p["name"] for p in api.client.get("/api/v1/projects", headers=root
                                              ).json()["data"]] == ["p"]
    assert api.client.get("/api/v1/datasets", headers=root).json()["total"] == 0
    assert api.client.get(f"/api/v1/projects/{project}/annotations", headers=root).json() == []
    assert api.client.get(f"/api/v1/images/{image}/annotations", headers=root).json() == []
    assert [u["username"] for u in api.client.get("/api/v1/users", headers=root).json()
            ] == ["root"]


def test_descriptions_and_comments_keep_tabs_and_newlines(api: Api) -> None:
    root = api.login("root", ROOT_PASSWORD)
    made = api.client.post("/api/v1/projects", headers=root,
                           json={"name": "p", "description": "line 1\r\n\tline 2"})
    assert made.status_code == 201 and made.json()["description"] == "line 1\r\n\tline 2"
    comment = api.client.post(f"/api/v1/projects/{made.json()['id']}/annotations",
                              headers=root, json={"type": "comment", "text": "a\tb\nc"})
    assert comment.status_code == 201, comment.text
    assert api.client.post("/api/v1/projects", headers=root,
                           json={"name": "tab\there"}).status_code == 400


def test_deeply_nested_json_bodies_are_400(api: Api) -> None:
    headers = api.login("root", ROOT_PASSWORD)
    headers["Content-Type"] = "application/json"
    for deep in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 65 + b"1" + b"}" * 65,
                 b"[" * 100_000):
        for path in ("/api/v0/m/save/", "/api/v1/projects", "/api/v1/chgrp", "/api/v1/login",
                     "/api/v1/imports", "/api/v1/rendering/copy"):
            answer = api.client.post(path, headers=headers, content=deep)
            assert answer.status_code == 400, (path, answer.text)
            assert answer.json()["message"].startswith("the JSON body nests more than 64")


def test_every_route_measures_the_json_bodies_fastapi_parses_for_it() -> None:
    import importlib
    import pkgutil

    from fastapi.routing import APIRoute

    from pixelvault.server import routes
    from pixelvault.server.jsonbody import JsonBodyRoute

    modules = [importlib.import_module(info.name) for info in
               pkgutil.walk_packages(routes.__path__, f"{routes.__name__}.") if not info.ispkg]
    found = [route for module in modules for route in module.router.routes
             if isinstance(route, APIRoute)]
    assert len(found) > 50 and all(isinstance(r, JsonBodyRoute) for r in found)


def test_brackets_inside_strings_do_not_count_as_nesting(api: Api) -> None:
    headers = api.login("root", ROOT_PASSWORD)
    name = '[{"' * 100
    answer = api.client.post("/api/v1/projects", headers=headers, json={"name": name})
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == name
    for text in ("\\u0000", "\U0001f600"):  # a backslash and u0000; a whole emoji
        made = api.client.post("/api/v1/projects", headers=headers, json={"name": text})
        assert made.status_code == 201 and made.json()["name"] == text, made.text
    flat = [[[i]] for i in range(500)]
    assert api.client.post("/api/v0/m/save/", headers=headers, json={
        "@type": "http://www.openmicroscopy.org/Schemas/OME/2016-06#Project", "Name": "p",
        "extra": flat}).status_code == 201
