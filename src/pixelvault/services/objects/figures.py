"""OMERO.figure's figures, stored as OMERO stores them: a JSON file in the Files store
behind a file annotation in the namespace ``omero.web.figure.json``, linked to no
object, whose description holds the figure's name and first image.

A figure is in the group of its first image (so whoever may see that image's
group may open it), or the author's default group. Reading, listing, changing
and deleting follow the annotation's permissions like any other annotation's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Right
from pixelvault.catalog.models import (
    Annotation,
    AnnotationKind,
    Experimenter,
    ExperimenterGroup,
    GroupMembership,
    Image,
    OriginalFile,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import ForbiddenError, InvalidInputError, NotFoundError
from pixelvault.repository.checksums import DEFAULT_ALGORITHM
from pixelvault.services.objects import annotation, files
from pixelvault.services.vault import Vault
from pixelvault.targets import parse_id

NAMESPACE = "omero.web.figure.json"
MAX_FIGURE = 16 << 20  # a figure's JSON as sent: panels and settings, never pixels
MAX_STORED = 64 << 20  # ... and as stored, indented for people to read
MAX_LISTED = 10_000


def _parse(text: str, limit: int = MAX_FIGURE) -> dict[str, Any]:
    """The figure; the server has measured its nesting before it gets here."""
    if len(text.encode()) > limit:
        raise InvalidInputError(f"a figure of more than {limit >> 20} MiB")
    try:
        figure = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInputError("figureJSON is not JSON") from None
    if not isinstance(figure, dict):
        raise InvalidInputError("figureJSON is a JSON object")
    return figure


def _image_ids(figure: dict[str, Any]) -> list[int]:
    found = []
    panels = figure.get("panels")
    for panel in panels if isinstance(panels, list) else []:
        number = parse_id(panel.get("imageId")) if isinstance(panel, dict) else None
        if number is not None:  # an OME-Zarr panel names a URL instead
            found.append(number)
    return found


def _name(figure: dict[str, Any], now: datetime) -> str:
    name = figure.get("figureName")
    if isinstance(name, str) and name.strip():
        return name.strip()[:255]
    return f"Figure_{now:%Y-%m-%d_%H-%M-%S}.json"


def save(vault: Vault, actor: Actor, text: str, file_id: int | None = None) -> int:
    """Store a figure (a new one, or a new version of the annotation ``file_id``); the
    annotation's id."""
    figure = _parse(text)
    now = datetime.now()
    name = _name(figure, now)
    images = _image_ids(figure)
    description: dict[str, Any] = {"name": name, "imageId": images[0]} if images else {}
    data = json.dumps(figure, sort_keys=True, indent=2, separators=(",", ": ")).encode()
    if len(data) > MAX_STORED:  # indenting a deeply nested figure multiplies it
        data = json.dumps(figure, sort_keys=True, separators=(",", ":")).encode()
    with vault.catalog.session() as session:
        group_id = actor.group_id
        if file_id is not None:
            group_id = _editable(session, actor, file_id).group_id
        elif images:
            first = session.scalar(select(Image).where(Image.id == images[0],
                                                       allowed(actor, Right.READ, Image)))
            group_id = first.group_id if first is not None and \
                first.group_id in actor.group_ids else actor.group_id
    pending = files.PendingFile(vault, actor, name=name, mimetype="application/json",
                                algorithm=DEFAULT_ALGORITHM, group_id=group_id,
                                expected_size=len(data))
    made: list[int] = []
    replaced: list[int] = []

    def record(session: Session, row: OriginalFile) -> None:
        if file_id is None:
            found = Annotation(kind=AnnotationKind.FILE.value, text_value="", file_id=row.id,
                               namespace=NAMESPACE, owner_id=actor.user_id, group_id=group_id)
            session.add(found)
        else:
            found = _editable(session, actor, file_id)  # checked again: it may have gone
            old = found.file_id
            found.file_id = row.id
            if old is not None:  # the previous version, now referenced by nothing
                session.flush()
                session.execute(delete(OriginalFile).where(OriginalFile.id == old))
                replaced.append(old)
        found.description = json.dumps(description)
        session.flush()
        made.append(found.id)

    try:
        pending.write(data)
    except BaseException:
        pending.abort()
        raise
    pending.commit(record)
    for old in replaced:
        vault.files.delete(old)
    return made[0]


