"""Moving data between groups (chgrp) and giving it to another user (chown).

As in OMERO, the object named is not moved alone: a project takes its
datasets, a dataset its images, and each takes its annotations, unless a
contained object also belongs to something that stays (a dataset in a second
project, a tag on an image that stays). What stays keeps its place; since an
object and its container must share a group, the links between what moves and
what stays are removed, and the answer lists them. The whole graph changes in
one transaction, or nothing does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pixelvault import targets
from pixelvault.catalog import Actor, Catalog, Right
from pixelvault.catalog.models import (
    Annotation,
    AnnotationLink,
    Dataset,
    DatasetImageLink,
    Experimenter,
    ExperimenterGroup,
    Fileset,
    FilesetEntry,
    GroupMembership,
    Image,
    OriginalFile,
    Plate,
    PlateAcquisition,
    Project,
    ProjectDatasetLink,
    Roi,
    Screen,
    ScreenPlateLink,
    Well,
    WellSample,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.catalog.principals import USER_GROUP, groups_visible_to, users_visible_to
from pixelvault.errors import ForbiddenError, InvalidInputError, NotFoundError
from pixelvault.services import coherence
from pixelvault.services.objects import containers

KINDS = ("project", "dataset", "image")
TARGETS = (*KINDS, "screen", "plate")
MAX_TARGETS = 1000
_SPW: dict[str, Any] = {"screen": Screen, "plate": Plate}
_MODELS: dict[str, Any] = {"project": Project, "dataset": Dataset, "image": Image,
                           "annotation": Annotation, "fileset": Fileset, **_SPW}


@dataclass
class Graph:
    """What a chgrp or chown touches: ids per kind, and the links cut from what stays."""

    ids: dict[str, set[int]] = field(default_factory=lambda: {
        "project": set(), "dataset": set(), "image": set(), "annotation": set(),
        "fileset": set(), "screen": set(), "plate": set()})
    cut: dict[str, int] = field(default_factory=lambda: {
        "project_dataset": 0, "dataset_image": 0, "screen_plate": 0, "annotation": 0})
    targets: list[tuple[str, int]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"moved": {kind: sorted(ids) for kind, ids in self.ids.items()},
                "unlinked": dict(self.cut)}


def parse_target(text: str) -> tuple[str, int]:
    """``Project:51`` (OMERO's CLI form) or ``project:51``."""
    return targets.parse_target(text, ("Project", "Dataset", "Image", "Screen", "Plate"))


def _contained(session: Session, link: Any, parents: set[int]) -> set[int]:
    """Children of ``parents`` whose every parent is among ``parents``."""
    if not parents:
        return set()
    children = set(session.scalars(select(link.child_id).where(link.parent_id.in_(parents))))
    if not children:
        return set()
    elsewhere = set(session.scalars(select(link.child_id).where(
        link.child_id.in_(children), link.parent_id.not_in(parents))))
    return children - elsewhere


def _annotations(session: Session, ids: dict[str, set[int]]) -> set[int]:
    """Annotations linked only to objects in the graph."""
    linked: set[int] = set()
    for kind in KINDS:
        if ids[kind]:
            linked |= set(session.scalars(select(AnnotationLink.annotation_id).where(
                AnnotationLink.parent_kind == kind, AnnotationLink.parent_id.in_(ids[kind]))))
    if not linked:
        return set()
    outside: set[int] = set()
    for annotation_id, kind, parent_id in session.execute(
            select(AnnotationLink.annotation_id, AnnotationLink.parent_kind,
                   AnnotationLink.parent_id).where(AnnotationLink.annotation_id.in_(linked))):
        if parent_id not in ids.get(kind, set()):
            outside.add(annotation_id)
    return linked - outside


def _graph(session: Session, actor: Actor, targets: Iterable[tuple[str, int]]) -> Graph:
    graph = Graph()
    targets = list(targets)
    if not targets:
        raise InvalidInputError("name at least one target, like Project:51")
    if len(targets) > MAX_TARGETS:
        raise InvalidInputError(f"at most {MAX_TARGETS} targets at once")
    for kind, object_id in targets:
        if kind not in TARGETS:
            raise InvalidInputError(f"{kind}s cannot be moved; move a project, dataset, "
                                    "image, screen or plate")
        if kind in KINDS:
            containers.checked(session, actor, kind, object_id, Right.READ)
        elif session.scalar(select(_SPW[kind].id).where(
                _SPW[kind].id == object_id, allowed(actor, Right.READ, _SPW[kind]))) is None:
            raise NotFoundError(f"no {kind} with id {object_id}")
        graph.ids[kind].add(object_id)
        graph.targets.append((kind, object_id))
    graph.ids["dataset"] |= _contained(session, ProjectDatasetLink, graph.ids["project"])
    graph.ids["image"] |= _contained(session, DatasetImageLink, graph.ids["dataset"])
    graph.ids["plate"] |= _contained(session, ScreenPlateLink, graph.ids["screen"])
    if graph.ids["plate"]:  # a plate moves with its fields' images
        graph.ids["image"] |= set(session.scalars(select(WellSample.image_id).join(
            Well, Well.id == WellSample.well_id).where(Well.plate_id.in_(graph.ids["plate"]))))
    graph.ids["fileset"] = _filesets(session, graph.ids["image"])
    _plate_images_move_whole(session, graph)
    graph.ids["annotation"] = _annotations(session, graph.ids)
    return graph


def _plate_images_move_whole(session: Session, graph: Graph) -> None:
    """An image that is a field of a plate moves only with its plate (OMERO's rule), and
    the plate with its fields: the plates of moving images join the graph."""
    if not graph.ids["image"]:
        return
    plates = set(session.scalars(select(Well.plate_id).join(
        WellSample, WellSample.well_id == Well.id).where(
        WellSample.image_id.in_(graph.ids["image"]))))
    if not plates:
        return
    left = session.execute(select(WellSample.image_id, Well.plate_id).join(
        Well, Well.id == WellSample.well_id).where(
        Well.plate_id.in_(plates), WellSample.image_id.not_in(graph.ids["image"]))).first()
    if left is not None:
        raise InvalidInputError(f"image {left.image_id} would stay behind, but is a field of "
                                f"plate {left.plate_id} that moves; move the plate "
                                f"(Plate:{left.plate_id})")
    graph.ids["plate"] |= {int(p) for p in plates}


def _filesets(session: Session, images: set[int]) -> set[int]:
    """The filesets of ``images``; each must move whole, since its files hold every image."""
    if not images:
        return set()
    filesets = set(session.scalars(select(Image.fileset_id).where(
        Image.id.in_(images), Image.fileset_id.is_not(None))))
    if filesets:
        left = session.execute(select(Image.id, Image.fileset_id).where(
            Image.fileset_id.in_(filesets), Image.id.not_in(images))).first()
        if left is not None:
            raise InvalidInputError(
                f"image {left.id} would stay behind, but shares fileset {left.fileset_id} "
                "with images that move; name it too (the fileset's files hold them all)")
    return {int(f) for f in filesets if f is not None}


def _owners(session: Session, graph: Graph) -> dict[tuple[str, int], int]:
    owners: dict[tuple[str, int], int] = {}
    for kind, ids in graph.ids.items():
        if ids:
            model = _MODELS[kind]
            for object_id, owner_id in session.execute(
                    select(model.id, model.owner_id).where(model.id.in_(ids))):
                owners[(kind, object_id)] = owner_id
    return owners


def _members(session: Session, group_id: int) -> set[int]:
    return set(session.scalars(select(GroupMembership.experimenter_id)
                               .where(GroupMembership.group_id == group_id)))


def _name(session: Session, user_id: int) -> str:
    return session.scalar(select(Experimenter.username).where(Experimenter.id == user_id)) \
        or str(user_id)


def _cut_crossing_links(session: Session, graph: Graph, dry_run: bool) -> None:
    """Remove the links between what moves and what stays."""
    ids = graph.ids
    crossing: list[tuple[str, Any, set[int], set[int]]] = [
        ("project_dataset", ProjectDatasetLink, ids["project"], ids["dataset"]),
        ("dataset_image", DatasetImageLink, ids["dataset"], ids["image"]),
        ("screen_plate", ScreenPlateLink, ids["screen"], ids["plate"]),
    ]
    for name, link, parents, children in crossing:
        condition = (link.parent_id.in_(parents) & link.child_id.not_in(children)) | \
            (link.child_id.in_(children) & link.parent_id.not_in(parents))
        rows = list(session.scalars(select(link.id).where(condition)))
        graph.cut[name] = len(rows)
        if rows and not dry_run:
            session.execute(delete(link).where(link.id.in_(rows)))
    stale: list[int] = []
    for kind in KINDS:
        if ids[kind]:
            stale += list(session.scalars(select(AnnotationLink.id).where(
                AnnotationLink.parent_kind == kind, AnnotationLink.parent_id.in_(ids[kind]),
                AnnotationLink.annotation_id.not_in(ids["annotation"]))))
    graph.cut["annotation"] = len(stale)
    if stale and not dry_run:
        session.execute(delete(AnnotationLink).where(AnnotationLink.id.in_(stale)))


def _set_column(session: Session, graph: Graph, column: str, value: int,
                only_owner: set[int] | None = None) -> None:
    """Set ``column`` on every object of the graph, the links among them and the
    attachments' files (restricted to rows owned by ``only_owner`` when given)."""
    ids = graph.ids

    def apply(model: Any, *where: Any) -> None:
        if only_owner is not None:
            where = (*where, model.owner_id.in_(only_owner))
        session.execute(update(model).where(*where).values({column: value})
                        .execution_options(synchronize_session=False))

    for kind in ("project", "dataset", "image", "annotation", "fileset"):
        if ids[kind]:
            apply(_MODELS[kind], _MODELS[kind].id.in_(ids[kind]))
    if ids["fileset"]:
        apply(OriginalFile, OriginalFile.id.in_(
            select(FilesetEntry.original_file_id)
            .where(FilesetEntry.fileset_id.in_(ids["fileset"]))))
    if ids["image"]:  # ROIs go where their image goes (chown: those its owner drew)
        apply(Roi, Roi.image_id.in_(ids["image"]))
    if ids["plate"]:  # a plate's wells, fields and runs go with it
        wells = select(Well.id).where(Well.plate_id.in_(ids["plate"]))
        apply(WellSample, WellSample.well_id.in_(wells))
        apply(Well, Well.plate_id.in_(ids["plate"]))
        apply(PlateAcquisition, PlateAcquisition.plate_id.in_(ids["plate"]))
        apply(Plate, Plate.id.in_(ids["plate"]))
    if ids["screen"]:
        apply(Screen, Screen.id.in_(ids["screen"]))
    if ids["screen"] and ids["plate"]:
        apply(ScreenPlateLink, ScreenPlateLink.parent_id.in_(ids["screen"]),
              ScreenPlateLink.child_id.in_(ids["plate"]))
    if ids["project"]:
        apply(ProjectDatasetLink, ProjectDatasetLink.parent_id.in_(ids["project"]))
    if ids["dataset"]:
        apply(DatasetImageLink, DatasetImageLink.parent_id.in_(ids["dataset"]))
    if ids["annotation"]:
        apply(AnnotationLink, AnnotationLink.annotation_id.in_(ids["annotation"]))
        files = select(Annotation.file_id).where(Annotation.id.in_(ids["annotation"]),
                                                 Annotation.file_id.is_not(None))
        apply(OriginalFile, OriginalFile.id.in_(files))


def chgrp(catalog: Catalog, actor: Actor, targets: Iterable[tuple[str, int]], group_id: int,
          *, dry_run: bool = False) -> Graph:
    """Move the targets and what they contain into group ``group_id``.

    Administrators move anyone's data; a user moves their own data between
    groups they belong to. Every owner of what moves must be a member of the
    new group, or the data would become invisible to them.
    """
    with catalog.session() as session:
        # A group the actor may not see answers as a missing one. Since users see
        # only their own groups, that also keeps them from moving data elsewhere.
        group = session.scalar(select(ExperimenterGroup).where(
            ExperimenterGroup.id == group_id, groups_visible_to(actor, ExperimenterGroup.id)))
        if group is None:
            raise NotFoundError(f"no group with id {group_id}; only administrators move "
                                "data into groups they are not in")
        if group.name == USER_GROUP:
            raise InvalidInputError(f"the built-in {USER_GROUP!r} group holds no data; "
                                    "choose a lab group")
        graph = _graph(session, actor, targets)
        owners = _owners(session, graph)
        if not actor.is_admin:
            for (kind, object_id), owner_id in sorted(owners.items()):
                if owner_id != actor.user_id:
                    raise ForbiddenError(
                        f"{kind} {object_id} belongs to {_name(session, owner_id)}; only "
                        "administrators move other users' data")
        members = _members(session, group_id)
        if graph.ids["image"]:  # ROIs others drew on the images move with them
            drawers = set(session.scalars(select(Roi.owner_id).where(
                Roi.image_id.in_(graph.ids["image"]))))
            for owner_id in sorted(drawers - members):
                raise InvalidInputError(
                    f"{_name(session, owner_id)} drew ROIs on images that would move but is "
                    f"not a member of group {group_id}; add them to it first (`pixelvault "
                    "group adduser`), or remove their ROIs")
        for owner_id in sorted(set(owners.values()) - members):
            raise InvalidInputError(
                f"{_name(session, owner_id)} owns data that would move but is not a member "
                f"of group {group_id}; add them to it first (`pixelvault group adduser`)")
        _cut_crossing_links(session, graph, dry_run)
        if not dry_run:
            _set_column(session, graph, "group_id", group_id)
        else:
            session.rollback()
    if not dry_run:
        coherence.changed()  # rights on what moved changed in every process
    return graph


def chown(catalog: Catalog, actor: Actor, targets: Iterable[tuple[str, int]], user_id: int,
          *, dry_run: bool = False) -> Graph:
    """Give the targets, and what they contain that the targets' owners own, to ``user_id``.

    Administrators give anything; a group owner gives data in the groups they
    own. The new owner must be a member of the data's group. Annotations other
    users made stay theirs.
    """
    with catalog.session() as session:
        # A user the actor may not see answers as a missing one.
        if session.scalar(select(Experimenter.id).where(
                Experimenter.id == user_id, users_visible_to(actor, Experimenter.id))) is None:
            raise NotFoundError(f"no user with id {user_id}")
        graph = _graph(session, actor, targets)
        owners = _owners(session, graph)
        # Only what the targets' owners own changes hands; the answer lists just that.
        root_owners = {owners[target] for target in graph.targets}
        for (kind, object_id), owner_id in owners.items():
            if owner_id not in root_owners:
                graph.ids[kind].discard(object_id)
        groups: set[int] = set()
        for kind, ids in graph.ids.items():
            if ids:
                model = _MODELS[kind]
                groups |= set(session.scalars(select(model.group_id).where(model.id.in_(ids))))
        if not actor.is_admin:
            for group_id in sorted(groups - actor.owned_group_ids):
                raise ForbiddenError(
                    f"only administrators and owners of group {group_id} give its data "
                    "to another user")
        for group_id in sorted(groups):
            if user_id not in _members(session, group_id):
                raise InvalidInputError(
                    f"{_name(session, user_id)} is not a member of group {group_id}, where "
                    "the data is; add them to it first (`pixelvault group adduser`)")
        if not dry_run:
            _set_column(session, graph, "owner_id", user_id, only_owner=root_owners)
        else:
            session.rollback()
    if not dry_run:
        coherence.changed()  # rights on what moved changed in every process
    return graph
