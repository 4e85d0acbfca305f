"""Projects, datasets, images, users and groups of one server, as client objects."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pixelvault.client import transfer

if TYPE_CHECKING:
    from pixelvault.client.http import Http

CHILDREN = {"projects": "datasets", "datasets": "images"}


@dataclass
class Containers:
    """Projects or datasets of one server."""

    conn: Http
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

    def _children(self) -> str:
        try:
            return CHILDREN[self.plural]
        except KeyError:
            raise TypeError(f"{self.plural} contain nothing") from None

    def children(self, object_id: int, *, offset: int = 0,
                 limit: int = 200) -> dict[str, Any]:
        """The datasets of a project, or the images of a dataset."""
        answer: dict[str, Any] = self.conn.request(
            "GET", f"/api/v1/{self.plural}/{object_id}/{self._children()}",
            params={"offset": offset, "limit": limit})
        return answer

    def link(self, object_id: int, child_id: int) -> None:
        self.conn.request("POST", f"/api/v1/{self.plural}/{object_id}/{self._children()}",
                          json={"child_id": child_id})

    def unlink(self, object_id: int, child_id: int) -> None:
        self.conn.request(
            "DELETE", f"/api/v1/{self.plural}/{object_id}/{self._children()}/{child_id}")

    def annotations(self, object_id: int) -> builtins.list[dict[str, Any]]:
        answer: builtins.list[dict[str, Any]] = self.conn.request(
            "GET", f"/api/v1/{self.plural}/{object_id}/annotations")
        return answer

    def annotate(self, object_id: int, type: str, text: str = "", *,
                 values: builtins.list[tuple[str, str]] | None = None,
                 namespace: str = "") -> dict[str, Any]:
        """Add a ``comment``, ``tag`` (``text``) or ``map`` (``values``) annotation."""
        answer: dict[str, Any] = self.conn.request(
            "POST", f"/api/v1/{self.plural}/{object_id}/annotations",
            json={"type": type, "text": text, "values": values or [], "namespace": namespace})
        return answer

    def attach(self, object_id: int, source: str | Path | IO[bytes], *,
               name: str | None = None, mimetype: str | None = None,
               progress: transfer.Progress | None = None) -> dict[str, Any]:
        """Upload a file (a path or a binary stream) as an attachment, streamed, and
        check that the server stored exactly the bytes sent."""
        return transfer.upload(self.conn, f"/api/v1/{self.plural}/{object_id}/attachments",
                               source, name=name, mimetype=mimetype, progress=progress)


class Images(Containers):
    """Images of one server: listed like containers, and described in full."""

    def metadata(self, image_id: int) -> dict[str, Any]:
        """Dimensions, pixel type, physical sizes (with units), channels, fileset and
        datasets, as the import recorded them."""
        answer: dict[str, Any] = self.conn.request("GET",
                                                   f"/api/v1/images/{image_id}/metadata")
        return answer


@dataclass
class Users:
    conn: Http

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
    conn: Http

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
