"""JSON, or JSONP when the caller names a ``callback=``, as OMERO.web's ``@jsonp``
views answer: older viewers load imgData, luts and thumbnails by ``<script>``.

The callback must be a plain JavaScript identifier (OMERO.web's own rule), so a
crafted name cannot put script into the answer. JSONP is never answered to a
request carrying the session cookie: a ``<script>`` tag on any page of the same
site would send that cookie and read the user's data, past the CORS allow-list.
Public data (no session) and Bearer sessions, which a script tag cannot carry,
get it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pixelvault.errors import InvalidInputError
from pixelvault.server.auth import SESSION_COOKIE

IDENTIFIER = re.compile(r"[a-zA-Z_$][0-9a-zA-Z_$]{0,127}")


def answer(request: Request, data: Any) -> Response:
    callback = request.query_params.get("callback")
    if callback is None:
        return JSONResponse(data)
    if SESSION_COOKIE in request.cookies:
        raise InvalidInputError("JSONP (callback=) is not served to browser sessions; read "
                                "the JSON itself (pages elsewhere: server.cors_origins)")
    if not IDENTIFIER.fullmatch(callback):
        raise InvalidInputError("callback= must be a JavaScript name (letters, digits, _ "
                                "and $, not starting with a digit)")
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return Response(f"{callback}({text})", media_type="application/javascript")
