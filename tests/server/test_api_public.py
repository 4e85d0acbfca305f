"""The optional public user: visitors without a session read what it may read, never write."""

from collections.abc import Iterator

import pytest

from pixelvault.catalog.models import Permissions
from tests.conftest import Env
from tests.server.conftest import PASSWORD, ROOT_PASSWORD, Api, serving


@pytest.fixture
def public_api(initialised: Env) -> Iterator[Api]:
    initialised.set(server_public_user="guest")
    with serving(initialised) as made:
        yield made


def test_off_by_default(api: Api) -> None:
    assert api.client.get("/api/v1/projects").status_code == 401
    assert api.client.get("/api/v0/m/projects/").status_code == 401


def test_visitors_read_as_the_public_user_and_never_write(public_api: Api) -> None:
    api = public_api
    root = api.login("root", ROOT_PASSWORD)
    # Until the public user exists, visitors must log in.
    assert api.client.get("/api/v1/projects").status_code == 401
    shown = api.client.post("/api/v1/groups", headers=root,
                            json={"name": "showcase", "type": Permissions.READ_ONLY.value})
    hidden = api.client.post("/api/v1/groups", headers=root, json={"name": "lab"})
    groups = [shown.json()["id"], hidden.json()["id"]]
    for name, member_of in (("guest", [groups[0]]), ("alice", groups)):
        assert api.client.post("/api/v1/users", headers=root, json={
            "username": name, "groups": member_of, "password": PASSWORD}).status_code == 201
    alice = api.login("alice")
    public = api.client.post("/api/v1/projects", headers=alice,
                             json={"name": "Published", "group_id": groups[0]}).json()["id"]
    private = api.client.post("/api/v1/projects", headers=alice,
                              json={"name": "Unpublished", "group_id": groups[1]}).json()["id"]

    listed = api.client.get("/api/v1/projects")
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["data"]] == [public]
    assert api.client.get(f"/api/v1/projects/{private}").status_code == 404
    assert api.client.get("/api/v0/m/projects/").json()["meta"]["totalCount"] == 1
    assert api.client.get("/api/v1/whoami").json()["username"] == "guest"
    # Writing needs a session, whatever the group allows; no session to list or end.
    assert api.client.post("/api/v1/projects", json={"name": "spam"}).status_code == 401
    assert api.client.patch(f"/api/v1/projects/{public}", json={"name": "x"}).status_code == 401
    assert api.client.delete(f"/api/v1/projects/{public}").status_code == 401
    assert api.client.post(f"/api/v1/projects/{public}/annotations",
                           json={"type": "comment", "text": "hi"}).status_code == 401
    assert api.client.get("/api/v1/sessions").status_code == 401
    # A wrong token is still refused rather than read as the public user.
    bad = api.client.get("/api/v1/projects", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_an_administrator_is_never_the_public_user(public_api: Api) -> None:
    api = public_api
    root = api.login("root", ROOT_PASSWORD)
    made = api.client.post("/api/v1/users", headers=root, json={
        "username": "guest", "groups": ["system"], "password": PASSWORD, "admin": True})
    assert made.status_code == 201 and made.json()["is_admin"], made.text
    api.client.post("/api/v1/projects", headers=root, json={"name": "root's"})
    assert api.client.get("/api/v1/projects").status_code == 401


def test_qupath_finds_the_public_user_and_scripts_read_public_data(public_api: Api) -> None:
    """QuPath's WebclientApi.getPublicUserId reads ``WEBCLIENT.USER = {'id': N,`` from
    /webclient/ when nobody logs in; a public page may load imgData-style JSON by JSONP
    (no session cookie is involved)."""
    import re

    api = public_api
    root = api.login("root", ROOT_PASSWORD)
    shown = api.client.post("/api/v1/groups", headers=root,
                            json={"name": "showcase", "type": Permissions.READ_ONLY.value})
    guest = api.client.post("/api/v1/users", headers=root, json={
        "username": "guest", "first_name": "</script><b>", "groups": [shown.json()["id"]],
        "password": PASSWORD}).json()["id"]
    page = api.client.get("/webclient/")
    assert page.status_code == 200
    found = re.search(r"WEBCLIENT.USER = \{'id': (.+?), 'fullName':", page.text)
    assert found is not None and int(found[1]) == guest
    assert "</script><b>" not in page.text  # the name cannot end the script element
    luts = api.client.get("/webgateway/luts/?callback=got")
    assert luts.text.startswith("got(") and luts.headers["content-type"].startswith(
        "application/javascript")
