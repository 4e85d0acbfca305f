"""Comments, tags, key-value maps and file attachments on projects, datasets, images.

Annotating needs the ANNOTATE right on the object (§9: not in read-only
groups, unless it is yours); the annotation and its link belong to the
object's group, so whoever may read the object may read its annotations.
An attachment's bytes go to the Files store first; its OriginalFile row, the
annotation and the link are committed together afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Catalog, Right
from pixelvault.catalog.models import (
    Annotation,
    AnnotationKind,
    AnnotationLink,
    MapEntry,
    OriginalFile,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import ForbiddenError, InvalidInputError, NotFoundError
from pixelvault.repository.checksums import DEFAULT_ALGORITHM
from pixelvault.services.objects import containers
from pixelvault.services.objects.files import PendingFile
from pixelvault.services.vault import Vault
from pixelvault.text import check_name, check_text

MAX_TEXT = 100_000
MAX_ENTRIES = 1000
MAX_KEY = 1024
MAX_NAMESPACE = 255


@dataclass(frozen=True)
class FileInfo:
    id: int
    name: str
    size: int
    mimetype: str
    hasher: str
    hash: str


@dataclass(frozen=True)
class AnnotationInfo:
    id: int
    type: str
    text: str
    namespace: str
    owner_id: int
    group_id: int
    created_at: datetime
    values: list[tuple[str, str]] = field(default_factory=list)
    file: FileInfo | None = None


def _link(session: Session, actor: Actor, kind: str, parent: Any,
          annotation: Annotation) -> None:
    session.add(annotation)
    session.flush()
    session.add(AnnotationLink(parent_kind=kind, parent_id=parent.id,
                               annotation_id=annotation.id, owner_id=actor.user_id,
                               group_id=parent.group_id))


def _check_values(values: list[tuple[str, str]]) -> None:
    for key, value in values:
        check_name("a key", key)
        check_text("a value", value)
    if len(values) > MAX_ENTRIES or any(
            len(k) > MAX_KEY or len(v) > MAX_TEXT or not k for k, v in values):
        raise InvalidInputError(f"annotations hold at most {MAX_ENTRIES} entries, keys of 1 to "
                                f"{MAX_KEY} characters and texts of {MAX_TEXT}")


def annotate(catalog: Catalog, actor: Actor, kind: str, object_id: int, *, type: str,
             text: str = "", values: list[tuple[str, str]] | None = None,
             namespace: str = "") -> AnnotationInfo:
    return annotate_all(catalog, actor, [(kind, object_id)], type=type, text=text,
                        values=values, namespace=namespace)[0]


def annotate_all(catalog: Catalog, actor: Actor, targets: list[tuple[str, int]], *,
                 type: str, text: str = "", values: list[tuple[str, str]] | None = None,
                 namespace: str = "") -> list[AnnotationInfo]:
    """The same annotation on each target, all or none: every target is checked
    before anything is written, in one transaction."""
    try:
        annotation_kind = AnnotationKind(type)
    except ValueError:
        raise InvalidInputError("type is one of comment, tag, map (attach files with "
                                "the attachments route)") from None
    if annotation_kind is AnnotationKind.FILE:
        raise InvalidInputError("attach files with the attachments route")
    values = values or []
    if annotation_kind is AnnotationKind.TAG:
        check_name("a tag", text)
    else:
        check_text(f"a {type}", text)
    check_name("a namespace", namespace)
    if len(namespace) > MAX_NAMESPACE:
        raise InvalidInputError(f"a namespace holds at most {MAX_NAMESPACE} characters")
    _check_values(values)
    if annotation_kind in (AnnotationKind.COMMENT, AnnotationKind.TAG) and not text.strip():
        raise InvalidInputError(f"a {type} needs text")
    if annotation_kind is AnnotationKind.MAP and not values:
        raise InvalidInputError("a map needs at least one key-value pair")
    if len(text) > MAX_TEXT:
        raise InvalidInputError(f"annotation texts hold at most {MAX_TEXT} characters")
    with catalog.session() as session:
        parents = [(kind, containers.checked(session, actor, kind, object_id, Right.ANNOTATE))
                   for kind, object_id in targets]
        made = []
        for kind, parent in parents:
            annotation = Annotation(kind=annotation_kind.value, text_value=text,
                                    namespace=namespace, owner_id=actor.user_id,
                                    group_id=parent.group_id)
            _link(session, actor, kind, parent, annotation)
            for position, (key, value) in enumerate(values):
                session.add(MapEntry(annotation_id=annotation.id, position=position, key=key,
                                     value=value))
            session.flush()
            made.append(_info(session, annotation))
        return made


def _info(session: Session, annotation: Annotation) -> AnnotationInfo:
    values = [(e.key, e.value) for e in session.scalars(
        select(MapEntry).where(MapEntry.annotation_id == annotation.id)
        .order_by(MapEntry.position))]
    file_info = None
    if annotation.file_id is not None:
        row = session.get(OriginalFile, annotation.file_id)
        if row is not None:
            file_info = FileInfo(row.id, row.name, row.size, row.mimetype, row.hasher, row.hash)
    return AnnotationInfo(annotation.id, annotation.kind, annotation.text_value,
                          annotation.namespace, annotation.owner_id, annotation.group_id,
                          annotation.created_at, values, file_info)


def list_annotations(catalog: Catalog, actor: Actor, kind: str,
                     object_id: int) -> list[AnnotationInfo]:
    with catalog.session() as session:
        containers.checked(session, actor, kind, object_id, Right.READ)
        rows = session.scalars(
            select(Annotation).join(AnnotationLink, AnnotationLink.annotation_id == Annotation.id)
            .where(AnnotationLink.parent_kind == kind, AnnotationLink.parent_id == object_id,
                   allowed(actor, Right.READ, Annotation))
            .order_by(Annotation.id)).all()
        return [_info(session, row) for row in rows]


@dataclass(frozen=True)
class LinkedAnnotation:
    """An annotation as it hangs on one object: who linked it there, and when."""

    annotation: AnnotationInfo
    link_id: int
    link_owner_id: int
    link_group_id: int
    linked_at: datetime


def linked_annotations(catalog: Catalog, actor: Actor, kind: str,
                       object_id: int) -> list[LinkedAnnotation]:
    """The readable annotations on a readable object, each with its link (OMERO.web's
    annotation panel shows who added each one)."""
    with catalog.session() as session:
        containers.checked(session, actor, kind, object_id, Right.READ)
        rows = session.execute(
            select(Annotation, AnnotationLink)
            .join(AnnotationLink, AnnotationLink.annotation_id == Annotation.id)
            .where(AnnotationLink.parent_kind == kind, AnnotationLink.parent_id == object_id,
                   allowed(actor, Right.READ, Annotation))
            .order_by(Annotation.id)).all()
        return [LinkedAnnotation(_info(session, annotation), link.id, link.owner_id,
                                 link.group_id, link.created_at)
                for annotation, link in rows]


def get_annotation(catalog: Catalog, actor: Actor, annotation_id: int) -> AnnotationInfo:
    with catalog.session() as session:
        row = session.scalar(select(Annotation).where(
            Annotation.id == annotation_id, allowed(actor, Right.READ, Annotation)))
        if row is None:
            raise NotFoundError(f"no annotation with id {annotation_id}")
        return _info(session, row)


def begin_attachment(vault: Vault, actor: Actor, kind: str, object_id: int, *, name: str,
                     mimetype: str | None, expected_size: int = 0,
                     algorithm: str = DEFAULT_ALGORITHM) -> PendingFile:
    """Check the right to annotate, then open the file in the object's group."""
    check_name("an attachment's file name", name)
    if mimetype is not None and (len(mimetype) > 255 or not mimetype.isprintable()):
        raise InvalidInputError("a file's content type is at most 255 printable characters")
    with vault.catalog.session() as session:
        parent = containers.checked(session, actor, kind, object_id, Right.ANNOTATE)
        group_id = parent.group_id
    return PendingFile(vault, actor, name=name, mimetype=mimetype, algorithm=algorithm,
                       group_id=group_id, expected_size=expected_size)


