"""A logged-in connection to a pixelvault server, over httpx.

    from pixelvault.client import connect
    conn = connect("http://127.0.0.1:4080", "alice", "secret")
    conn.projects.list()

Errors come back as pixelvault's own exceptions with the server's message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pixelvault.client import transfer
from pixelvault.client.http import Http
from pixelvault.client.objects import Containers, Groups, Images, Users
from pixelvault.client.plates import Plates
from pixelvault.client.rois import Rois
from pixelvault.targets import parse_target


class Connection(Http):
    """Everything a user does with one server: the HTTP layer plus each kind of object."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        super().__init__(base_url, token, timeout)
        self.projects = Containers(self, "projects")
        self.datasets = Containers(self, "datasets")
        self.images = Images(self, "images")
        self.users = Users(self)
        self.groups = Groups(self)
        self.rois = Rois(self)
        self.plates = Plates(self)

    def login(self, username: str, password: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request(
            "POST", "/api/v1/login", json={"username": username, "password": password})
        self.token = answer["token"]
        return answer

    def logout(self) -> None:
        if self.token:
            self.request("POST", "/api/v1/logout")
            self.token = None

    def whoami(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", "/api/v1/whoami")
        return answer

    def sessions(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.request("GET", "/api/v1/sessions")
        return answer

    def end_session(self, session_id: int) -> None:
        self.request("DELETE", f"/api/v1/sessions/{session_id}")

    def switch_group(self, group_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("PUT", "/api/v1/whoami/group",
                                              json={"group_id": group_id})
        return answer

    def annotation(self, annotation_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", f"/api/v1/annotations/{annotation_id}")
        return answer

    def delete_annotation(self, annotation_id: int) -> None:
        self.request("DELETE", f"/api/v1/annotations/{annotation_id}")

    def download(self, file_id: int, target: str | Path | IO[bytes],
                 progress: transfer.Progress | None = None, *,
                 overwrite: bool = False) -> dict[str, str]:
        """Save an original file (an attachment's bytes) to ``target``, a path or a
        binary stream, checking the server's checksum; returns name, path and hash.
        An existing file is only replaced with ``overwrite``."""
        return transfer.download(self, file_id, target, progress, overwrite=overwrite)

    def delete(self, target: str) -> None:
        """Delete ``Project:ID``, ``Dataset:ID``, ``Image:ID``, ``Fileset:ID``, ``Plate:ID``
        or ``Screen:ID`` (OMERO's form); a fileset goes with all its images and files, a
        plate with its wells and fields, a screen with the plates only it holds."""
        kind, object_id = parse_target(target, ("Project", "Dataset", "Image", "Fileset",
                                                "Plate", "Screen"))
        self.request("DELETE", f"/api/v1/{kind}s/{object_id}")

    def import_(self, *paths: str | Path, dataset: str | int | None = None,
                name: str | None = None, description: str | None = None,
                minmax: bool = True, algorithm: str = "SHA1-160",
                progress: Callable[[int], None] | None = None,
                transfer: str = "upload", thumbnails: bool = True) -> dict[str, Any]:
        """Import files and directories through the server (see ``client.importing``);
        administrators whose files the server sees may take them in place
        (``transfer="ln_s"``, ``"ln"``, ``"cp"``, ``"cp_rm"``, ``"ln_rm"``)."""
        from pixelvault.client import importing

        return importing.import_paths(self, paths, dataset=dataset, name=name,
                                      description=description, minmax=minmax,
                                      algorithm=algorithm, progress=progress,
                                      transfer=transfer, thumbnails=thumbnails)

    def pixels(self, image_id: int, *, z: int = 0, c: int = 0, t: int = 0, x: int = 0,
               y: int = 0, w: int | None = None, h: int | None = None,
               level: int = 0) -> Any:
        """A region of one plane as a numpy array (level 0 is full resolution; the whole
        plane when x, y, w, h are left out). A level still being built raises
        ``PendingError`` with ``retry_after`` seconds and its ``progress``."""
        from pixelvault.client import pixels

        return pixels.read(self, image_id, z=z, c=c, t=t, x=x, y=y, w=w, h=h, level=level)

    def pixels_info(self, image_id: int) -> dict[str, Any]:
        """Sizes, type, levels (built and planned) and the pyramid job of an image."""
        answer: dict[str, Any] = self.request("GET", f"/api/v1/images/{image_id}/pixels/info")
        return answer

    def create_image(self, array: Any, *, dims: str = "TCZYX", name: str,
                     dataset: int | None = None, **details: Any) -> int:
        """A new image from a numpy array with axes ``dims`` (e.g. "YX", "CYX", "TCZYX");
        sent plane by plane; returns its id. ``details``: description, channel_names,
        physical_size_x/y/z (micrometres), time_increment (seconds)."""
        from pixelvault.client import pixels

        return pixels.create(self, array, dims=dims, name=name, dataset=dataset, **details)

    def write_pixels(self, image_id: int, plane: Any, *, z: int = 0, c: int = 0, t: int = 0,
                     x: int = 0, y: int = 0) -> None:
        """Write a region of a created image (for data larger than memory, plane by
        plane); finish with ``finish_image``."""
        from pixelvault.client import pixels

        pixels.write(self, image_id, plane, z=z, c=c, t=t, x=x, y=y)

    def finish_image(self, image_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("POST",
                                              f"/api/v1/images/{image_id}/pixels/finish")
        return answer

    def export(self, image_id: int, target: str | Path, fmt: str = "ome-tiff", *,
               overwrite: bool = False) -> Path:
        """Save an image as a pyramidal OME-TIFF (``fmt="ome-tiff"``) or OME-Zarr 0.5
        directory (``"ome-zarr"``)."""
        from pixelvault.client import pixels

        return pixels.export(self, image_id, target, fmt, overwrite=overwrite)

    def export_plate(self, plate_id: int, target: str | Path, *,
                     overwrite: bool = False) -> Path:
        """Save a plate as an OME-Zarr 0.5 plate directory (every field with its pyramid)."""
        from pixelvault.client import pixels

        return pixels.export(self, plate_id, target, "ome-zarr", overwrite=overwrite,
                             kind="plate")

    def rendering(self, image_id: int) -> dict[str, Any]:
        """The rendering settings you see for an image (yours, else its owner's, else the
        defaults): model, default z and t, projection, and per channel active, start,
        end, color (RRGGBB), lut and inverted."""
        answer: dict[str, Any] = self.request("GET", f"/api/v1/images/{image_id}/rendering")
        return answer

    def set_rendering(self, image_id: int, settings: dict[str, Any]) -> dict[str, Any]:
        """Save settings as yours (fields left out keep what you see now)."""
        answer: dict[str, Any] = self.request("PUT", f"/api/v1/images/{image_id}/rendering",
                                              json=settings)
        return answer

    def reset_rendering(self, image_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("DELETE",
                                              f"/api/v1/images/{image_id}/rendering")
        return answer

    def copy_rendering(self, source: int, targets: list[int]) -> list[int]:
        answer: dict[str, Any] = self.request("POST", "/api/v1/rendering/copy",
                                              json={"source": source, "targets": targets})
        return list(answer["targets"])

    def thumbnail(self, image_id: int, size: int | None = None) -> bytes:
        """The JPEG thumbnail (96 pixels on the longest side unless ``size``)."""
        params = {} if size is None else {"size": size}
        return self.raw("GET", f"/api/v1/images/{image_id}/thumbnail", params=params).content

    def search(self, query: str, *, types: list[str] | None = None, owner: int | None = None,
               group: int | None = None, limit: int = 50, offset: int = 0,
               sort: str = "relevance", full: bool = False) -> Any:
        """Full-text search: the hits (each a dict with type, id, name, score and, for
        matched attachments, a snippet); with ``full``, also total, offset and limit."""
        params: dict[str, Any] = {"q": query, "limit": limit, "offset": offset, "sort": sort}
        if types:
            params["type"] = types
        if owner is not None:
            params["owner"] = owner
        if group is not None:
            params["group"] = group
        answer: dict[str, Any] = self.request("GET", "/api/v1/search", params=params)
        return answer if full else answer["hits"]

    def jobs(self) -> list[dict[str, Any]]:
        """Pyramid jobs of the images you may read (administrators: all)."""
        answer: list[dict[str, Any]] = self.request("GET", "/api/v1/jobs")
        return answer

    def cancel_job(self, job_id: int) -> dict[str, Any]:
        """Stop a pending or running pyramid job (the image's owner, or an administrator)."""
        answer: dict[str, Any] = self.request("POST", f"/api/v1/jobs/{job_id}/cancel")
        return answer

    def imports(self) -> list[dict[str, Any]]:
        """Imports under way on the server (yours; administrators: everyone's)."""
        answer: list[dict[str, Any]] = self.request("GET", "/api/v1/imports")
        return answer

    def import_status(self, upload_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", f"/api/v1/imports/{upload_id}")
        return answer

    def chgrp(self, targets: list[str], group_id: int, *,
              dry_run: bool = False) -> dict[str, Any]:
        """Move objects (``["Project:51", "Image:3"]``) and what they contain to a group."""
        answer: dict[str, Any] = self.request("POST", "/api/v1/chgrp", json={
            "targets": targets, "group_id": group_id, "dry_run": dry_run})
        return answer

    def chown(self, targets: list[str], user_id: int, *,
              dry_run: bool = False) -> dict[str, Any]:
        """Give objects and what their owners own inside them to another user."""
        answer: dict[str, Any] = self.request("POST", "/api/v1/chown", json={
            "targets": targets, "user_id": user_id, "dry_run": dry_run})
        return answer

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(base_url: str, username: str, password: str) -> Connection:
    """Log in and return the connection (three lines in a notebook)."""
    conn = Connection(base_url)
    conn.login(username, password)
    return conn
