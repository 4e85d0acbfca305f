"""Screens, plates and wells of one server, read through OMERO.web's JSON API (the same
answers OMERO's clients get)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixelvault.client.http import Http


@dataclass
class Plates:
    conn: Http

    def _all(self, path: str, **params: Any) -> builtins.list[dict[str, Any]]:
        found: builtins.list[dict[str, Any]] = []
        while True:
            page = self.conn.request("GET", path, params={**params, "offset": len(found),
                                                          "limit": 500})
            found += page["data"]
            if not page["data"] or len(found) >= page["meta"]["totalCount"]:
                return found

    def screens(self) -> builtins.list[dict[str, Any]]:
        return self._all("/api/v0/m/screens/", childCount="true")

    def list(self, screen: int | None = None) -> builtins.list[dict[str, Any]]:
        """Plates, all or one screen's."""
        if screen is not None:
            return self._all(f"/api/v0/m/screens/{screen}/plates/")
        return self._all("/api/v0/m/plates/")

    def get(self, plate_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.conn.request("GET", f"/api/v0/m/plates/{plate_id}/")
        return answer["data"]  # type: ignore[no-any-return]

    def wells(self, plate_id: int) -> builtins.list[dict[str, Any]]:
        """The plate's wells, each with its fields (``WellSamples``) and their images."""
        return self._all(f"/api/v0/m/plates/{plate_id}/wells/")

    def runs(self, plate_id: int) -> builtins.list[dict[str, Any]]:
        return self._all(f"/api/v0/m/plates/{plate_id}/plateacquisitions/")
