"""Exporting an image as OME-Zarr 0.5 or as a pyramidal OME-TIFF, in bounded memory.

Both start from the same streaming pyramid build (bands of rows, halved level
by level); the OME-TIFF is then written tile by tile from that pyramid, so
neither export ever holds a plane of a large image in memory. Files appear
under their final name only when complete.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from pixelvault.catalog import Actor
from pixelvault.catalog.models import Channel, Pixels
from pixelvault.errors import InvalidInputError
from pixelvault.formats.ngff_write import Image as PyramidImage
from pixelvault.formats.ngff_write import write_pyramid
from pixelvault.formats.plates import Field, PlateLayout, WellLayout
from pixelvault.formats.rois import Roi
from pixelvault.formats.zarr_shards import ShardReader
from pixelvault.services.pixels import zarr_http
from pixelvault.services.pixels.access import buffer_for, pixels_info
from pixelvault.services.pixels.buffer import PixelBuffer
from pixelvault.services.vault import Vault

FORMATS = ("ome-tiff", "ome-zarr")
Progress = Callable[[float], None]


def _describe(vault: Vault, actor: Actor, image_id: int) -> tuple[PixelBuffer, PyramidImage]:
    with vault.catalog.session() as session:
        info = pixels_info(session, actor, image_id)
        pixels = session.scalar(select(Pixels).where(Pixels.id == info.pixels_id))
        channels = session.execute(select(Channel.name, Channel.color).where(
            Channel.pixels_id == info.pixels_id).order_by(Channel.index)).all()
    assert pixels is not None
    buffer = buffer_for(vault, info)
    image = PyramidImage(
        info.size_x, info.size_y, info.size_z, info.size_c, info.size_t, buffer.dtype,
        name=info.name, physical_size_x=pixels.physical_size_x,
        physical_size_y=pixels.physical_size_y, physical_size_z=pixels.physical_size_z,
        time_increment=pixels.time_increment, channel_names=[n for n, _ in channels],
        channel_colours=[f"{(c & 0xFFFFFFFF) >> 8:06X}" if c is not None else "FFFFFF"
                         for _, c in channels])
    return buffer, image


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")


def export(vault: Vault, actor: Actor, image_id: int, fmt: str, target: Path, *,
           overwrite: bool = False, progress: Progress | None = None) -> Path:
    """Write image ``image_id`` to ``target`` as ``fmt``; the path written."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"export format {fmt!r}: use {' or '.join(FORMATS)}")
    _check_target(target, overwrite)
    _write(vault, actor, image_id, fmt, target, progress, describe=True)
    return target


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not overwrite:
        raise InvalidInputError(f"{target} exists; choose another name or pass --force")
    if not target.parent.is_dir():
        raise InvalidInputError(f"{target.parent} is not a directory")


def _write(vault: Vault, actor: Actor, image_id: int, fmt: str, target: Path,
           progress: Progress | None, *, describe: bool) -> PyramidImage:
    """Writes the export (an OME-Zarr with its own ``OME/`` metadata if ``describe``, as a
    plate's field has not); what the image is."""
    buffer, image = _describe(vault, actor, image_id)
    pyramid = _temporary(target) if fmt == "ome-zarr" else \
        Path(vault.settings.state_dir) / f"export-{secrets.token_hex(8)}.zarr"
    pyramid.parent.mkdir(parents=True, exist_ok=True)
    scale = 0.5 if fmt == "ome-tiff" else 1.0

    def band(z: int, c: int, t: int, y: int, height: int) -> np.ndarray[Any, Any]:
        return buffer.get_region(z, c, t, 0, y, buffer.size_x, height)

    try:
        write_pyramid(pyramid, image, band, progress=(lambda f: progress(f * scale))
                      if progress else None)
        if fmt == "ome-zarr":
            _mask_labels(vault, actor, image_id, pyramid, image)
            if describe:
                _ome_group(pyramid, [image], _rois(vault, actor, image_id, 0))
            if target.exists():
                _remove(target)
            os.rename(pyramid, target)
            return image
        temp = _temporary(target)
        try:
            write_ome_tiff(pyramid, image, temp, (lambda f: progress(0.5 + f / 2))
                           if progress else None)
            _add_rois(vault, actor, image_id, temp)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return image
    finally:
        if pyramid.exists() and pyramid != target:
            shutil.rmtree(pyramid, ignore_errors=True)


