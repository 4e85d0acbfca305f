"""JSON, or JSONP when the caller names a ``callback=``, as OMERO.web's ``@jsonp``
views answer: older viewers load imgData, luts and thumbnails by ``<script>``.

The callback must be a plain JavaScript identifier (OMERO.web's own rule), so a
crafted name cannot put script into the answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pixelvault.errors import InvalidInputError

IDENTIFIER = re.compile(r"[a-zA-Z_$][0-9a-zA-Z_$]{0,127}")


def answer(request: Request, data: Any) -> Response:
    callback = request.query_params.get("callback")
    if callback is None:
        return JSONResponse(data)
    if not IDENTIFIER.fullmatch(callback):
        raise InvalidInputError("callback= must be a JavaScript name (letters, digits, _ "
                                "and $, not starting with a digit)")
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return Response(f"{callback}({text})", media_type="application/javascript")
