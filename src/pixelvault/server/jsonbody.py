"""JSON request bodies, nested at most :data:`MAX_DEPTH` levels deep.

Python's JSON parser recurses once per level: a body of 100,000 ``[`` exhausts
the stack before any model sees it, and one just under that limit is too deep
for the code that walks or stores it afterwards. No request of ours needs more
than a few levels, so every JSON body is measured, without parsing it, before
it is parsed: by :class:`JsonBodyRoute` for the routes whose body FastAPI reads,
and by :func:`loads` for routes that read their body themselves. The same two
refuse text that JSON can carry but no catalog can store (NUL, half a surrogate
pair), which would otherwise fail deep inside the database driver.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import numpy as np
from fastapi import params
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from pixelvault.errors import InvalidInputError

MAX_DEPTH = 64
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = np.zeros(256, np.int8)
_OPENING[[ord("["), ord("{")]] = 1
_STEP = _OPENING * 2 - 1  # +1 for [ and {, -1 for ] and }
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def check_depth(body: bytes) -> None:
    """InvalidInputError if ``body`` opens more than MAX_DEPTH arrays and objects at once
    (brackets inside strings do not count); linear time, whatever the body."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return
    steps = _STEP[np.frombuffer(brackets, np.uint8)].astype(np.int32)
    if int(np.cumsum(steps).max()) > MAX_DEPTH:
        raise InvalidInputError(f"the JSON body nests more than {MAX_DEPTH} levels of "
                                "arrays and objects; send a flatter body")


def _strings(value: Any) -> Iterator[str]:
    """Every key and string value (recursion is safe: the depth was checked first)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def check_text(body: bytes) -> None:
    """InvalidInputError if a string holds NUL or half a surrogate pair (``\\u0000``,
    ``\\ud800``): JSON may carry them, but PostgreSQL's text and UTF-8 cannot. Only
    bodies with such an escape are parsed to look (after :func:`check_depth`)."""
    if _SUSPECT.search(body) is None:
        return
    try:
        value = json.loads(body)
    except ValueError:
        return  # not JSON: the parser that reads it says so
    for text in _strings(value):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError("a string in the JSON body holds half of a UTF-16 "
                                    "surrogate pair; send whole characters") from None
        if "\x00" in text:
            raise InvalidInputError("a string in the JSON body holds a NUL character "
                                    "(\\u0000); remove it")


def check(body: bytes) -> None:
    """What every JSON body must pass before it is parsed for a route."""
    check_depth(body)
    check_text(body)


def loads(body: bytes) -> Any:
    """The body's JSON; InvalidInputError (a 400) if it is not JSON, nests too deep or
    holds text no database stores."""
    check(body)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInputError("the body is not JSON; send a JSON document") from None


class JsonBodyRoute(APIRoute):
    """A route that checks its JSON body (:func:`check`) before FastAPI parses it, which
    would meet a RecursionError first. Bodies FastAPI does not parse (forms, files
    streamed to disk) are left alone."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        field = self.body_field
        if field is None or isinstance(field.field_info, params.Form):
            return handler

        async def measured(request: Request) -> Response:
            check(await request.body())
            return await handler(request)

        return measured
