"""An in-process server on a real repository and catalog, and its users."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from pixelvault.catalog.models import Image, Permissions
from pixelvault.repository import LockMode
from pixelvault.server.app import create_app
from pixelvault.services.access import principals
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env

ROOT_PASSWORD = "root-secret-1"
PASSWORD = "correct horse battery"


@dataclass
class Api:
    vault: Vault
    client: TestClient

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        """Headers of a fresh Bearer session (a separate client keeps cookies apart)."""
        answer = self.client.post("/api/v1/login",
                                  json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        self.client.cookies.clear()
        return {"Authorization": f"Bearer {answer.json()['token']}"}


@contextmanager
def serving(env: Env) -> Iterator[Api]:
    """The app in-process on ``env``'s repository, root's password set."""
    vault = open_vault(env.settings())
    principals.bootstrap_root_password(vault.catalog, ROOT_PASSWORD)
    try:
        with vault.lock(LockMode.SHARED, "test server") as lock, \
                TestClient(create_app(vault, lock)) as client:
            yield Api(vault, client)
    finally:
        vault.close()


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    with serving(initialised) as made:
        yield made


@dataclass
class World:
    """Per permission level a group with alice and bob (members) and olga (its owner);
    xavier belongs to none of them."""

    groups: dict[Permissions, int]
    users: dict[str, int]
    headers: dict[str, dict[str, str]]


@pytest.fixture
def world(api: Api) -> World:
    root = api.login("root", ROOT_PASSWORD)
    groups: dict[Permissions, int] = {}
    for level in Permissions:
        answer = api.client.post("/api/v1/groups", headers=root,
                                 json={"name": f"lab-{level.name.lower()}", "type": level.value})
        assert answer.status_code == 201, answer.text
        groups[level] = answer.json()["id"]
    lonely = api.client.post("/api/v1/groups", headers=root, json={"name": "elsewhere"})
    users: dict[str, int] = {}
    for name in ("alice", "bob", "olga"):
        answer = api.client.post("/api/v1/users", headers=root, json={
            "username": name, "first_name": name.title(), "last_name": "Lab",
            "groups": list(groups.values()), "password": PASSWORD})
        assert answer.status_code == 201, answer.text
        users[name] = answer.json()["id"]
    for group_id in groups.values():
        assert api.client.post(f"/api/v1/groups/{group_id}/members", headers=root,
                               json={"user_id": users["olga"], "owner": True}).status_code == 204
    answer = api.client.post("/api/v1/users", headers=root, json={
        "username": "xavier", "groups": [lonely.json()["id"]], "password": PASSWORD})
    users["xavier"] = answer.json()["id"]
    users["root"] = 0
    headers = {name: api.login(name) for name in ("alice", "bob", "olga", "xavier")}
    headers["root"] = root
    return World(groups, users, headers)


def add_image(api: Api, owner_id: int, group_id: int, name: str = "cells.tif") -> int:
    """An Image row as import will make it (import itself is not in the API yet)."""
    with api.vault.catalog.session() as session:
        image = Image(name=name, owner_id=owner_id, group_id=group_id)
        session.add(image)
        session.flush()
        return image.id
