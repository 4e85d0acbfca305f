"""SQLAlchemy models of the catalog, one module per family.

Schema changes go through an Alembic migration (``catalog/migrations``). Names
follow OMERO's model where a sysadmin would look for them (Experimenter,
ExperimenterGroup, OriginalFile), in snake_case tables.
"""

from pixelvault.catalog.models.annotations import (
    Annotation,
    AnnotationKind,
    AnnotationLink,
    MapEntry,
)
from pixelvault.catalog.models.base import Base, utcnow
from pixelvault.catalog.models.containers import (
    Dataset,
    DatasetImageLink,
    Image,
    Project,
    ProjectDatasetLink,
)
from pixelvault.catalog.models.files import OriginalFile, OriginalFileId
from pixelvault.catalog.models.filesets import Fileset, FilesetEntry, FilesetState
from pixelvault.catalog.models.jobs import JobState, PyramidJob, PyramidPart
from pixelvault.catalog.models.pixels import Channel, Pixels, PixelsStorage
from pixelvault.catalog.models.principals import (
    Experimenter,
    ExperimenterGroup,
    GroupMembership,
    Permissions,
)
from pixelvault.catalog.models.processes import ServerProcess
from pixelvault.catalog.models.rendering import ChannelBinding, RenderingDef, Thumbnail
from pixelvault.catalog.models.repository import RepositoryRow
from pixelvault.catalog.models.rois import Roi, Shape
from pixelvault.catalog.models.screens import (
    Plate,
    PlateAcquisition,
    Screen,
    ScreenPlateLink,
    Well,
    WellSample,
)
from pixelvault.catalog.models.search import SearchEvent
from pixelvault.catalog.models.sessions import LoginFailure, LoginSession

__all__ = [
    "Annotation",
    "AnnotationKind",
    "AnnotationLink",
    "Base",
    "Channel",
    "ChannelBinding",
    "Dataset",
    "DatasetImageLink",
    "Experimenter",
    "ExperimenterGroup",
    "Fileset",
    "FilesetEntry",
    "FilesetState",
    "GroupMembership",
    "Image",
    "JobState",
    "LoginFailure",
    "LoginSession",
    "MapEntry",
    "OriginalFile",
    "OriginalFileId",
    "Permissions",
    "Pixels",
    "PixelsStorage",
    "Plate",
    "PlateAcquisition",
    "Project",
    "ProjectDatasetLink",
    "PyramidJob",
    "PyramidPart",
    "RenderingDef",
    "RepositoryRow",
    "Roi",
    "Screen",
    "ScreenPlateLink",
    "SearchEvent",
    "ServerProcess",
    "Shape",
    "Thumbnail",
    "Well",
    "WellSample",
    "utcnow",
]
