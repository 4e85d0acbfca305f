"""The framework floor for benchmarks/api.py: a bare FastAPI app returning fixed JSON.

    PAYLOAD_DIR=/tmp/x uvicorn benchmarks.bare_app:app
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI()
_DIR = Path(os.environ.get("PAYLOAD_DIR", "."))
_ONE = (_DIR / "one.json").read_bytes() if (_DIR / "one.json").exists() else b"{}"
_PAGE = (_DIR / "page.json").read_bytes() if (_DIR / "page.json").exists() else b"{}"


@app.get("/api/v1/images/{image_id}")
def one(image_id: int) -> Response:
    return Response(_ONE, media_type="application/json")


@app.get("/api/v1/images")
def page(limit: int = 200) -> Response:
    return Response(_PAGE, media_type="application/json")
