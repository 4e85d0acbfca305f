"""The web application at ``/``: its page, its ES modules and the viewer library.

The front end lives in ``pixelvault/web`` (plain ES modules, no build step) and
talks only to the public APIs, as any other client. OpenLayers comes from the
npm registry, installed by ``make install`` (``npm ci`` against the lock file)
into ``web/node_modules``; it is served from there, never copied into the
repository. The pages get a policy that runs only this server's own scripts and
styles (no inline script, no framing); WebAssembly only for hashing uploads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response

from pixelvault.server.jsonbody import JsonBodyRoute

WEB = Path(__file__).resolve().parents[2] / "web"
APP = WEB / "app"
PAGE_POLICY = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {"content-security-policy": PAGE_POLICY, "x-frame-options": "DENY",
           "cache-control": "no-cache"}
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".svg": "image/svg+xml", ".html": "text/html; charset=utf-8"}
# What the page loads from the npm packages, by the name it asks for.
VENDOR = {"ol.js": ("ol", "dist/ol.js"), "ol.css": ("ol", "ol.css"),
          "sha1.js": ("hash-wasm", "dist/sha1.umd.min.js")}

router = APIRouter(include_in_schema=False, route_class=JsonBodyRoute)
NOT_INSTALLED = (f"the web application's npm packages are not installed; run `make install` "
                 f"(npm ci in {WEB})")


def missing_packages() -> str:
    """Why the page cannot work yet, or "" when every library it loads is there."""
    present = all((WEB / "node_modules" / package / inside).is_file()
                  for package, inside in VENDOR.values())
    return "" if present else NOT_INSTALLED


def _file(path: Path) -> Response:
    return FileResponse(path, media_type=TYPES[path.suffix], headers=HEADERS)


@router.get("/")
def page() -> Response:
    """Every view of the application is this page; the query (``?show=image-12``) says
    which, so each can be bookmarked and shared."""
    return _file(WEB / "index.html")


@router.get("/app/{name}")
def module(name: Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_-]{0,40}\.(js|css|svg)$")]
           ) -> Response:
    """One of the application's own files (a flat folder: a name can reach nothing else)."""
    path = APP / name
    if not path.is_file():
        return JSONResponse({"message": f"the web application has no file {name}"}, 404)
    return _file(path)


@router.get("/vendor/{name}")
def vendor(name: str) -> Response:
    if name not in VENDOR:
        return JSONResponse({"message": f"the web application loads no library {name!r}"},
                            404)
    package, inside = VENDOR[name]
    path = WEB / "node_modules" / package / inside
    if not path.is_file():
        return JSONResponse({"message": NOT_INSTALLED}, 503)
    return _file(path)
