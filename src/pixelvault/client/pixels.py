"""Pixels through the server as numpy arrays: regions at any level, images created from
arrays (sent plane by plane, or in bands of rows for planes larger than a request),
exports and pyramid jobs. numpy is imported here only, when these are used."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixelvault import errors

if TYPE_CHECKING:
    import numpy as np

    from pixelvault.client.http import Http

AXES = "TCZYX"
BAND_BYTES = 64 << 20  # one PUT at most: well below the server's pixels.max_request


def read(conn: Http, image_id: int, *, z: int = 0, c: int = 0, t: int = 0, x: int = 0,
         y: int = 0, w: int | None = None, h: int | None = None,
         level: int = 0) -> np.ndarray[Any, Any]:
    import numpy as np

    params: dict[str, Any] = {"z": z, "c": c, "t": t, "x": x, "y": y, "level": level,
                              "format": "npy"}
    if w is not None:
        params["w"] = w
    if h is not None:
        params["h"] = h
    content = conn.raw("GET", f"/api/v1/images/{image_id}/pixels", params=params).content
    loaded: np.ndarray[Any, Any] = np.load(io.BytesIO(content), allow_pickle=False)
    return loaded


def _arrange(array: np.ndarray[Any, Any], dims: str) -> np.ndarray[Any, Any]:
    """``array`` with axes ``dims`` (any order of T, C, Z, Y, X; missing ones are 1) as
    T, C, Z, Y, X."""
    dims = dims.upper()
    if len(dims) != array.ndim or len(set(dims)) != len(dims) or set(dims) - set(AXES) \
            or not {"X", "Y"} <= set(dims):
        raise errors.InvalidInputError(
            f"dims {dims!r} must name each of the array's {array.ndim} axes once, from "
            "T, C, Z, Y and X, with Y and X among them")
    for axis in AXES:
        if axis not in dims:
            array = array[None]
            dims = axis + dims
    return array.transpose([dims.index(a) for a in AXES])


def create(conn: Http, array: np.ndarray[Any, Any], *, dims: str = "TCZYX",
           name: str, dataset: int | None = None, description: str = "",
           channel_names: list[str] | None = None, physical_size_x: float | None = None,
           physical_size_y: float | None = None, physical_size_z: float | None = None,
           time_increment: float | None = None) -> int:
    """A new image holding ``array``; its id. Large images get a pyramid like imports."""
    from pixelvault.formats.base import pixel_type_of

    data = _arrange(array, dims)
    size_t, size_c, size_z, size_y, size_x = data.shape
    made = conn.request("POST", "/api/v1/images", json={
        "name": name, "description": description, "size_x": size_x, "size_y": size_y,
        "size_z": size_z, "size_c": size_c, "size_t": size_t,
        "pixel_type": pixel_type_of(data.dtype, "the array"),
        "channel_names": channel_names or [], "dataset": dataset,
        "physical_size_x": physical_size_x, "physical_size_y": physical_size_y,
        "physical_size_z": physical_size_z, "time_increment": time_increment})
    image_id = int(made["id"])
    for t in range(size_t):
        for c in range(size_c):
            for z in range(size_z):
                write(conn, image_id, data[t, c, z], z=z, c=c, t=t)
    conn.request("POST", f"/api/v1/images/{image_id}/pixels/finish")
    return image_id


def write(conn: Http, image_id: int, plane: np.ndarray[Any, Any], *, z: int = 0,
          c: int = 0, t: int = 0, x: int = 0, y: int = 0) -> None:
    """Write a (rows, columns) region, in bands of rows small enough for one request."""
    import numpy as np

    height, width = plane.shape
    rows = max(1, BAND_BYTES // max(1, width * plane.dtype.itemsize))
    for top in range(0, height, rows):
        band = np.ascontiguousarray(plane[top:top + rows], dtype=plane.dtype.newbyteorder("<"))
        conn.request("PUT", f"/api/v1/images/{image_id}/pixels", params={
            "z": z, "c": c, "t": t, "x": x, "y": y + top, "w": width, "h": band.shape[0],
            "order": "little"}, content=band.tobytes(),
            headers={"Content-Type": "application/octet-stream"})


def export(conn: Http, image_id: int, target: str | Path, fmt: str = "ome-tiff", *,
           overwrite: bool = False, kind: str = "image") -> Path:
    """Save the image as a pyramidal OME-TIFF file or an OME-Zarr directory (a plate:
    ``kind="plate"``, as an OME-Zarr plate directory)."""
    path = Path(target).expanduser()
    if path.exists() and not overwrite:
        raise errors.InvalidInputError(f"{path} exists; choose another name or pass --force")
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with conn.stream("GET", f"/api/v1/{kind}s/{image_id}/export",
                         params={"format": fmt}) as response, temp.open("wb") as handle:
            for chunk in response.iter_bytes(4 << 20):
                handle.write(chunk)
        if fmt == "ome-zarr":
            folder = path.with_name(f".{path.name}.{os.getpid()}.dir")
            with zipfile.ZipFile(temp) as archive:
                for member in archive.namelist():  # our own archive, but never trust paths
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise errors.CorruptFileError(f"the export holds {member!r}")
                archive.extractall(folder)
            temp.unlink()
            if path.is_dir() and not path.is_symlink():
                import shutil

                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            folder.rename(path)
        else:
            temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return path
