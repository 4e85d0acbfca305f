"""A QuPath OMERO extension session's first steps, request by request as its source makes
them (docs/clients/qupath-omero-extension.md): discovery, token, login, keep-alive,
logging back in by session uuid, logout.

QuPath sends POSTs with X-CSRFToken and a form body, GETs with cookies only, and
parses the login answer with ``core/apis/json/LoginResponse.java``
(``parseServerAuthenticationResponse``: groupId, userId, sessionUuid, isAdmin,
leaderOfGroups required); it pings with ``core/apis/webclient/WebclientApi.java``."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import PASSWORD, Api, World


def _qupath(api: Api) -> tuple[TestClient, str]:
    """A client that keeps cookies, as QuPath's one HttpClient with a CookieManager does,
    after GET /api/, /api/v0/ and url:token (core/apis/json/JsonApi.java)."""
    client = TestClient(api.client.app)
    versions = client.get("/api/")
    assert versions.status_code == 200
    (version,) = [v for v in versions.json()["data"] if v["version"] == "0"]
    links = client.get(version["url:base"]).json()
    # json/serverinformation/Links.java: all ten required (Objects.requireNonNull)
    for key in ("url:experimenters", "url:experimentergroups", "url:projects",
                "url:datasets", "url:images", "url:screens", "url:plates", "url:token",
                "url:servers", "url:login"):
        assert links[key].startswith("http"), key
    assert links["url:schema"] == "http://www.openmicroscopy.org/Schemas/OME/2016-06"
    token = client.get(links["url:token"]).json()["data"]
    assert isinstance(token, str) and token
    servers = client.get(links["url:servers"]).json()["data"]
    assert isinstance(servers[0]["id"], int)
    return client, token


def _login(client: TestClient, token: str, username: str, password: str) -> dict[str, Any]:
    answer = client.post("/api/v0/login/", headers={"X-CSRFToken": token},
                         data={"server": "1", "username": username, "password": password})
    if answer.status_code != 200:
        return {"status": answer.status_code, **answer.json()}
    body: dict[str, Any] = answer.json()
    return body


def test_login_answers_the_event_context_qupath_parses(api: Api, world: World) -> None:
    client, token = _qupath(api)
    context = _login(client, token, "olga", PASSWORD)["eventContext"]
    types = {"sessionId": int, "sessionUuid": str, "userId": int, "userName": str,
             "groupId": int, "groupName": str, "isAdmin": bool, "eventId": int,
             "eventType": str, "memberOfGroups": list, "leaderOfGroups": list}
    assert {key: type(context[key]) for key in types} == types
    assert context["userId"] == world.users["olga"] and context["userName"] == "olga"
    assert context["isAdmin"] is False
    assert set(context["leaderOfGroups"]) == set(world.groups.values())
    assert context["groupId"] in context["memberOfGroups"]
    # keep-alive with the cookies the login set (core/apis/webclient/WebclientApi.java)
    ping = client.get("/webclient/keepalive_ping/", follow_redirects=False)
    assert (ping.status_code, ping.text) == (200, "OK")


def test_logging_back_in_by_session_uuid_joins_the_same_session(api: Api,
                                                                world: World) -> None:
    """JsonApi.reLogin: the session uuid as both user name and password."""
    first, token = _qupath(api)
    uuid = _login(first, token, "alice", PASSWORD)["eventContext"]["sessionUuid"]
    bearer = {"Authorization": f"Bearer {uuid}"}
    before = {row["id"] for row in api.client.get("/api/v1/sessions", headers=bearer).json()}
    again, token_again = _qupath(api)  # a client that lost its cookies
    joined = _login(again, token_again, uuid, uuid)["eventContext"]
    assert joined["sessionUuid"] == uuid and joined["userName"] == "alice"
    assert again.get("/webclient/keepalive_ping/").text == "OK"
    after = {row["id"] for row in api.client.get("/api/v1/sessions", headers=bearer).json()}
    assert after == before  # the same session, not a new one


def test_a_uuid_joins_nothing_under_another_name_or_once_ended(api: Api,
                                                               world: World) -> None:
    client, token = _qupath(api)
    uuid = _login(client, token, "alice", PASSWORD)["eventContext"]["sessionUuid"]
    stranger, stranger_token = _qupath(api)
    assert _login(stranger, stranger_token, "bob", uuid)["status"] == 403
    assert _login(stranger, stranger_token, uuid, uuid + "x")["status"] == 403
    logout = client.post("/webclient/logout/", headers={"X-CSRFToken": token},
                         data={"csrfmiddlewaretoken": token})
    assert logout.status_code == 204
    ended = _login(stranger, stranger_token, uuid, uuid)
    assert ended["status"] == 403 and "Login failed" in ended["message"]
    ping = TestClient(api.client.app).get("/webclient/keepalive_ping/",
                                          headers={"Authorization": f"Bearer {uuid}"})
    assert (ping.status_code, ping.text) == (403, "Connection Failed")


def test_logout_needs_the_csrf_token_with_a_cookie_session(api: Api, world: World) -> None:
    client, token = _qupath(api)
    _login(client, token, "alice", PASSWORD)
    refused = client.post("/webclient/logout/", data={"csrfmiddlewaretoken": "wrong"})
    assert refused.status_code == 403
    assert client.get("/webclient/keepalive_ping/").text == "OK"


def test_screens_plates_and_rois_list_empty_until_the_catalog_holds_them(
        api: Api, world: World) -> None:
    """QuPath lists screens and plates at the root of its browser (JsonApi.getScreens,
    getOrphanedPlates) and an image's ROIs when it opens one: none exist yet."""
    client, token = _qupath(api)
    _login(client, token, "alice", PASSWORD)
    links = client.get("/api/v0/").json()
    for url in (f"{links['url:screens']}?childCount=true&normalize=true",
                f"{links['url:plates']}?childCount=true&orphaned=true",
                f"{links['url:rois']}?image=1"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.json()["data"] == [] and answer.json()["meta"]["totalCount"] == 0
    assert TestClient(api.client.app).get(links["url:screens"]).status_code == 401
