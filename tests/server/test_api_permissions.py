"""OMERO's permission table (§9) through every project and dataset route."""

from typing import Any

import pytest

from pixelvault.catalog.models import Permissions
from tests.server.conftest import Api, World

LEVELS = list(Permissions)
# Who may do what to alice's object in a group of each level (§9).
READ = {"bob": {Permissions.READ_ONLY, Permissions.READ_ANNOTATE, Permissions.READ_WRITE},
        "olga": set(LEVELS), "xavier": set(), "alice": set(LEVELS), "root": set(LEVELS)}
EDIT = {"bob": {Permissions.READ_WRITE}, "olga": {Permissions.READ_WRITE}, "xavier": set(),
        "alice": set(LEVELS), "root": set(LEVELS)}
DELETE = {"bob": {Permissions.READ_WRITE}, "olga": set(LEVELS), "xavier": set(),
          "alice": set(LEVELS), "root": set(LEVELS)}
ACTORS = ["alice", "bob", "olga", "xavier", "root"]


def _create(api: Api, world: World, kind: str) -> dict[Permissions, int]:
    ids = {}
    for level, group_id in world.groups.items():
        answer = api.client.post(f"/api/v1/{kind}", headers=world.headers["alice"],
                                 json={"name": f"alice {level.value}", "group_id": group_id})
        assert answer.status_code == 201, answer.text
        ids[level] = answer.json()["id"]
    return ids


@pytest.mark.parametrize("kind", ["projects", "datasets"])
@pytest.mark.parametrize("who", ACTORS)
def test_read_list_edit_delete_follow_the_table(api: Api, world: World, kind: str,
                                                who: str) -> None:
    ids = _create(api, world, kind)
    headers = world.headers[who]
    listed = api.client.get(f"/api/v1/{kind}", headers=headers).json()
    assert {p["id"] for p in listed["data"]} == {ids[lv] for lv in READ[who]}
    assert listed["total"] == len(READ[who])  # counts leak nothing either
    for level, object_id in ids.items():
        got = api.client.get(f"/api/v1/{kind}/{object_id}", headers=headers)
        assert got.status_code == (200 if level in READ[who] else 404), (level, got.text)
        patched = api.client.patch(f"/api/v1/{kind}/{object_id}", headers=headers,
                                   json={"description": f"edited by {who}"})
        expected = 200 if level in EDIT[who] else 403 if level in READ[who] else 404
        assert patched.status_code == expected, (level, patched.text)
        deleted = api.client.delete(f"/api/v1/{kind}/{object_id}", headers=headers)
        expected = 204 if level in DELETE[who] else 403 if level in READ[who] else 404
        assert deleted.status_code == expected, (level, deleted.text)


def test_invisible_ids_answer_exactly_like_missing_ones(api: Api, world: World) -> None:
    ids = _create(api, world, "projects")
    hidden = api.client.get(f"/api/v1/projects/{ids[Permissions.PRIVATE]}",
                            headers=world.headers["bob"])
    missing = api.client.get("/api/v1/projects/999999", headers=world.headers["bob"])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["message"].replace(str(ids[Permissions.PRIVATE]), "N") == \
        missing.json()["message"].replace("999999", "N")


def test_objects_can_only_be_created_in_ones_own_groups(api: Api, world: World) -> None:
    private = world.groups[Permissions.PRIVATE]
    answer = api.client.post("/api/v1/projects", headers=world.headers["xavier"],
                             json={"name": "intruder", "group_id": private})
    assert answer.status_code == 403


def test_filters_and_paging(api: Api, world: World) -> None:
    alice = world.headers["alice"]
    for index in range(5):
        api.client.post("/api/v1/datasets", headers=alice, json={"name": f"d{index}"})
    page = api.client.get("/api/v1/datasets?offset=1&limit=2", headers=alice).json()
    assert [d["name"] for d in page["data"]] == ["d1", "d2"] and page["total"] == 5
    mine = api.client.get(f"/api/v1/datasets?owner={world.users['alice']}",
                          headers=world.headers["root"]).json()
    assert mine["total"] == 5
    assert api.client.get(f"/api/v1/datasets?owner={world.users['bob']}",
                          headers=alice).json()["total"] == 0


def test_user_details_are_visible_only_to_fellow_members(api: Api, world: World) -> None:
    """OMERO's CVE-2019-16245: every user could read everyone's details."""
    seen_by_xavier = api.client.get("/api/v1/users", headers=world.headers["xavier"]).json()
    assert [u["username"] for u in seen_by_xavier] == ["xavier"]
    assert api.client.get(f"/api/v1/users/{world.users['alice']}",
                          headers=world.headers["xavier"]).status_code == 404
    seen_by_bob = {u["username"] for u in api.client.get(
        "/api/v1/users", headers=world.headers["bob"]).json()}
    assert seen_by_bob == {"alice", "bob", "olga"}
    assert len(api.client.get("/api/v1/users", headers=world.headers["root"]).json()) == 5
    groups = api.client.get("/api/v1/groups", headers=world.headers["xavier"]).json()
    assert [g["name"] for g in groups] == ["elsewhere"]


def test_only_administrators_create_users_and_groups(api: Api, world: World) -> None:
    alice = world.headers["alice"]
    assert api.client.post("/api/v1/groups", headers=alice,
                           json={"name": "mine"}).status_code == 403
    assert api.client.post("/api/v1/users", headers=alice, json={
        "username": "eve", "groups": ["elsewhere"]}).status_code == 403
    assert api.client.post(f"/api/v1/groups/{world.groups[Permissions.PRIVATE]}/members",
                           headers=alice, json={"user_id": world.users["xavier"]}
                           ).status_code == 403
    # A group owner may add members to their own group.
    assert api.client.post(f"/api/v1/groups/{world.groups[Permissions.PRIVATE]}/members",
                           headers=world.headers["olga"], json={"user_id": world.users["xavier"]}
                           ).status_code == 204


