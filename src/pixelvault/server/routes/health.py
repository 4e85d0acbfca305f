"""`GET /health`: is the repository usable, and why not."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.monitor import RepositoryMonitor

router = APIRouter(route_class=JsonBodyRoute)


@router.get("/health", tags=["admin"], summary="Repository and server health")
async def health(request: Request) -> JSONResponse:
    """200 while the repository is usable (also when low on space), 503 otherwise."""
    monitor: RepositoryMonitor = request.app.state.monitor
    result = await run_in_threadpool(monitor.evaluate)
    return JSONResponse(result.body, status_code=200 if result.usable else 503,
                        headers={"Cache-Control": "no-store"})
