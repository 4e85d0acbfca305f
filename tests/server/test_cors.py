"""Cross-origin reads: the listed origins only, on /api/, /webgateway/ and /zarr/ only."""

from __future__ import annotations

import pytest

from pixelvault.config import load_settings
from pixelvault.errors import ConfigError
from tests.conftest import Env
from tests.server.conftest import ROOT_PASSWORD, serving

VIEWER = "https://viewer.example.org"
OTHER = "https://evil.example.net"


def _preflight(origin: str, path: str = "/api/v1/projects") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"}


def test_a_listed_origin_reads_with_the_users_session(initialised: Env) -> None:
    initialised.set(server_cors_origins=f"{VIEWER}, http://localhost:8080")
    with serving(initialised) as api:
        root = api.login("root", ROOT_PASSWORD)
        preflight = api.client.options("/api/v1/projects", headers=_preflight(VIEWER))
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == VIEWER
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert preflight.headers["x-content-type-options"] == "nosniff"
        for path in ("/api/v1/projects", "/api/v0/", "/zarr/images/999999/zarr.json",
                     "/webgateway/imgData/999999/"):
            answer = api.client.get(path, headers={**root, "Origin": VIEWER})
            assert answer.headers["access-control-allow-origin"] == VIEWER, path
            assert "ETag" in answer.headers["access-control-expose-headers"]
        listed = api.client.get("/api/v1/projects", headers={**root, "Origin": VIEWER})
        assert listed.status_code == 200, listed.text
        local = api.client.get("/api/v1/projects", headers={**root,
                                                             "Origin": "http://localhost:8080"})
        assert local.headers["access-control-allow-origin"] == "http://localhost:8080"


def test_other_origins_and_other_routes_get_nothing(initialised: Env) -> None:
    initialised.set(server_cors_origins=VIEWER)
    with serving(initialised) as api:
        root = api.login("root", ROOT_PASSWORD)
        refused = api.client.options("/api/v1/projects", headers=_preflight(OTHER))
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        answer = api.client.get("/api/v1/projects", headers={**root, "Origin": OTHER})
        assert "access-control-allow-origin" not in answer.headers
        assert "access-control-allow-credentials" not in answer.headers
        health = api.client.get("/health", headers={"Origin": VIEWER})
        assert "access-control-allow-origin" not in health.headers
        login = api.client.options("/login", headers=_preflight(VIEWER))
        assert "access-control-allow-origin" not in login.headers


def test_no_origin_is_allowed_by_default(initialised: Env) -> None:
    with serving(initialised) as api:
        root = api.login("root", ROOT_PASSWORD)
        answer = api.client.get("/api/v1/projects", headers={**root, "Origin": VIEWER})
        assert answer.status_code == 200
        assert "access-control-allow-origin" not in answer.headers
        preflight = api.client.options("/api/v1/projects", headers=_preflight(VIEWER))
        assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize("value", ["*", "https://viewer.example.org/app", "viewer.example.org",
                                   "ftp://files.example.org"])
def test_an_origin_list_that_is_not_one_is_refused(initialised: Env, value: str) -> None:
    initialised.set(server_cors_origins=value)
    with pytest.raises(ConfigError, match=r"server\.cors_origins"):
        load_settings(initialised.vars)
    failed = initialised.cli("config", "list")
    assert failed.returncode != 0 and "server.cors_origins" in failed.stderr
