"""Every image as a read-only OME-Zarr 0.5 (Zarr v3) group, whatever holds its pixels.

``zarr.json`` of the group carries ``ome.multiscales`` (the levels built so far,
full resolution first, axes t, c, z, y, x) and ``ome.omero`` (the channels with the
reader's rendering settings); each level is an array of 512x512 chunks, zstd.
Chunks of a generated pyramid are sent as stored (no decode); others are read
from their backend (originals, created images, OMERO raw files), padded to the
chunk shape and compressed on the way. Permission checks are the same as for
every other read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixelvault.catalog import Actor
from pixelvault.errors import NotFoundError
from pixelvault.formats.ngff_write import AXES, CHUNK, group_metadata
from pixelvault.formats.ngff_write import Image as NgffImage
from pixelvault.formats.zarr_shards import Layout, encode_chunk
from pixelvault.services.pixels.access import PixelsInfo, buffer_for
from pixelvault.services.pixels.backends import ZarrBackend
from pixelvault.services.pixels.buffer import PixelBuffer
from pixelvault.services.rendering import images
from pixelvault.services.rendering import settings as rendering
from pixelvault.services.vault import Vault


@dataclass(frozen=True)
class Level:
    index: int
    layout: Layout
    stored: Any | None  # a ShardReader whose chunks are served as they are


def _levels(buffer: PixelBuffer, info: PixelsInfo) -> list[Level]:
    backend = buffer.backend
    found = []
    for index, (size_x, size_y) in enumerate(backend.levels):
        shape = (info.size_t, info.size_c, info.size_z, size_y, size_x)
        if isinstance(backend, ZarrBackend):
            reader = backend.readers[index]
            found.append(Level(index, reader.layout, reader))
            continue
        chunk = (1, 1, 1, min(CHUNK, size_y), min(CHUNK, size_x))
        found.append(Level(index, Layout(shape, chunk, chunk, buffer.dtype), None))
    return found


def _open(vault: Vault, actor: Actor, image_id: int) -> tuple[PixelsInfo, PixelBuffer]:
    info = images.INFO.get(vault, actor, image_id)
    return info, buffer_for(vault, info)


def version(vault: Vault, actor: Actor, image_id: int) -> str:
    """What changes when anything the group serves changes (for ETags)."""
    info, buffer = _open(vault, actor, image_id)
    effective = rendering.effective(vault, actor, image_id)
    # the creation time: a deleted image's id comes back on SQLite, its chunks do not
    text = f"{image_id}-{info.created}-{info.version}-{len(buffer.backend.levels)}-" \
        f"{effective.settings.key}"
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:24]


def group(vault: Vault, actor: Actor, image_id: int) -> dict[str, Any]:
    info, buffer = _open(vault, actor, image_id)
    effective = rendering.effective(vault, actor, image_id)
    from sqlalchemy import select

    from pixelvault.catalog.models import Channel, Pixels

    with vault.catalog.session() as session:
        pixels = session.scalar(select(Pixels).where(Pixels.id == info.pixels_id))
        names = session.scalars(select(Channel.name).where(
            Channel.pixels_id == info.pixels_id).order_by(Channel.index)).all()
    assert pixels is not None
    image = NgffImage(info.size_x, info.size_y, info.size_z, info.size_c, info.size_t,
                      buffer.dtype, name=info.name, physical_size_x=pixels.physical_size_x,
                      physical_size_y=pixels.physical_size_y,
                      physical_size_z=pixels.physical_size_z,
                      time_increment=pixels.time_increment,
                      channel_names=[n or f"C{i}" for i, n in enumerate(names)],
                      channel_colours=[c.color for c in effective.settings.channels])
    meta = group_metadata(image, list(buffer.backend.levels),
                          [(c.start, c.end) for c in effective.settings.channels])
    omero = meta["attributes"]["ome"]["omero"]
    low, high = rendering.type_range(info.pixel_type)
    for channel, settings in zip(omero["channels"], effective.settings.channels, strict=True):
        channel["active"] = settings.active
        channel["inverted"] = settings.inverted
        channel["window"] = {"start": settings.start, "end": settings.end, "min": low,
                             "max": high}
    omero["rdefs"] = {"model": effective.settings.model,
                      "defaultZ": effective.settings.default_z,
                      "defaultT": effective.settings.default_t}
    return meta


def array(vault: Vault, actor: Actor, image_id: int, level: int) -> dict[str, Any]:
    info, buffer = _open(vault, actor, image_id)
    levels = _levels(buffer, info)
    if not 0 <= level < len(levels):
        raise NotFoundError(f"image {image_id} has levels 0..{len(levels) - 1} now")
    return levels[level].layout.metadata(AXES, sharded=False)


def chunk(vault: Vault, actor: Actor, image_id: int, level: int,
          key: tuple[int, ...]) -> bytes | None:
    """A chunk's bytes; None for one outside the array (a Zarr client reads it as fill)."""
    info, buffer = _open(vault, actor, image_id)
    levels = _levels(buffer, info)
    if not 0 <= level < len(levels) or len(key) != 5:
        return None
    found = levels[level]
    layout = found.layout
    if any(not 0 <= k < n for k, n in zip(key, layout.chunk_grid, strict=True)):
        return None
    if found.stored is not None:
        stored: bytes | None = found.stored.raw_chunk(key)
        return stored
    t, c, z, cy, cx = key
    height, width = layout.chunk[3], layout.chunk[4]
    y, x = cy * height, cx * width
    size_y, size_x = layout.shape[3], layout.shape[4]
    region = buffer.backend.read(level, z, c, t, x, y, min(width, size_x - x),
                                 min(height, size_y - y))
    return encode_chunk(layout, np.asarray(region)[None, None, None])


