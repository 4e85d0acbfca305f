"""Security headers on every response, errors and 404s included.

The API answers JSON, images, arrays and users' files. A browser must never
sniff one of those into HTML (an attachment named ``x.png`` that holds a
script), nor run anything, nor frame it: ``nosniff`` and a Content-Security-
Policy that allows nothing. Only the interactive documentation is a page with
scripts of its own, from FastAPI's CDN; it gets a policy allowing just those.

This is plain ASGI rather than a ``BaseHTTPMiddleware`` so that streamed
downloads pass through untouched, and it also turns an unhandled exception
into a JSON 500 carrying the same headers (the 500 Starlette would send sits
outside every middleware and would carry none).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI (/docs) and ReDoc (/redoc) as FastAPI serves them: a script and
# styles from jsDelivr, one inline script that starts them, fonts for ReDoc,
# and requests to this server only.
DOCS_POLICY = (
    "default-src 'none'; "
    "script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


def _headers(path: str) -> list[tuple[bytes, bytes]]:
    policy = DOCS_POLICY if path in DOCS_PATHS else API_POLICY
    return [(b"x-content-type-options", b"nosniff"),
            (b"content-security-policy", policy.encode("ascii")),
            (b"referrer-policy", b"no-referrer")]


class SecurityHeaders:
    """Adds the headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, process: int | None = None) -> None:
        self.app = app
        # which of several server processes answered: load balancers and their logs,
        # and tests that must reach a given one
        self.own: list[tuple[bytes, bytes]] = [] if process is None else [
            (b"x-pixelvault-process", str(process).encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _headers(scope.get("path", "")) + self.own
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            body = json.dumps({"message": "internal error; the server log has the details"})
            await send_with_headers({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii"))]})
            await send_with_headers({"type": "http.response.body", "body": body.encode()})
            raise  # for the server's log (and the test client)
