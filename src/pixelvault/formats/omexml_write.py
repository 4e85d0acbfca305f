"""The OME-XML an OME-Zarr export carries in ``OME/METADATA.ome.xml``.

Bio-Formats' Zarr reader (and through it OMERO's import, QuPath and Fiji) takes an
OME-Zarr's images, ROIs and plate from that file, as bioformats2raw writes it. A
label image holds only masks; every other shape reaches those readers this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pixelvault.formats.base import pixel_type_of
from pixelvault.formats.ngff_write import Image
from pixelvault.formats.omexml_rois import to_ome
from pixelvault.formats.plates import PlateLayout
from pixelvault.formats.rois import Roi


def document(images: Sequence[Image], rois: Sequence[Roi],
             plate: PlateLayout | None = None) -> bytes:
    """The OME-XML of ``images`` (metadata only, as the NGFF specification asks), with
    ``rois`` referred to by the image of their ``series`` and the plate whose fields name
    images by their index in ``images``."""
    import ome_types
    import ome_types.model as model

    described = [_image(model, number, image) for number, image in enumerate(images)]
    written = to_ome(list(rois))
    for roi, element in zip(rois, written, strict=True):
        described[roi.series].roi_refs.append(model.ROIRef(id=element.id))
    plates = [_plate(model, plate)] if plate is not None else []
    ome = model.OME(creator="pixelvault", images=described, rois=written, plates=plates)
    return str(ome_types.to_xml(ome)).encode("utf-8")


def _image(model: Any, number: int, image: Image) -> Any:
    channels = []
    for c in range(image.size_c):
        name = image.channel_names[c] if c < len(image.channel_names) else ""
        colour = image.channel_colours[c] if c < len(image.channel_colours) else ""
        coloured = {"color": model.Color(int(colour, 16) << 8 | 0xFF)} if colour else {}
        channels.append(model.Channel(id=f"Channel:{number}:{c}", name=name or None,
                                      samples_per_pixel=1, **coloured))
    pixels = model.Pixels(
        id=f"Pixels:{number}", dimension_order="XYZCT",
        type=pixel_type_of(image.dtype, image.name or "the image"), size_x=image.size_x,
        size_y=image.size_y, size_z=image.size_z, size_c=image.size_c, size_t=image.size_t,
        physical_size_x=image.physical_size_x, physical_size_y=image.physical_size_y,
        physical_size_z=image.physical_size_z, time_increment=image.time_increment,
        channels=channels, metadata_only=model.MetadataOnly())
    return model.Image(id=f"Image:{number}", name=image.name or None, pixels=pixels)


def _plate(model: Any, plate: PlateLayout) -> Any:
    wells = []
    sample = 0
    for number, well in enumerate(plate.wells):
        samples = []
        for field in well.fields:
            samples.append(model.WellSample(
                id=f"WellSample:0:{sample}", index=sample,
                position_x=field.position_x, position_y=field.position_y,
                timepoint=field.timepoint, image_ref=model.ImageRef(id=f"Image:{field.series}")))
            sample += 1
        coloured = {"color": model.Color(well.color & 0xFFFFFFFF)} \
            if well.color is not None else {}
        wells.append(model.Well(id=f"Well:0:{number}", row=well.row, column=well.column,
                                type=well.type or None, well_samples=samples, **coloured))
    return model.Plate(id="Plate:0", name=plate.name or None,
                       description=plate.description or None, rows=plate.rows,
                       columns=plate.columns, row_naming_convention=plate.row_naming,
                       column_naming_convention=plate.column_naming,
                       field_index=plate.field_index, wells=wells)