def finish_attachment(pending: PendingFile, actor: Actor, kind: str, object_id: int,
                      also: list[tuple[str, int]] | None = None) -> AnnotationInfo:
    """Record the file and its annotation on the object, and on ``also`` (objects of the
    same group: one file, linked to each, as OMERO.web attaches a file to several)."""
    made: list[AnnotationInfo] = []

    def record(session: Session, row: OriginalFile) -> None:
        # Checked again in the transaction: the object may have gone meanwhile.
        parent = containers.checked(session, actor, kind, object_id, Right.ANNOTATE)
        others = [(k, containers.checked(session, actor, k, i, Right.ANNOTATE))
                  for k, i in also or [] if (k, i) != (kind, object_id)]
        if any(other.group_id != parent.group_id for _, other in others):
            raise InvalidInputError("one attachment links objects of one group only")
        annotation = Annotation(kind=AnnotationKind.FILE.value, text_value="", file_id=row.id,
                                owner_id=actor.user_id, group_id=parent.group_id)
        _link(session, actor, kind, parent, annotation)
        for other_kind, other in others:
            session.add(AnnotationLink(parent_kind=other_kind, parent_id=other.id,
                                       annotation_id=annotation.id, owner_id=actor.user_id,
                                       group_id=other.group_id))
        session.flush()
        made.append(_info(session, annotation))

    pending.commit(record)
    return made[0]


