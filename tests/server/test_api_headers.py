"""nosniff and a Content-Security-Policy on every response, errors and 404s included."""

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from pixelvault.server.headers import API_POLICY, SecurityHeaders
from tests.server.conftest import ROOT_PASSWORD, Api


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def _locked_down(headers: Mapping[str, str]) -> None:
    assert headers.get("x-content-type-options") == "nosniff"
    policy = _directives(headers.get("content-security-policy") or "")
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_every_kind_of_answer_carries_the_headers(api: Api) -> None:
    root = api.login("root", ROOT_PASSWORD)
    project = api.client.post("/api/v1/projects", headers=root, json={"name": "p"}).json()["id"]
    attached = api.client.post(f"/api/v1/projects/{project}/attachments?name=page.html",
                               headers={**root, "Content-Type": "text/html"},
                               content=b"<script>alert(1)</script>")
    assert attached.status_code == 201, attached.text
    file_id = attached.json()["file"]["id"]
    answers = {
        "health": api.client.get("/health"),
        "list": api.client.get("/api/v1/projects", headers=root),
        "download": api.client.get(f"/api/v1/files/{file_id}", headers=root),
        "range": api.client.get(f"/api/v1/files/{file_id}",
                                headers={**root, "Range": "bytes=0-3"}),
        "no session": api.client.get("/api/v1/whoami"),
        "bad body": api.client.post("/api/v1/projects", headers=root, content=b"{nope"),
        "missing object": api.client.get("/api/v1/projects/999999", headers=root),
        "no such route": api.client.get("/api/v1/nowhere"),
        "wrong method": api.client.put("/health"),
        "openapi": api.client.get("/openapi.json"),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {"health": 200, "list": 200, "download": 200, "range": 206,
                        "no session": 401, "bad body": 400, "missing object": 404,
                        "no such route": 404, "wrong method": 405, "openapi": 200}
    for name, answer in answers.items():
        assert answer.headers["content-security-policy"] == API_POLICY, name
        _locked_down(answer.headers)


def test_the_docs_page_gets_a_policy_that_lets_it_load(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    _locked_down(page.headers)
    policy = _directives(page.headers["content-security-policy"])
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    styles = re.findall(r'<link type="text/css" rel="stylesheet" href="([^"]+)"', page.text)
    assert scripts and styles
    for url, directive in [(u, "script-src") for u in scripts] + \
            [(u, "style-src") for u in styles]:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        assert origin in policy[directive], (url, policy[directive])
    assert "<script>" in page.text and "'unsafe-inline'" in policy["script-src"]
    assert policy["connect-src"] == ["'self'"]  # the page fetches /openapi.json, here
    assert api.client.get("/openapi.json").status_code == 200


def test_an_unexpected_error_is_a_json_500_with_the_headers() -> None:
    def broken(_request: Request) -> Response:
        raise RuntimeError("a bug")

    app = Starlette(routes=[Route("/broken", broken)])
    app.add_middleware(SecurityHeaders)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/broken")
    assert answer.status_code == 500 and "server log" in answer.json()["message"]
    _locked_down(answer.headers)
    with TestClient(app) as client, pytest.raises(RuntimeError, match="a bug"):
        client.get("/broken")  # still raised, for the server's log