def _figure(session: Session, actor: Actor, file_id: int) -> Annotation:
    row = session.scalar(select(Annotation).where(
        Annotation.id == file_id, Annotation.namespace == NAMESPACE,
        Annotation.kind == AnnotationKind.FILE.value, allowed(actor, Right.READ, Annotation)))
    if row is None:
        raise NotFoundError(f"no figure with id {file_id}")
    return row


def _editable(session: Session, actor: Actor, file_id: int) -> Annotation:
    row = _figure(session, actor, file_id)
    if not actor.may(Right.EDIT, row.owner_id, row.group_id):
        raise ForbiddenError(f"you may open figure {file_id} but not change it; save a copy")
    return row


@dataclass(frozen=True)
class Listed:
    id: int
    name: str
    description: str
    owner: Experimenter
    group: ExperimenterGroup
    created_at: datetime
    can_edit: bool


def listing(vault: Vault, actor: Actor) -> list[Listed]:
    """The figures the actor may read, in every group of theirs, newest first (the
    newest MAX_LISTED)."""
    with vault.catalog.session() as session:
        rows = session.execute(
            select(Annotation, OriginalFile, Experimenter, ExperimenterGroup)
            .join(OriginalFile, OriginalFile.id == Annotation.file_id)
            .join(Experimenter, Experimenter.id == Annotation.owner_id)
            .join(ExperimenterGroup, ExperimenterGroup.id == Annotation.group_id)
            .where(Annotation.namespace == NAMESPACE, allowed(actor, Right.READ, Annotation))
            .order_by(Annotation.id.desc()).limit(MAX_LISTED)).all()
        session.expunge_all()
    return [Listed(a.id, f.name, a.description, owner, group, a.created_at,
                   actor.may(Right.EDIT, a.owner_id, a.group_id))
            for a, f, owner, group in rows]


def load(vault: Vault, actor: Actor, file_id: int) -> dict[str, Any]:
    """The figure's JSON, with OMERO.figure's ``canEdit``, ``group`` and ``figureName``."""
    with vault.catalog.session() as session:
        row = _figure(session, actor, file_id)
        stored = session.get(OriginalFile, row.file_id) if row.file_id else None
        group = session.get(ExperimenterGroup, row.group_id)
        if stored is None or group is None:
            raise NotFoundError(f"figure {file_id} has lost its file")
        if stored.size > MAX_STORED:
            raise InvalidInputError(f"figure {file_id} is {stored.size >> 20} MiB, more "
                                    "than a figure holds")
        can_edit = row.owner_id == actor.user_id
        description = row.description
        session.expunge_all()
    text = b"".join(files.original_bytes(vault, stored)).decode("utf-8", "replace")
    figure = _parse(text, MAX_STORED)
    figure["canEdit"] = can_edit
    figure["group"] = {"id": group.id, "name": group.name}
    if not figure.get("figureName"):
        try:
            named = json.loads(description or "{}").get("name")
        except (ValueError, AttributeError):
            named = None
        figure["figureName"] = named or stored.name
    return figure


def move(vault: Vault, actor: Actor, file_id: int, group_id: int) -> ExperimenterGroup:
    """A figure, and its file, into another group of its owner's (OMERO.figure's "move
    to group"): its owner or an administrator moves it, into a group the owner is in."""
    with vault.catalog.session() as session:
        row = _figure(session, actor, file_id)
        if row.owner_id != actor.user_id and not actor.is_admin:
            raise ForbiddenError(f"figure {file_id} is not yours to move")
        group = session.get(ExperimenterGroup, group_id)
        owner_groups = set(session.scalars(select(GroupMembership.group_id).where(
            GroupMembership.experimenter_id == row.owner_id)))
        if group is None or group_id not in owner_groups:  # the owner must still see it
            raise NotFoundError(f"no group {group_id} of the figure's owner")
        row.group_id = group_id
        if row.file_id is not None:
            stored = session.get(OriginalFile, row.file_id)
            if stored is not None:
                stored.group_id = group_id
        session.flush()
        session.expunge(group)
        return group


def remove(vault: Vault, actor: Actor, file_id: int) -> None:
    with vault.catalog.session() as session:
        _figure(session, actor, file_id)  # a figure, not any annotation
    annotation.remove_annotation(vault, actor, file_id)