def test_members_leave_groups_but_never_their_last(api: Api, world: World) -> None:
    private = world.groups[Permissions.PRIVATE]
    xavier = world.users["xavier"]
    olga, alice = world.headers["olga"], world.headers["alice"]
    assert api.client.post(f"/api/v1/groups/{private}/members", headers=olga,
                           json={"user_id": xavier}).status_code == 204
    members = f"/api/v1/groups/{private}/members/{xavier}"
    assert api.client.delete(members, headers=alice).status_code == 403
    assert api.client.delete(members, headers=olga).status_code == 204
    assert api.client.delete(members, headers=olga).status_code == 404
    # a group's owner removes members, not owners (herself included): administrators do
    owner = f"/api/v1/groups/{private}/members/{world.users['olga']}"
    assert api.client.delete(owner, headers=olga).status_code == 403
    # xavier's only group left: refused, with what to do
    [only] = api.client.get(f"/api/v1/users/{xavier}", headers=world.headers["root"]
                            ).json()["group_ids"]
    refused = api.client.delete(f"/api/v1/groups/{only}/members/{xavier}",
                                headers=world.headers["root"])
    assert refused.status_code == 400 and "add them to another group" in \
        refused.json()["message"]
    # a default group that goes is replaced by another of the user's groups
    bob = world.users["bob"]
    default = api.client.get("/api/v1/whoami", headers=world.headers["bob"]).json()["group_id"]
    assert api.client.delete(f"/api/v1/groups/{default}/members/{bob}",
                             headers=world.headers["root"]).status_code == 204
    again = api.client.get("/api/v1/whoami", headers=api.login("bob")).json()
    assert again["group_id"] != default and default not in again["group_ids"]
    usage = api.client.get("/api/v1/usage?sum_by=group", headers=world.headers["root"])
    assert usage.status_code == 200 and isinstance(usage.json(), list)
    assert api.client.get("/api/v1/usage?sum_by=planet",
                          headers=world.headers["root"]).status_code == 400


def _same_shape(hidden: Any, missing: Any, hidden_id: int, missing_id: int) -> None:
    """Both answer 404 with the same message but for the id: nothing tells them apart."""
    assert hidden.status_code == missing.status_code == 404, (hidden.text, missing.text)
    assert hidden.json()["message"].replace(str(hidden_id), "N") == \
        missing.json()["message"].replace(str(missing_id), "N")


def test_groups_and_users_one_may_not_see_answer_like_missing_ones(api: Api,
                                                                   world: World) -> None:
    """Adding members to, or moving data into, a group one is not in, and giving data
    to a user one shares no group with, must not tell whether that group or user exists."""
    elsewhere = next(g["id"] for g in api.client.get("/api/v1/groups",
                                                     headers=world.headers["root"]).json()
                     if g["name"] == "elsewhere")
    alice, olga = world.headers["alice"], world.headers["olga"]
    member = {"user_id": world.users["bob"]}
    _same_shape(api.client.post(f"/api/v1/groups/{elsewhere}/members", headers=alice,
                                json=member),
                api.client.post("/api/v1/groups/999999/members", headers=alice, json=member),
                elsewhere, 999999)
    group = world.groups[Permissions.READ_ANNOTATE]
    project = api.client.post("/api/v1/projects", headers=alice,
                              json={"name": "moving", "group_id": group}).json()["id"]
    targets = [f"Project:{project}"]
    _same_shape(api.client.post("/api/v1/chgrp", headers=alice,
                                json={"targets": targets, "group_id": elsewhere}),
                api.client.post("/api/v1/chgrp", headers=alice,
                                json={"targets": targets, "group_id": 999999}),
                elsewhere, 999999)
    # olga owns alice's group, so she may give the project away, but not to xavier,
    # whom she cannot see (the answer used to name him).
    xavier = world.users["xavier"]
    _same_shape(api.client.post("/api/v1/chown", headers=olga,
                                json={"targets": targets, "user_id": xavier}),
                api.client.post("/api/v1/chown", headers=olga,
                                json={"targets": targets, "user_id": 999999}),
                xavier, 999999)
    assert api.client.get(f"/api/v1/projects/{project}", headers=alice
                          ).json()["owner_id"] == world.users["alice"]


def test_users_list_only_the_memberships_one_may_see(api: Api, world: World) -> None:
    root = world.headers["root"]
    elsewhere = next(g["id"] for g in api.client.get("/api/v1/groups", headers=root).json()
                     if g["name"] == "elsewhere")
    assert api.client.post(f"/api/v1/groups/{elsewhere}/members", headers=root,
                           json={"user_id": world.users["alice"]}).status_code == 204
    alice_id = world.users["alice"]
    for path in ("/api/v1/users", f"/api/v1/users/{alice_id}"):
        answer = api.client.get(path, headers=world.headers["bob"]).json()
        alice = next(u for u in answer if u["id"] == alice_id) if isinstance(answer, list) \
            else answer
        assert set(alice["group_ids"]) == set(world.groups.values()), path
    seen_by_root = api.client.get(f"/api/v1/users/{alice_id}", headers=root).json()
    assert elsewhere in seen_by_root["group_ids"]
    # xavier shares "elsewhere" with alice now, and sees her there only.
    seen_by_xavier = api.client.get(f"/api/v1/users/{alice_id}",
                                    headers=world.headers["xavier"]).json()
    assert seen_by_xavier["group_ids"] == [elsewhere]