def _rois(vault: Vault, actor: Actor, image_id: int, series: int) -> list[Roi]:
    """The image's ROIs that the exporter may see, as series ``series`` of the export."""
    from pixelvault.services.objects import rois

    with vault.catalog.session() as session:
        return [Roi(shapes=tuple(s.shape for s in r.shapes), name=r.name,
                    description=r.description, series=series)
                for r in rois.iterate(session, actor, image_id)]


def _ome_group(root: Path, images: list[PyramidImage], found: list[Roi],
               plate: PlateLayout | None = None, series: list[str] | None = None) -> None:
    """``OME/METADATA.ome.xml`` as bioformats2raw writes it, for Bio-Formats' Zarr reader:
    the images' metadata, every ROI (shapes a label image cannot hold among them) and the
    plate; ``OME/zarr.json`` names each image's group in ``series`` (a plate's fields)."""
    import json

    from pixelvault.formats.omexml_write import document

    folder = root / "OME"
    folder.mkdir()
    ome: dict[str, Any] = {"version": "0.5"}
    if series is not None:
        ome["series"] = series
    (folder / "zarr.json").write_text(json.dumps({
        "zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}))
    (folder / "METADATA.ome.xml").write_bytes(document(images, found, plate))


def _mask_labels(vault: Vault, actor: Actor, image_id: int, group: Path,
                 image: PyramidImage) -> None:
    """The image's Mask shapes as an OME-Zarr label image, ``labels/masks``: each mask's
    pixels hold its shape's id, on its planes (every Z or T when it names none), with
    its fill colour and its ROI in ``image-label``. Other shapes have no pixels, nor
    has a mask turned or scaled off the pixel grid; an OME-TIFF export carries them all
    in its OME-XML."""
    import json

    import zarr

    from pixelvault.formats.rois import mask_array
    from pixelvault.services.objects import rois

    with vault.catalog.session() as session:
        masks = [(roi.id, stored) for roi in rois.iterate(session, actor, image_id)
                 for stored in roi.shapes if stored.shape.kind == "mask"]
    if not masks:
        return
    labels = group / "labels"
    labels.mkdir()
    (labels / "zarr.json").write_text(json.dumps({
        "zarr_format": 3, "node_type": "group",
        "attributes": {"ome": {"version": "0.5", "labels": ["masks"]}}}))
    target = zarr.open_group(str(labels / "masks"), mode="w", zarr_format=3)
    shape = (image.size_t, 1, image.size_z, image.size_y, image.size_x)
    array = target.create_array("0", shape=shape, dtype=np.uint32, fill_value=0,
                                chunks=(1, 1, 1, min(512, image.size_y),
                                        min(512, image.size_x)),
                                dimension_names=("t", "c", "z", "y", "x"))
    colours: list[Any] = []
    properties: list[Any] = []
    for roi_id, stored in masks:
        mask = stored.shape
        x, y = int(mask.coords[0]), int(mask.coords[1])
        if mask.transform is not None:
            a00, a10, a01, a11, a02, a12 = mask.transform
            if (a00, a10, a01, a11) != (1, 0, 0, 1) or a02 != int(a02) or a12 != int(a12):
                continue  # only whole-pixel moves keep a mask on the pixel grid
            x, y = x + int(a02), y + int(a12)
        pixels = mask_array(mask)
        top, left = max(y, 0), max(x, 0)
        bottom = min(y + pixels.shape[0], image.size_y)
        right = min(x + pixels.shape[1], image.size_x)
        if bottom <= top or right <= left:
            continue
        inside = pixels[top - y:bottom - y, left - x:right - x]
        for t in range(image.size_t) if mask.t is None else [mask.t]:
            for z in range(image.size_z) if mask.z is None else [mask.z]:
                block = np.asarray(array[t, 0, z, top:bottom, left:right])
                block[inside] = stored.id
                array[t, 0, z, top:bottom, left:right] = block
        rgba = (mask.fill_color if mask.fill_color is not None else -65281) & 0xFFFFFFFF
        colours.append({"label-value": stored.id, "rgba": [
            (rgba >> 24) & 0xFF, (rgba >> 16) & 0xFF, (rgba >> 8) & 0xFF, rgba & 0xFF]})
        properties.append({"label-value": stored.id, "omero:roiId": roi_id,
                           "omero:shapeId": stored.id})
    scales = _scale_of(group)
    target.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "name": "masks", "axes": scales["axes"], "datasets": [
            {"path": "0", "coordinateTransformations": scales["level0"]}]}],
        "image-label": {"version": "0.5", "colors": colours, "properties": properties,
                        "source": {"image": "../../"}}}


