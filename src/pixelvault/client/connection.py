"""A logged-in connection to a pixelvault server, over httpx.

    from pixelvault.client import connect
    conn = connect("http://127.0.0.1:4080", "alice", "secret")
    conn.projects.list()

Errors come back as pixelvault's own exceptions with the server's message.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

import httpx

from pixelvault import errors

_BY_STATUS: dict[int, type[errors.PixelvaultError]] = {
    400: errors.InvalidInputError,
    401: errors.AuthenticationError,
    403: errors.ForbiddenError,
    404: errors.NotFoundError,
    409: errors.LockHeldError,
    422: errors.IntegrityError,
    503: errors.RepositoryError,
    507: errors.OutOfSpaceError,
}


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        message = str(response.json().get("message") or response.text)
    except ValueError:
        message = response.text[:200] or response.reason_phrase
    if response.status_code == 429:
        raise errors.TooManyAttemptsError(message,
                                          int(response.headers.get("Retry-After", "60")))
    raise _BY_STATUS.get(response.status_code, errors.PixelvaultError)(message)


class Connection:
    """One server, one session token (sent as `Authorization: Bearer`, never in URLs)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self.projects = Containers(self, "projects")
        self.datasets = Containers(self, "datasets")
        self.users = Users(self)
        self.groups = Groups(self)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.ConnectError:
            raise errors.ServerNotRunningError(
                f"no pixelvault server answers at {self.base_url}; start it with "
                "`pixelvault admin start` or check the address"
            ) from None
        except httpx.HTTPError as exc:
            raise errors.ServerNotRunningError(f"talking to {self.base_url} failed: {exc}") \
                from None
        _raise_for(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def login(self, username: str, password: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request(
            "POST", "/api/v1/login", json={"username": username, "password": password})
        self.token = answer["token"]
        return answer

    def logout(self) -> None:
        if self.token:
            self.request("POST", "/api/v1/logout")
            self.token = None

    def whoami(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", "/api/v1/whoami")
        return answer

    def sessions(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.request("GET", "/api/v1/sessions")
        return answer

    def end_session(self, session_id: int) -> None:
        self.request("DELETE", f"/api/v1/sessions/{session_id}")

    def switch_group(self, group_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("PUT", "/api/v1/whoami/group",
                                              json={"group_id": group_id})
        return answer

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Containers:
    """Projects or datasets of one server."""

    conn: Connection
    plural: str

    def list(self, *, offset: int = 0, limit: int = 200, owner: int | None = None,
             group: int | None = None) -> dict[str, Any]:
        params = {k: v for k, v in {"offset": offset, "limit": limit, "owner": owner,
                                    "group": group}.items() if v is not None}
        answer: dict[str, Any] = self.conn.request("GET", f"/api/v1/{self.plural}",
                                                   params=params)
        return answer

    def get(self, object_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.conn.request("GET", f"/api/v1/{self.plural}/{object_id}")
        return answer

    def create(self, name: str, description: str = "",
               group_id: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "description": description}
        if group_id is not None:
            body["group_id"] = group_id
        answer: dict[str, Any] = self.conn.request("POST", f"/api/v1/{self.plural}", json=body)
        return answer

    def update(self, object_id: int, *, name: str | None = None,
               description: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"name": name, "description": description}.items()
                if v is not None}
        answer: dict[str, Any] = self.conn.request(
            "PATCH", f"/api/v1/{self.plural}/{object_id}", json=body)
        return answer

    def delete(self, object_id: int) -> None:
        self.conn.request("DELETE", f"/api/v1/{self.plural}/{object_id}")


@dataclass
class Users:
    conn: Connection

    def list(self) -> builtins.list[dict[str, Any]]:
        answer: builtins.list[dict[str, Any]] = self.conn.request("GET", "/api/v1/users")
        return answer

    def create(self, username: str, first_name: str, last_name: str,
               groups: builtins.list[str],
               *, password: str | None = None, admin: bool = False) -> dict[str, Any]:
        answer: dict[str, Any] = self.conn.request("POST", "/api/v1/users", json={
            "username": username, "first_name": first_name, "last_name": last_name,
            "groups": groups, "password": password, "admin": admin})
        return answer

    def set_password(self, user_id: int, new_password: str,
                     old_password: str | None = None) -> None:
        self.conn.request("PUT", f"/api/v1/users/{user_id}/password",
                          json={"new_password": new_password, "old_password": old_password})


@dataclass
class Groups:
    conn: Connection

    def list(self) -> builtins.list[dict[str, Any]]:
        answer: builtins.list[dict[str, Any]] = self.conn.request("GET", "/api/v1/groups")
        return answer

    def create(self, name: str, type: str = "private",
               description: str = "") -> dict[str, Any]:
        answer: dict[str, Any] = self.conn.request(
            "POST", "/api/v1/groups", json={"name": name, "type": type,
                                            "description": description})
        return answer

    def add_user(self, group_id: int, user_id: int, *, owner: bool = False) -> None:
        self.conn.request("POST", f"/api/v1/groups/{group_id}/members",
                          json={"user_id": user_id, "owner": owner})


def connect(base_url: str, username: str, password: str) -> Connection:
    """Log in and return the connection (three lines in a notebook)."""
    conn = Connection(base_url)
    conn.login(username, password)
    return conn
