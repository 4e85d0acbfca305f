"""Full-text search: ``GET /api/v1/search?q=...``, filtered by what you may read inside the
query itself, and the index's status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from pixelvault.server.auth import ActorDep, vault_of
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import QueryId
from pixelvault.services.search.index import index_of

router = APIRouter(prefix="/api/v1", tags=["search"], route_class=JsonBodyRoute)


@router.get("/search")
def search(actor: ActorDep, request: Request,
           q: Annotated[str, Query(max_length=4000)],
           type: Annotated[list[str] | None, Query(max_length=5)] = None,
           owner: QueryId = None, group: QueryId = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 50,
           offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
           sort: str = "relevance") -> dict[str, Any]:
    """Terms, ``field:term``, "phrases", AND/OR/NOT, wildcards (``gfp*``) and date ranges
    (``created:[2026-01-01 TO 2026-06-30]``); ``type`` (image, dataset, project, fileset,
    annotation), ``owner`` and ``group`` filter; ``sort`` is relevance, newest or
    oldest. Each hit: type, id, name, score, and a highlighted snippet of an
    attachment's text when it matched."""
    return index_of(vault_of(request)).search(
        actor, q, kinds=[t.rstrip("s") for t in type] if type else None, owner_id=owner,
        group_id=group, limit=limit, offset=offset, sort=sort)


@router.get("/search/fields")
def fields(actor: ActorDep, request: Request,
           prefix: Annotated[str, Query(max_length=100)] = "") -> dict[str, list[str]]:
    """Field names a query may use that start with ``prefix`` (a search box's completion):
    the index's fields, and the keys of the key-value annotations you may read."""
    return index_of(vault_of(request)).completions(actor, prefix)


@router.get("/search/status")
def status(actor: ActorDep, request: Request) -> dict[str, Any]:
    """The index's state, documents, position in the event log and lag."""
    found = index_of(vault_of(request)).status()
    return {"state": found.state, "documents": found.documents, "position": found.position,
            "newest_event": found.newest, "lag": found.lag, "index": found.index}
