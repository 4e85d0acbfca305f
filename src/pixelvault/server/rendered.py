"""What the rendered-image routes share, OMERO.web's URLs and the native API alike:
the query as OMERO reads it (first value of each key), the answer with its ETag
(a 304 when the client's copy is current), thumbnails and lists of image ids."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request, Response

from pixelvault.errors import InvalidInputError
from pixelvault.server.auth import vault_of
from pixelvault.services.rendering import images, thumbnails
from pixelvault.services.rendering import settings as rendering
from pixelvault.targets import parse_id

CACHE_CONTROL = "private, no-cache"  # revalidate: the ETag answers 304 when unchanged
CACHE_HEADER = "X-Pixelvault-Cache"  # whether the rendered-tile cache had the answer


def query_of(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        found.setdefault(key, value)
    return found


def answer(rendered: images.Rendered) -> Response:
    headers = {"ETag": rendered.etag, "Cache-Control": CACHE_CONTROL}
    if rendered.not_modified:
        return Response(status_code=304, headers=headers)
    headers[CACHE_HEADER] = "hit" if rendered.cached else "miss"
    return Response(rendered.data, media_type=rendered.media_type, headers=headers)


def _max_region(request: Request) -> int:
    return vault_of(request).settings.max_region


def region(request: Request, actor: Any, image_id: int, z: int | None,
            t: int | None) -> Response:
    return answer(images.region(vault_of(request), actor, image_id, z, t, query_of(request),
                                 _max_region(request), request.headers.get("if-none-match")))


def plane(request: Request, actor: Any, image_id: int, z: int | None,
           t: int | None) -> Response:
    return answer(images.plane(vault_of(request), actor, image_id, z, t, query_of(request),
                                _max_region(request), request.headers.get("if-none-match")))


def thumbnail(request: Request, actor: Any, image_id: int, width: int | None,
               height: int | None) -> Response:
    data = thumbnails.get(vault_of(request), actor, image_id, width, height)
    etag = '"' + hashlib.sha1(data, usedforsecurity=False).hexdigest()[:24] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/jpeg", headers=headers)


def image_ids(request: Request) -> list[int]:
    ids = []
    for value in request.query_params.getlist("id"):
        number = parse_id(value)
        if number is None:
            raise InvalidInputError(f"id={value[:20]!r} is not an image id")
        ids.append(number)
    if not ids:
        raise InvalidInputError("name the images: ?id=1&id=2")
    if len(ids) > 500:
        raise InvalidInputError(f"{len(ids)} ids; at most 500 per call")
    return ids


def effective_json(found: rendering.Effective) -> dict[str, Any]:
    return {"image": found.image_id, "owner_id": found.owner_id, "version": found.version,
            **rendering.as_json(found.settings)}


