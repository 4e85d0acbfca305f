"""QuPath's group and owner browsing (docs/clients/qupath-omero-extension.md, step 4):
an administrator lists ``url:experimentergroups``, anyone else
``url:experimenters{id}/experimentergroups/``; then each group's ``url:experimenters``.

Keys as QuPath's classes require them: ``json/jsonentities/experimenters/
OmeroExperimenterGroup.java`` (``@id``, ``Name``, ``url:experimenters``,
``omero:details.permissions.isGroupRead|isGroupAnnotate|isGroupWrite``, all
required) and ``OmeroExperimenter.java`` (``@id``, ``FirstName``, ``LastName``,
``UserName``); pages need ``data``, ``meta.limit`` and ``meta.totalCount``."""

from __future__ import annotations

from typing import Any

from pixelvault.catalog.models import Permissions
from tests.server.conftest import Api, World
from tests.server.test_api_omero_web import web_login

LEVELS = {  # QuPath's reading of the three flags (OmeroExperimenterGroup.getPermissionLevel)
    Permissions.PRIVATE: (False, False, False),
    Permissions.READ_ONLY: (True, False, False),
    Permissions.READ_ANNOTATE: (True, True, False),
    Permissions.READ_WRITE: (True, True, True),
}


def _page(answer: Any) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body["meta"]["limit"], int) and isinstance(body["meta"]["totalCount"], int)
    items: list[dict[str, Any]] = body["data"]
    return items


def test_a_user_browses_their_groups_and_each_groups_members(api: Api, world: World) -> None:
    alice = web_login(api, "alice")
    links = alice.get("/api/v0/").json()
    groups = _page(alice.get(f"{links['url:experimenters']}{world.users['alice']}"
                             "/experimentergroups/"))
    by_id = {group["@id"]: group for group in groups}
    assert set(by_id) == set(world.groups.values())
    for level, group_id in world.groups.items():
        group = by_id[group_id]
        assert group["@type"].endswith("#ExperimenterGroup") and isinstance(group["Name"], str)
        flags = group["omero:details"]["permissions"]
        assert (flags["isGroupRead"], flags["isGroupAnnotate"], flags["isGroupWrite"]) \
            == LEVELS[level]
        members = _page(alice.get(group["url:experimenters"]))
        assert {m["UserName"] for m in members} == {"alice", "bob", "olga"}
        for member in members:
            assert isinstance(member["@id"], int)
            assert {"FirstName", "LastName", "UserName"} <= set(member)


def test_an_administrator_lists_every_group(api: Api, world: World) -> None:
    root = web_login(api, "root", "root-secret-1")
    groups = _page(root.get("/api/v0/m/experimentergroups/"))
    assert set(world.groups.values()) <= {g["@id"] for g in groups}
    assert all("url:experimenters" in g for g in groups)


def test_other_peoples_groups_and_members_stay_hidden(api: Api, world: World) -> None:
    """xavier shares no group with alice: her groups and their members are not his to
    list, and asking answers as for a group that does not exist."""
    xavier = web_login(api, "xavier")
    group_id = world.groups[Permissions.READ_WRITE]
    hidden = xavier.get(f"/api/v0/m/experimentergroups/{group_id}/experimenters/")
    missing = xavier.get("/api/v0/m/experimentergroups/999999/experimenters/")
    assert hidden.status_code == missing.status_code == 404
    assert xavier.get(f"/api/v0/m/experimenters/{world.users['alice']}"
                      "/experimentergroups/").status_code == 404
    own = _page(xavier.get(f"/api/v0/m/experimenters/{world.users['xavier']}"
                           "/experimentergroups/"))
    assert group_id not in {g["@id"] for g in own} and len(own) >= 1


def test_object_permissions_carry_the_flags_too(api: Api, world: World) -> None:
    alice = web_login(api, "alice")
    group_id = world.groups[Permissions.READ_ANNOTATE]
    made = alice.post(f"/api/v0/m/save/?group={group_id}",
                      json={"@type": "http://www.openmicroscopy.org/Schemas/OME/2016-06#"
                            "Project", "Name": "p"})
    assert made.status_code == 201, made.text
    flags = made.json()["data"]["omero:details"]["permissions"]
    assert (flags["isGroupRead"], flags["isGroupAnnotate"], flags["isGroupWrite"]) \
        == (True, True, False)
    assert flags["isUserRead"] and flags["isUserWrite"] and not flags["isWorldRead"]
