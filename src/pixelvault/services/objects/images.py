"""What the catalog knows of one image, in one answer: dimensions, pixel type, physical
sizes with their units, channels, where it came from and which datasets hold it.

The container listing answers names only (it pages thousands of rows); this is
the call a user makes to check that an import read their file right, so it
says everything the import recorded, with units spelled out rather than implied.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from pixelvault.catalog import Actor, Catalog, Right
from pixelvault.catalog.models import (
    Channel,
    Dataset,
    DatasetImageLink,
    Experimenter,
    ExperimenterGroup,
    Fileset,
    Image,
    Pixels,
    Plate,
    Project,
    ProjectDatasetLink,
    Well,
    WellSample,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import NotFoundError
from pixelvault.render.settings import rgba_to_hex


def _length(value: float | None) -> dict[str, Any] | None:
    return None if value is None else {"value": value, "unit": "µm"}


def describe(catalog: Catalog, actor: Actor, image_id: int) -> dict[str, Any]:
    """The image as ``actor`` may read it; 404 as for one that does not exist.
    Dates stay datetimes: how they are written is the caller's (the API's UTC ``Z``)."""
    with catalog.session() as session:
        found = session.execute(
            select(Image, Pixels, Experimenter.username, ExperimenterGroup.name,
                   Fileset.id, Fileset.format)
            .outerjoin(Pixels, Pixels.image_id == Image.id)
            .outerjoin(Fileset, Fileset.id == Image.fileset_id)
            .join(Experimenter, Experimenter.id == Image.owner_id)
            .join(ExperimenterGroup, ExperimenterGroup.id == Image.group_id)
            .where(Image.id == image_id, allowed(actor, Right.READ, Image))).first()
        if found is None:
            raise NotFoundError(f"no image with id {image_id}")
        image, pixels, owner, group, fileset_id, fileset_format = found
        channels = [] if pixels is None else session.scalars(
            select(Channel).where(Channel.pixels_id == pixels.id)
            .order_by(Channel.index)).all()
        datasets = session.execute(
            select(Dataset.id, Dataset.name)
            .join(DatasetImageLink, DatasetImageLink.parent_id == Dataset.id)
            .where(DatasetImageLink.child_id == image_id,
                   allowed(actor, Right.READ, Dataset))
            .order_by(Dataset.id)).all()
        projects = session.execute(
            select(Project.id, Project.name).distinct()
            .join(ProjectDatasetLink, ProjectDatasetLink.parent_id == Project.id)
            .where(ProjectDatasetLink.child_id.in_([d.id for d in datasets]),
                   allowed(actor, Right.READ, Project))
            .order_by(Project.id)).all() if datasets else []
        plate = session.execute(
            select(Plate.id, Plate.name, Well.row, Well.column)
            .join(Well, Well.plate_id == Plate.id)
            .join(WellSample, WellSample.well_id == Well.id)
            .where(WellSample.image_id == image_id, allowed(actor, Right.READ, Plate))).first()
    return {
        "id": image.id, "name": image.name, "description": image.description,
        "owner": {"id": image.owner_id, "username": owner},
        "group": {"id": image.group_id, "name": group},
        "created_at": image.created_at, "acquisition_date": image.acquisition_date,
        "fileset": None if fileset_id is None else {"id": fileset_id, "format": fileset_format,
                                                    "series": image.series},
        "datasets": [{"id": dataset_id, "name": name} for dataset_id, name in datasets],
        "projects": [{"id": project_id, "name": name} for project_id, name in projects],
        "plate": None if plate is None else {"id": plate.id, "name": plate.name,
                                             "row": plate.row, "column": plate.column},
        "pixels": None if pixels is None else {
            "size_x": pixels.size_x, "size_y": pixels.size_y, "size_z": pixels.size_z,
            "size_c": pixels.size_c, "size_t": pixels.size_t,
            "pixel_type": pixels.pixel_type, "significant_bits": pixels.significant_bits,
            "physical_size_x": _length(pixels.physical_size_x),
            "physical_size_y": _length(pixels.physical_size_y),
            "physical_size_z": _length(pixels.physical_size_z),
            "time_increment": None if pixels.time_increment is None
            else {"value": pixels.time_increment, "unit": "s"},
            "levels": json.loads(pixels.levels or "[]")
            or [[pixels.size_x, pixels.size_y]]},
        "channels": [{
            "index": channel.index, "name": channel.name,
            "emission_wavelength": None if channel.emission_wavelength is None
            else {"value": channel.emission_wavelength, "unit": "nm"},
            "excitation_wavelength": None if channel.excitation_wavelength is None
            else {"value": channel.excitation_wavelength, "unit": "nm"},
            "color": rgba_to_hex(channel.color), "min": channel.min, "max": channel.max}
            for channel in channels],
    }
