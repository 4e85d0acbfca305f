"""An image's ROIs over the server's API: pages, GeoJSON files in and out (streamed)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixelvault.errors import InvalidInputError

if TYPE_CHECKING:
    from pixelvault.client.http import Http

CHUNK = 1 << 20
MAX_GEOJSON = 1 << 30  # the server's bound, checked before a byte is sent


@dataclass
class Rois:
    conn: Http

    def list(self, image_id: int, *, offset: int = 0, limit: int = 100, z: int | None = None,
             t: int | None = None,
             bbox: tuple[float, float, float, float] | None = None) -> dict[str, Any]:
        """A page of an image's ROIs: ``{"total", "offset", "limit", "rois"}``; ``z``,
        ``t`` and ``bbox`` (x0, y0, x1, y1) keep those with a shape there."""
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if z is not None:
            params["z"] = z
        if t is not None:
            params["t"] = t
        if bbox is not None:
            params["bbox"] = ",".join(str(v) for v in bbox)
        answer: dict[str, Any] = self.conn.request("GET", f"/api/v1/images/{image_id}/rois",
                                                   params=params)
        return answer

    def all(self, image_id: int, page: int = 500) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            found = self.list(image_id, offset=offset, limit=page)
            yield from found["rois"]
            offset += len(found["rois"])
            if not found["rois"] or offset >= found["total"]:
                return

    def get(self, roi_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.conn.request("GET", f"/api/v1/rois/{roi_id}")
        return answer

    def delete(self, roi_id: int) -> None:
        self.conn.request("DELETE", f"/api/v1/rois/{roi_id}")

    def export_geojson(self, image_id: int, target: Path, *, overwrite: bool = False) -> int:
        """Write the image's ROIs to ``target`` as GeoJSON (complete, or not there at all);
        the bytes written."""
        if target.exists() and not overwrite:
            raise InvalidInputError(f"{target} exists; choose another name or overwrite it")
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        written = 0
        try:
            with self.conn.stream("GET", f"/api/v1/images/{image_id}/rois.geojson") as answer, \
                    partial.open("wb") as out:
                for piece in answer.iter_bytes(CHUNK):
                    out.write(piece)
                    written += len(piece)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return written

    def import_geojson(self, image_id: int, source: Path) -> dict[str, int]:
        """Add a GeoJSON file's features to the image as ROIs (all of them, or none):
        ``{"rois", "shapes"}`` added."""
        size = source.stat().st_size
        if size > MAX_GEOJSON:
            raise InvalidInputError(f"{source} is {size} bytes; at most {MAX_GEOJSON >> 20} "
                                    "MiB at a time (split it by feature)")

        def pieces() -> Iterator[bytes]:
            with source.open("rb") as stream:
                while piece := stream.read(CHUNK):
                    yield piece

        answer: dict[str, int] = self.conn.request(
            "POST", f"/api/v1/images/{image_id}/rois.geojson", content=pieces(),
            headers={"Content-Type": "application/geo+json",
                     "Content-Length": str(size)})
        return answer