def _scale_of(group: Path) -> dict[str, Any]:
    """The image's axes and full-resolution scale, for a label image over it."""
    import json

    ome = json.loads((group / "zarr.json").read_text())["attributes"]["ome"]
    multiscale = ome["multiscales"][0]
    return {"axes": multiscale["axes"],
            "level0": multiscale["datasets"][0]["coordinateTransformations"]}


def _add_rois(vault: Vault, actor: Actor, image_id: int, path: Path) -> None:
    """The image's ROIs (those the exporter may see) into the file's OME-XML, where
    Bio-Formats, QuPath and OMERO read them at import."""
    import ome_types
    import tifffile

    from pixelvault.formats import omexml
    from pixelvault.formats.omexml_rois import to_ome

    found = _rois(vault, actor, image_id, 0)
    if not found:
        return
    with tifffile.TiffFile(path) as tif:
        ome = omexml.parse(tif.ome_metadata or "", path.name)
    ome.rois = to_ome(found)
    ome.images[0].roi_refs = [ome_types.model.ROIRef(id=r.id) for r in ome.rois]
    tifffile.tiffcomment(path, ome_types.to_xml(ome).encode("utf-8"))


def export_plate(vault: Vault, actor: Actor, plate_id: int, target: Path, *,
                 overwrite: bool = False, progress: Progress | None = None) -> Path:
    """Write a plate as an OME-Zarr 0.5 plate directory: the plate's rows, columns,
    wells and runs, and every field an image group with its pyramid (what
    ``/zarr/plate/{id}.zarr/`` serves, on disk), with ``OME/METADATA.ome.xml`` for
    Bio-Formats (the fields' metadata and ROIs, and the plate). It appears under its name
    only when complete."""
    import json

    from pixelvault.catalog.models import Plate, Well
    from pixelvault.services.objects import plates

    _check_target(target, overwrite)
    root = zarr_http.plate_group(vault, actor, plate_id)  # 404 for a plate not seen
    described = root["attributes"]["ome"]["plate"]
    with vault.catalog.session() as session:
        plate = session.get(Plate, plate_id)
        assert plate is not None
        wells = {(w.row, w.column): w for w in session.scalars(
            select(Well).where(Well.plate_id == plate_id))}
        fields = plates.fields_of(session, actor, [w.id for w in wells.values()])
        name, rows, columns, naming = plate.name, plate.rows, plate.columns, \
            (plate.row_naming, plate.column_naming)
    temp = _temporary(target)
    total = sum(len(f) for f in fields.values()) or 1
    images: list[PyramidImage] = []
    found: list[Roi] = []
    series: list[str] = []
    layout: list[WellLayout] = []

    def write(path: Path, data: dict[str, Any]) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "zarr.json").write_text(json.dumps(data))

    try:
        write(temp, root)
        row_names = [r["name"] for r in described["rows"]]
        for entry in described["wells"]:
            row, column = entry["path"].split("/")
            well = wells[(row_names.index(row), entry["columnIndex"])]
            write(temp / row, {"zarr_format": 3, "node_type": "group", "attributes": {}})
            write(temp / row / column,
                  zarr_http.well_group(vault, actor, plate_id, row, column))
            placed = []
            for field in fields.get(well.id, []):
                path = f"{row}/{column}/{field.sample.field}"
                found += _rois(vault, actor, field.image.id, len(images))
                placed.append(Field(len(images), position_x=field.sample.position_x,
                                    position_y=field.sample.position_y,
                                    timepoint=field.sample.timepoint))
                images.append(_write(vault, actor, field.image.id, "ome-zarr", temp / path,
                                     None, describe=False))
                series.append(path)
                if progress is not None:
                    progress(len(images) / total)
            layout.append(WellLayout(well.row, well.column, tuple(placed), color=well.color,
                                     type=well.type))
        _ome_group(temp, images, found, PlateLayout(
            name=name, rows=rows, columns=columns, wells=tuple(layout),
            row_naming=naming[0], column_naming=naming[1]), series)
        if target.exists():
            _remove(target)
        os.rename(temp, target)
        return target
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def write_ome_tiff(pyramid: Path, image: PyramidImage, target: Path,
                   progress: Progress | None = None) -> None:
    """A pyramidal OME-TIFF (levels as SubIFDs, 512x512 tiles, zlib) from a pyramid of
    ours, a tile at a time."""
    import tifffile

    levels = sorted((p for p in pyramid.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    readers = [ShardReader(level) for level in levels]
    planes = image.size_t * image.size_c * image.size_z
    tile = 512
    total = sum(planes * -(-r.layout.shape[3] // tile) * -(-r.layout.shape[4] // tile)
                for r in readers)
    done = [0]

    def tiles(reader: ShardReader) -> Iterator[np.ndarray[Any, Any]]:
        _, _, _, height, width = reader.layout.shape
        for t in range(image.size_t):
            for c in range(image.size_c):
                for z in range(image.size_z):
                    for y in range(0, height, tile):
                        for x in range(0, width, tile):
                            block = reader.read((slice(t, t + 1), slice(c, c + 1),
                                                 slice(z, z + 1), slice(y, min(y + tile, height)),
                                                 slice(x, min(x + tile, width))))[0, 0, 0]
                            done[0] += 1
                            if progress is not None and done[0] % 64 == 0:
                                progress(done[0] / total)
                            yield block

    metadata: dict[str, Any] = {"axes": "TCZYX", "Name": image.name or "image",
                                "Channel": {"Name": [
                                    image.channel_names[c] if c < len(image.channel_names)
                                    and image.channel_names[c] else f"C{c}"
                                    for c in range(image.size_c)]}}
    for key, value in (("PhysicalSizeX", image.physical_size_x),
                       ("PhysicalSizeY", image.physical_size_y),
                       ("PhysicalSizeZ", image.physical_size_z),
                       ("TimeIncrement", image.time_increment)):
        if value:
            metadata[key] = value
    dtype = np.dtype(image.dtype)
    try:
        with tifffile.TiffWriter(target, bigtiff=True, ome=True) as tif:
            for index, reader in enumerate(readers):
                shape = reader.layout.shape
                options: dict[str, Any] = {
                    "shape": shape, "dtype": dtype, "tile": (tile, tile),
                    "compression": "zlib", "photometric": "minisblack"}
                if index == 0:
                    tif.write(tiles(reader), subifds=len(readers) - 1, metadata=metadata,
                              **options)
                else:
                    tif.write(tiles(reader), subfiletype=1, metadata=None, **options)
    finally:
        for reader in readers:
            reader.close()