def replace_values(catalog: Catalog, actor: Actor, annotation_id: int,
                   values: list[tuple[str, str]]) -> AnnotationInfo:
    """A key-value map's pairs replaced (EDIT right on the annotation, as OMERO.web's
    annotate_map asks of its owner)."""
    _check_values(values)
    if not values:
        raise InvalidInputError("a map needs at least one key-value pair (delete it instead)")
    with catalog.session() as session:
        row = session.scalar(select(Annotation).where(
            Annotation.id == annotation_id, allowed(actor, Right.READ, Annotation)))
        if row is None or row.kind != AnnotationKind.MAP.value:
            raise NotFoundError(f"no key-value annotation with id {annotation_id}")
        if not actor.may(Right.EDIT, row.owner_id, row.group_id):
            raise ForbiddenError("you may see this annotation but not change it")
        session.execute(delete(MapEntry).where(MapEntry.annotation_id == row.id))
        session.add_all(MapEntry(annotation_id=row.id, position=position, key=key, value=value)
                        for position, (key, value) in enumerate(values))
        session.flush()
        return _info(session, row)


def remove_annotation(vault: Vault, actor: Actor, annotation_id: int,
                      kind: str | None = None) -> None:
    """Delete an annotation (DELETE right on it), of ``kind`` if one is named; an
    attachment's bytes go after the commit."""
    with vault.catalog.session() as session:
        row = session.scalar(select(Annotation).where(
            Annotation.id == annotation_id, allowed(actor, Right.READ, Annotation)))
        if row is None or (kind is not None and row.kind != kind):
            what = f"{kind} annotation" if kind else "annotation"
            raise NotFoundError(f"no {what} with id {annotation_id}")
        if not actor.may(Right.DELETE, row.owner_id, row.group_id):
            raise ForbiddenError("you may see this annotation but not delete it")
        file_id = row.file_id
        session.execute(delete(AnnotationLink).where(AnnotationLink.annotation_id == row.id))
        session.delete(row)
        session.flush()
        if file_id is not None:
            # Checked before the commit: a row gone with its bytes out of reach would
            # leave them behind for good.
            vault.guard.require_available("nothing was deleted")
            session.execute(delete(OriginalFile).where(OriginalFile.id == file_id))
    if file_id is not None:
        vault.files.delete(file_id)
