"""The order of the app's routers changes no answer: the hot routers tried first
(tiles, Zarr chunks, raw pixels) share no path with any other router, so every request
reaches the route it reached before they were moved."""

import re
from collections.abc import Iterator, Sequence

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match

from pixelvault.server.app import HOT_ROUTERS
from tests.conftest import Env
from tests.server.conftest import serving

# Values for each path parameter's converter: ids, names, nested paths, Zarr keys.
SAMPLES = {"int": ["1", "12"], "str": ["1", "x", "zarr.json", "12"],
           "path": ["a/b", "zarr.json", "0/zarr.json", "1", "x"], "float": ["1.5"]}


def requests_of(route: APIRoute) -> Iterator[tuple[str, str]]:
    """(method, path) pairs that ``route`` answers, its parameters filled with samples."""
    made = [""]
    for part in re.split(r"(\{[^}]+\})", route.path):
        if part.startswith("{"):
            converter = part[1:-1].split(":")[1] if ":" in part else "str"
            made = [m + value for m in made for value in SAMPLES[converter]]
        else:
            made = [m + part for m in made]
    for method in route.methods or ():
        for path in made:
            yield method, path


def full_match(routes: Sequence[BaseRoute], method: str, path: str) -> list[BaseRoute]:
    scope = {"type": "http", "path": path, "method": method, "root_path": "",
             "query_string": b"", "headers": []}
    return [r for r in routes if r.matches(scope)[0] == Match.FULL]


def test_hot_routers_share_no_path_with_the_others(sqlite_env: Env) -> None:
    sqlite_env.cli("admin", "init", check=True)
    with serving(sqlite_env) as api:
        app = api.client.app
    hot = [r for router in HOT_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    hot_ids = {id(r) for r in hot}

    def flat(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
        for route in routes:
            inner = getattr(route, "original_router", None)
            yield from flat(inner.routes) if inner is not None else [route]

    routes = app.router.routes  # type: ignore[attr-defined]
    others = [r for r in flat(routes) if id(r) not in hot_ids]
    assert len(hot) > 20 and len(others) > 100  # both sides are really there
    clashes = [(method, path, [getattr(r, "path", r) for r in found])
               for route in hot for method, path in requests_of(route)
               if (found := full_match(others, method, path))]
    clashes += [(method, path, [getattr(r, "path", r) for r in found])
                for route in others if isinstance(route, APIRoute)
                for method, path in requests_of(route) if (found := full_match(hot, method, path))]
    assert clashes == []
