"""Listings are written as JSON by the database: the same text on SQLite and PostgreSQL."""

import json
import re

from pixelvault.catalog.models import Permissions
from tests.server.conftest import Api, World

NAMES = ['quote " and \\ backslash', "no\u00a0break", "Zellkern 核 🔬", "</script>"]
# Names take no control characters; descriptions take tabs and line breaks.
DESCRIPTIONS = [f"{name}\r\nline\tbreak" for name in NAMES]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_listing_json_keeps_text_order_and_utc_timestamps(api: Api, world: World) -> None:
    alice = world.headers["alice"]
    group = world.groups[Permissions.READ_ANNOTATE]
    made = [api.client.post("/api/v1/datasets", headers=alice,
                            json={"name": name, "description": description,
                                  "group_id": group}
                            ).json() for name, description in zip(NAMES, DESCRIPTIONS,
                                                                  strict=True)]
    page = api.client.get("/api/v1/datasets", headers=alice)
    assert page.status_code == 200 and page.headers["content-type"] == "application/json"
    body = page.json()
    assert [d["name"] for d in body["data"]] == NAMES
    assert [d["description"] for d in body["data"]] == DESCRIPTIONS
    assert body["total"] == 4 and body["offset"] == 0 and body["limit"] == 200
    for listed, single in zip(body["data"], made, strict=True):
        assert set(listed) == set(single)
        assert STAMP.match(listed["created_at"]) and STAMP.match(single["created_at"])
        assert listed == single  # the listing and the single object agree to the byte
    one = api.client.get(f"/api/v1/datasets/{made[0]['id']}", headers=alice).json()
    assert one == body["data"][0]
    # Pages keep the id order; beyond the end is an empty page with the total.
    second = api.client.get("/api/v1/datasets?offset=1&limit=2", headers=alice).json()
    assert [d["id"] for d in second["data"]] == [made[1]["id"], made[2]["id"]]
    beyond = api.client.get("/api/v1/datasets?offset=10", headers=alice)
    assert json.loads(beyond.content) == {"data": [], "offset": 10, "limit": 200, "total": 4,
                                          "after": 0}
    # Keyset paging: the last id of a page asks for the next one; the total stays whole.
    ids: list[int] = []
    while True:
        keyset = api.client.get(f"/api/v1/datasets?limit=3&after={ids[-1] if ids else 0}",
                                headers=alice).json()
        assert keyset["total"] == 4 and keyset["after"] == (ids[-1] if ids else 0)
        if not keyset["data"]:
            break
        ids += [d["id"] for d in keyset["data"]]
    assert ids == [d["id"] for d in made]
    # Filters and permissions apply to the JSON path as to any query.
    assert api.client.get("/api/v1/datasets", headers=world.headers["xavier"]
                          ).json()["total"] == 0
    owned = api.client.get(f"/api/v1/datasets?owner={world.users['bob']}", headers=alice)
    assert owned.json()["data"] == []
