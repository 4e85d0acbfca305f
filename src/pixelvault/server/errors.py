"""Errors as JSON ``{"message": ...}`` with their HTTP status; never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pixelvault.errors import (
    AuthenticationError,
    PendingError,
    PixelvaultError,
    TooManyAttemptsError,
)
from pixelvault.server.params import MAX_BODY


def _where(error: Mapping[str, Any]) -> str:
    location: Sequence[object] = error.get("loc") or ()
    parts = [str(p) for p in location if p not in ("body", "query", "path")]
    return ".".join(parts) or "request"


log = logging.getLogger(__name__)
CATALOG_RETRY = 5  # seconds a client is asked to wait while the catalog is away


def install(app: FastAPI) -> None:
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _catalog_away(request: Request, exc: Exception) -> JSONResponse:
        """The database went away (or SQLite stayed locked): 503 and a wait, not a 500.
        Its words (host names, addresses) go to the log, not to the client."""
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()
        log.warning("catalog unavailable for %s %s: %s", request.method, request.url.path,
                    reason[0][:300] if reason else type(exc).__name__)
        return JSONResponse(
            {"message": "the catalog is unavailable; try again in "
                        f"{CATALOG_RETRY} seconds"},
            status_code=503, headers={"Retry-After": str(CATALOG_RETRY)})

    @app.exception_handler(PixelvaultError)
    async def _pixelvault_error(_request: Request, exc: PixelvaultError) -> JSONResponse:
        headers = {}
        if isinstance(exc, AuthenticationError):
            headers["WWW-Authenticate"] = "Bearer"
        body: dict[str, Any] = {"message": exc.message}
        if isinstance(exc, TooManyAttemptsError | PendingError):
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, PendingError) and exc.progress is not None:
            body["progress"] = round(exc.progress, 4)
        return JSONResponse(body, status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{_where(e)}: {e.get('msg', 'invalid')}" for e in exc.errors()[:5])
        return JSONResponse({"message": f"invalid request: {problems}"}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 413:
            message = (f"request body too large: JSON and forms hold at most "
                       f"{MAX_BODY >> 20} MiB; send files as the body of an attachments route")
        elif exc.status_code == 400 and message == "There was an error parsing the body":
            message = "the body is not JSON (bytes that are not UTF-8?); send a JSON document"
        return JSONResponse({"message": message}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
