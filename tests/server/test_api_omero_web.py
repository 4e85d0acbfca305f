"""OMERO.web's JSON API: the login dance, shapes, paging and permission flags."""

from fastapi.testclient import TestClient

from pixelvault.catalog.models import Image, Permissions
from tests.server.conftest import PASSWORD, Api, World

OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06#"


def web_login(api: Api, username: str, password: str = PASSWORD) -> TestClient:
    """As an OMERO.web client does it: token, then a form post with X-CSRFToken."""
    client = TestClient(api.client.app)
    token = client.get("/api/v0/token/").json()["data"]
    answer = client.post("/api/v0/login/", headers={"X-CSRFToken": token},
                         data={"username": username, "password": password, "server": "1"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["success"] is True
    client.headers["X-CSRFToken"] = token
    return client


def test_discovery_and_servers(api: Api) -> None:
    assert api.client.get("/api/").json()["data"][0]["version"] == "0"
    urls = api.client.get("/api/v0/").json()
    assert urls["url:projects"].endswith("/api/v0/m/projects/")
    assert urls["url:login"].endswith("/api/v0/login/")
    assert api.client.get("/api/v0/servers/").json()["data"][0]["id"] == 1


def test_login_needs_the_csrf_token_and_right_password(api: Api, world: World) -> None:
    client = TestClient(api.client.app)
    token = client.get("/api/v0/token/").json()["data"]
    no_csrf = client.post("/api/v0/login/", data={"username": "alice", "password": PASSWORD})
    assert no_csrf.status_code == 403
    wrong = client.post("/api/v0/login/", headers={"X-CSRFToken": token},
                        data={"username": "alice", "password": "nope"})
    assert wrong.status_code == 403 and "message" in wrong.json()
    context = web_login(api, "alice").post(
        "/api/v0/login/", data={"username": "alice", "password": PASSWORD}).json()
    assert context["eventContext"]["userName"] == "alice"


def test_projects_shapes_paging_and_flags(api: Api, world: World) -> None:
    alice = web_login(api, "alice")
    ids = {}
    for level, group_id in world.groups.items():
        made = alice.post(f"/api/v0/m/save/?group={group_id}",
                          json={"@type": OME + "Project", "Name": f"P {level.value}",
                                "Description": "made through m/save"})
        assert made.status_code == 201, made.text
        ids[level] = made.json()["data"]["@id"]
    page = alice.get("/api/v0/m/projects/?limit=2").json()
    assert page["meta"] == {"offset": 0, "limit": 2, "maxLimit": 500, "totalCount": 4}
    project = page["data"][0]
    assert project["@type"] == OME + "Project" and project["Name"].startswith("P ")
    details = project["omero:details"]
    assert details["owner"]["UserName"] == "alice"
    assert details["permissions"]["canEdit"] is True
    assert project["url:datasets"].endswith(f"/api/v0/m/projects/{project['@id']}/datasets/")
    assert alice.get("/api/v0/m/projects/?limit=100000").json()["meta"]["limit"] == 500
    assert alice.get("/api/v0/m/projects/?offset=-1").status_code == 400

    bob = web_login(api, "bob")
    seen = {p["@id"]: p for p in bob.get("/api/v0/m/projects/").json()["data"]}
    assert set(seen) == {ids[Permissions.READ_ONLY], ids[Permissions.READ_ANNOTATE],
                         ids[Permissions.READ_WRITE]}
    read_only = seen[ids[Permissions.READ_ONLY]]["omero:details"]["permissions"]
    assert read_only == {"@type": "TBD#Permissions", "perm": "rwr---", "canAnnotate": False,
                         "canDelete": False, "canEdit": False, "canLink": False,
                         "isUserRead": True, "isUserWrite": True, "isGroupRead": True,
                         "isGroupAnnotate": False, "isGroupWrite": False,
                         "isWorldRead": False, "isWorldWrite": False}
    assert seen[ids[Permissions.READ_WRITE]]["omero:details"]["permissions"]["canEdit"]
    hidden = bob.get(f"/api/v0/m/projects/{ids[Permissions.PRIVATE]}/")
    assert hidden.status_code == 404 and "message" in hidden.json()
    # m/save PUT updates; bob may not edit in a read-only group.
    refused = bob.put("/api/v0/m/save/", json={"@type": OME + "Project", "Name": "mine",
                                                "@id": ids[Permissions.READ_ONLY]})
    assert refused.status_code == 403
    updated = alice.put("/api/v0/m/save/", json={"@type": OME + "Project", "Name": "renamed",
                                                  "@id": ids[Permissions.READ_ONLY]})
    assert updated.status_code == 200 and updated.json()["data"]["Name"] == "renamed"
    xavier = web_login(api, "xavier")
    assert xavier.get("/api/v0/m/projects/").json()["meta"]["totalCount"] == 0
    assert [u["UserName"] for u in xavier.get("/api/v0/m/experimenters/").json()["data"]] == [
        "xavier"]


def test_save_rejects_what_it_cannot_make(api: Api, world: World) -> None:
    alice = web_login(api, "alice")
    for body in (b"not json", b"[]", b'{"@type": "x#Image", "Name": "i"}',
                 b'{"@type": "x#Project", "Name": 5}', b'{"@type": "x#Project"}'):
        answer = alice.post("/api/v0/m/save/", content=body,
                            headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, body
    without_csrf = TestClient(api.client.app, cookies=alice.cookies)
    assert without_csrf.post("/api/v0/m/save/", json={
        "@type": OME + "Project", "Name": "x"}).status_code == 403


def test_hierarchy_through_both_apis(api: Api, world: World) -> None:
    alice, headers = web_login(api, "alice"), world.headers["alice"]
    group = world.groups[Permissions.READ_ANNOTATE]
    project = api.client.post("/api/v1/projects", headers=headers,
                              json={"name": "P", "group_id": group}).json()["id"]
    dataset = api.client.post("/api/v1/datasets", headers=headers,
                              json={"name": "D", "group_id": group}).json()["id"]
    with api.vault.catalog.session() as session:  # images come from import (not yet here)
        image = Image(name="cells.tif", owner_id=world.users["alice"], group_id=group)
        session.add(image)
        session.flush()
        image_id = image.id
    assert api.client.post(f"/api/v1/projects/{project}/datasets", headers=headers,
                           json={"child_id": dataset}).status_code == 204
    assert api.client.post(f"/api/v1/datasets/{dataset}/images", headers=headers,
                           json={"child_id": image_id}).status_code == 204
    datasets = alice.get(f"/api/v0/m/projects/{project}/datasets/").json()
    assert [d["@id"] for d in datasets["data"]] == [dataset]
    images = alice.get(f"/api/v0/m/datasets/{dataset}/images/").json()
    assert [i["Name"] for i in images["data"]] == ["cells.tif"]
    assert alice.get(f"/api/v0/m/images/{image_id}/").json()["data"]["@type"] == OME + "Image"
    # bob reads but may not link in a read-annotate group; links stay within one group.
    bob = world.headers["bob"]
    assert api.client.get(f"/api/v1/projects/{project}/datasets", headers=bob
                          ).json()["total"] == 1
    assert api.client.post(f"/api/v1/projects/{project}/datasets", headers=bob,
                           json={"child_id": dataset}).status_code == 403
    other = api.client.post("/api/v1/datasets", headers=headers, json={
        "name": "elsewhere", "group_id": world.groups[Permissions.PRIVATE]}).json()["id"]
    crossing = api.client.post(f"/api/v1/projects/{project}/datasets", headers=headers,
                               json={"child_id": other})
    assert crossing.status_code == 400 and "another group" in crossing.json()["message"]
    assert api.client.delete(f"/api/v1/projects/{project}/datasets/{dataset}",
                             headers=headers).status_code == 204
    assert alice.get(f"/api/v0/m/projects/{project}/datasets/").json()["data"] == []
    # Images come from import, or from arrays with their sizes (a name alone is not one).
    refused = api.client.post("/api/v1/images", headers=headers, json={"name": "x"})
    assert refused.status_code == 400 and "size_x" in refused.json()["message"]