# --- plates ---------------------------------------------------------------------------

def _plate_names(plate: Any) -> tuple[list[str], list[str]]:
    from pixelvault.formats.plates import label

    return ([label(r, plate.row_naming) for r in range(plate.rows)],
            [label(c, plate.column_naming) for c in range(plate.columns)])


def plate_group(vault: Vault, actor: Actor, plate_id: int) -> dict[str, Any]:
    """A plate as OME-Zarr 0.5 lays it out: its rows, columns, wells (``row/column``) and
    runs; every field is an image group below its well."""
    from sqlalchemy import func, select

    from pixelvault.catalog import Right
    from pixelvault.catalog.models import Image, Plate, PlateAcquisition, Well, WellSample
    from pixelvault.catalog.permissions import allowed
    from pixelvault.services.objects import plates

    with vault.catalog.session() as session:
        plate = plates.get(session, actor, Plate, plate_id, "plate")
        rows, columns = _plate_names(plate)
        # only wells with a field (and its image) the reader may see: a Zarr client
        # reads every well the plate lists
        seen = select(WellSample.well_id, WellSample.field).join(
            Image, Image.id == WellSample.image_id).where(
            allowed(actor, Right.READ, WellSample), allowed(actor, Right.READ, Image))
        wells = session.execute(select(Well.row, Well.column).where(
            Well.plate_id == plate_id, allowed(actor, Right.READ, Well),
            Well.id.in_(seen.with_only_columns(WellSample.well_id))).order_by(
            Well.row, Well.column)).all()
        runs = session.scalars(select(PlateAcquisition).where(
            PlateAcquisition.plate_id == plate_id,
            allowed(actor, Right.READ, PlateAcquisition)).order_by(PlateAcquisition.id)).all()
        most = session.scalar(select(func.max(WellSample.field)).join(
            Well, Well.id == WellSample.well_id).join(
            Image, Image.id == WellSample.image_id).where(
            Well.plate_id == plate_id, allowed(actor, Right.READ, WellSample),
            allowed(actor, Right.READ, Image)))
    described: dict[str, Any] = {
        "version": "0.5", "name": plate.name, "field_count": (most or 0) + 1,
        "rows": [{"name": r} for r in rows], "columns": [{"name": c} for c in columns],
        "wells": [{"path": f"{rows[r]}/{columns[c]}", "rowIndex": r, "columnIndex": c}
                  for r, c in wells if r < len(rows) and c < len(columns)]}
    if runs:
        described["acquisitions"] = [
            {"id": run.id, "name": run.name or f"Run {run.id}",
             **({"maximumfieldcount": run.maximum_field_count}
                if run.maximum_field_count else {}),
             **({"starttime": int(run.start_time.timestamp() * 1000)}
                if run.start_time else {}),
             **({"endtime": int(run.end_time.timestamp() * 1000)} if run.end_time else {})}
            for run in runs]
    return {"zarr_format": 3, "node_type": "group",
            "attributes": {"ome": {"version": "0.5", "plate": described}}}


def _well(vault: Vault, actor: Actor, plate_id: int, row: str, column: str) -> list[Any]:
    """The fields (readable well samples, in order) of the well at ``row``/``column``."""
    from sqlalchemy import select

    from pixelvault.catalog.models import Plate, Well
    from pixelvault.services.objects import plates

    with vault.catalog.session() as session:
        plate = plates.get(session, actor, Plate, plate_id, "plate")
        rows, columns = _plate_names(plate)
        if row not in rows or column not in columns:
            raise NotFoundError(f"plate {plate_id} has no well {row}/{column}")
        well_id = session.scalar(select(Well.id).where(
            Well.plate_id == plate_id, Well.row == rows.index(row),
            Well.column == columns.index(column)))
        fields = plates.fields_of(session, actor, [well_id]).get(well_id, []) \
            if well_id is not None else []
    if not fields:
        raise NotFoundError(f"plate {plate_id} has no well {row}/{column}")
    return fields


def well_group(vault: Vault, actor: Actor, plate_id: int, row: str,
               column: str) -> dict[str, Any]:
    images = [{"path": str(f.sample.field),
               **({"acquisition": f.run.id} if f.run is not None else {})}
              for f in _well(vault, actor, plate_id, row, column)]
    return {"zarr_format": 3, "node_type": "group",
            "attributes": {"ome": {"version": "0.5", "well": {"images": images}}}}


def field_image(vault: Vault, actor: Actor, plate_id: int, row: str, column: str,
                field: int) -> int:
    """The image id behind field ``field`` of a well (served as any image is)."""
    for found in _well(vault, actor, plate_id, row, column):
        if found.sample.field == field:
            return int(found.image.id)
    raise NotFoundError(f"well {row}/{column} of plate {plate_id} has no field {field}")
