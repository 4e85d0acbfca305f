"""PixelvaultError -> JSON ``{"message": ...}`` with its HTTP status; never a traceback."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pixelvault.errors import PixelvaultError


def install(app: FastAPI) -> None:
    @app.exception_handler(PixelvaultError)
    async def _pixelvault_error(_request: Request, exc: PixelvaultError) -> JSONResponse:
        return JSONResponse({"message": exc.message}, status_code=exc.http_status)
