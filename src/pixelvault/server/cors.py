"""Cross-origin reads for the origins a facility lists (``server.cors_origins``).

Viewers served from another host (vizarr, neuroglancer, OMERO.figure's Zarr
panels, a lab's own page) read images with the user's session; a browser lets
them only if the answer names their origin. Only the listed origins are named,
and only on the routes meant for such readers (``/api/``, ``/webgateway/``,
``/zarr/``): any other origin gets no CORS headers, so its page can read
nothing, and a preflight from it is refused. Nothing is allowed with ``*``.

Sessions travel in the ``Authorization`` header (the session cookie is
``SameSite=Strict`` and a cross-site page never sends it), so that header is
allowed, with ``Range`` for byte ranges of Zarr chunks and files.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIXES = ("/api/", "/webgateway/", "/zarr/")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
HEADERS = ["Authorization", "Content-Type", "Range", "X-CSRFToken", "If-None-Match"]
EXPOSED = ["ETag", "Content-Range", "Content-Length", "Accept-Ranges", "Retry-After",
           "Content-Disposition"]


class Cors:
    """Starlette's CORS middleware, on the cross-origin routes only."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.origins = frozenset(origin.encode("latin-1") for origin in origins)
        self.cors = CORSMiddleware(app, allow_origins=list(origins), allow_credentials=True,
                                   allow_methods=METHODS, allow_headers=HEADERS,
                                   expose_headers=EXPOSED, max_age=600)

    def _applies(self, scope: Scope) -> bool:
        """A listed origin on a cross-origin route, or any preflight there (refused by the
        middleware unless listed); an unlisted origin's plain request gets no header."""
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIXES):
            return False
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is None:
            return False
        preflight = (scope.get("method") == "OPTIONS"
                     and b"access-control-request-method" in headers)
        return preflight or origin in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._applies(scope):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
