"""Projects and datasets: create, list, read, update, delete, each permission-checked.

An object the actor may not read is reported exactly as one that does not
exist (404), so ids reveal nothing. One the actor may read but not change
answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from pixelvault import text
from pixelvault.catalog import Actor, Catalog, Right
from pixelvault.catalog.json_rows import json_page_statement
from pixelvault.catalog.models import (
    Channel,
    Dataset,
    DatasetImageLink,
    ExperimenterGroup,
    Image,
    Pixels,
    Project,
    ProjectDatasetLink,
)
from pixelvault.catalog.permissions import (
    allowed,
    allowed_template,
    permission_params,
    permission_shape,
)
from pixelvault.errors import ForbiddenError, InvalidInputError, NotFoundError

KINDS: dict[str, Any] = {"project": Project, "dataset": Dataset, "image": Image}
# parent kind -> (link model, child kind)
LINKS: dict[str, tuple[Any, str]] = {"project": (ProjectDatasetLink, "dataset"),
                                     "dataset": (DatasetImageLink, "image")}
# child kind -> (link model, parent kind)
PARENTS: dict[str, tuple[Any, str]] = {child: (link, parent)
                                       for parent, (link, child) in LINKS.items()}
CREATABLE = {"project", "dataset"}  # images come from import
MAX_NAME = 1024
MAX_DESCRIPTION = 100_000


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int


def _model(kind: str) -> Any:
    try:
        return KINDS[kind]
    except KeyError:
        raise InvalidInputError(
            f"unknown kind {kind!r}; use one of {', '.join(KINDS)}") from None


def _check_text(name: str | None, description: str | None) -> None:
    text.check_name("a name", name)
    text.check_text("a description", description)
    if name is not None and not 0 < len(name.strip()) <= MAX_NAME:
        raise InvalidInputError(f"a name needs 1 to {MAX_NAME} characters")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidInputError(f"a description holds at most {MAX_DESCRIPTION} characters")


@dataclass(frozen=True)
class JsonPage:
    data: str  # a JSON array of objects with FIELDS as keys
    total: int


FIELDS = ("id", "name", "description", "owner_id", "group_id", "created_at", "updated_at")


@dataclass(frozen=True)
class _Shape:
    """What varies between listing statements; the values go in as bound parameters."""

    kind: str
    permission: str
    owner: bool
    group: bool
    parent: str | None
    child: str | None = None  # only the parents of one object of this kind
    orphaned: bool = False  # only objects no parent holds
    child_count: bool = False  # a child_count column: the children the actor may read


@lru_cache(maxsize=256)
def _statements(shape: _Shape, dialect: str) -> tuple[Any, Any, Any]:
    """Count, rows and JSON statements for one shape, built once: building a statement
    costs more than SQLite takes to run it."""
    model = _model(shape.kind)
    where = [allowed_template(shape.permission, model)]
    if shape.owner:
        where.append(model.owner_id == bindparam("pv_owner"))
    if shape.group:
        where.append(model.group_id == bindparam("pv_group"))
    if shape.parent is not None:
        link, _ = LINKS[shape.parent]
        where.append(model.id.in_(select(link.child_id)
                                  .where(link.parent_id == bindparam("pv_parent"))))
    if shape.child is not None:
        link, _ = PARENTS[shape.child]
        where.append(model.id.in_(select(link.parent_id)
                                  .where(link.child_id == bindparam("pv_child"))))
    if shape.orphaned:
        link, _ = PARENTS[shape.kind]
        where.append(model.id.not_in(select(link.child_id)))
    columns = {name: getattr(model, name) for name in FIELDS}
    if shape.child_count:
        link, child_kind = LINKS[shape.kind]
        child = _model(child_kind)
        columns["child_count"] = (
            select(func.count()).select_from(link).join(child, child.id == link.child_id)
            .where(link.parent_id == model.id, allowed_template(shape.permission, child))
            .correlate(model).scalar_subquery().label("child_count"))
    count = select(func.count()).select_from(model).where(*where)
    # keyset paging: rows after the last id a client saw, found through the primary
    # key's index however deep the page (an OFFSET reads and drops every row before)
    paged = [*where, model.id > bindparam("pv_after")]
    rows = (select(*columns.values()).where(*paged).order_by(model.id)
            .offset(bindparam("pv_offset")).limit(bindparam("pv_limit")))
    return count, rows, json_page_statement(columns, paged, "id", dialect)


def _prepare(catalog: Catalog, actor: Actor, kind: str, offset: int, limit: int,
             owner: int | None, group: int | None,
             parent: tuple[str, int] | None, child: tuple[str, int] | None = None,
             orphaned: bool = False, child_count: bool = False,
             after: int = 0) -> tuple[tuple[Any, Any, Any], dict[str, Any]]:
    _model(kind)
    params = {**permission_params(actor, Right.READ), "pv_owner": owner, "pv_group": group,
              "pv_offset": offset, "pv_limit": limit, "pv_after": after}
    held_kind = None
    if child is not None:
        held_kind, params["pv_child"] = child
        if PARENTS.get(held_kind, (None, ""))[1] != kind:
            raise InvalidInputError(f"a {held_kind} is not held by {kind}s")
        get(catalog, actor, held_kind, child[1])  # 404 unless readable
    if orphaned and kind not in PARENTS:
        raise InvalidInputError(f"{kind}s have no parents to be orphaned from")
    if child_count and kind not in LINKS:
        raise InvalidInputError(f"{kind}s hold no children to count")
    parent_kind = None
    if parent is not None:
        parent_kind, params["pv_parent"] = parent
        _, child_kind = LINKS.get(parent_kind, (None, ""))
        if child_kind != kind:
            raise InvalidInputError(f"a {parent_kind} does not hold {kind}s")
        get(catalog, actor, parent_kind, parent[1])  # 404 unless readable
    shape = _Shape(kind, permission_shape(actor, Right.READ), owner is not None,
                   group is not None, parent_kind, held_kind, orphaned, child_count)
    return _statements(shape, catalog.engine.dialect.name), params


def listing(catalog: Catalog, actor: Actor, kind: str, *, offset: int = 0, limit: int = 200,
            owner: int | None = None, group: int | None = None,
            parent: tuple[str, int] | None = None, child: tuple[str, int] | None = None,
            orphaned: bool = False, child_count: bool = False, after: int = 0) -> Page:
    """Objects the actor may read: optionally only the children of ``parent``, the
    parents of ``child``, or those no parent holds (``orphaned``); with
    ``child_count``, a ``child_count`` column of the children the actor may read.

    Rows carry the columns as attributes (``row.name``), not ORM objects,
    which load several times faster. ``after``: only ids above it (keyset paging;
    the total still counts them all).
    """
    (count, rows, _), params = _prepare(catalog, actor, kind, offset, limit, owner, group,
                                        parent, child, orphaned, child_count, after)
    with catalog.session() as session:
        total = session.scalar(count, params) or 0
        return Page(list(session.execute(rows, params).all()), int(total))


def listing_json(catalog: Catalog, actor: Actor, kind: str, *, offset: int = 0,
                 limit: int = 200, owner: int | None = None, group: int | None = None,
                 parent: tuple[str, int] | None = None, after: int = 0) -> JsonPage:
    """:func:`listing` as JSON written by the database (the API's hot path)."""
    (count, _, as_json), params = _prepare(catalog, actor, kind, offset, limit, owner, group,
                                           parent, after=after)
    with catalog.session() as session:
        total = session.scalar(count, params) or 0
        return JsonPage(session.scalar(as_json, params) or "[]", int(total))


def pixels_of(catalog: Catalog, actor: Actor, image_ids: list[int]) -> dict[int, Any]:
    """The Pixels rows of those images the actor may read, by image id."""
    if not image_ids:
        return {}
    with catalog.session() as session:
        rows = session.scalars(
            select(Pixels).join(Image, Image.id == Pixels.image_id)
            .where(Pixels.image_id.in_(image_ids), allowed(actor, Right.READ, Image))).all()
        return {row.image_id: row for row in rows}


def channels_of(catalog: Catalog, actor: Actor, image_id: int) -> list[Any]:
    """The Channel rows of an image the actor may read, in order (empty otherwise)."""
    with catalog.session() as session:
        return list(session.scalars(
            select(Channel).join(Pixels, Pixels.id == Channel.pixels_id)
            .join(Image, Image.id == Pixels.image_id)
            .where(Image.id == image_id, allowed(actor, Right.READ, Image))
            .order_by(Channel.index)).all())


def rename_channels(catalog: Catalog, actor: Actor, image_id: int,
                    names: dict[int, str]) -> dict[int, str]:
    """New names for some of an image's channels (by index from 0); needs the right to
    edit the image. The names given, as stored."""
    for index, name in names.items():
        text.check_name(f"channel {index + 1}'s name", name)
        if len(name) > 255:
            raise InvalidInputError(f"channel {index + 1}'s name is longer than 255 characters")
    with catalog.session() as session:
        checked(session, actor, "image", image_id, Right.EDIT)
        rows = {c.index: c for c in session.scalars(
            select(Channel).join(Pixels, Pixels.id == Channel.pixels_id)
            .where(Pixels.image_id == image_id))}
        unknown = sorted(set(names) - set(rows))
        if unknown:
            raise InvalidInputError(f"image {image_id} has {len(rows)} channels; there is no "
                                    f"channel {unknown[0] + 1}")
        for index, name in names.items():
            rows[index].name = name
        session.flush()
    return names


def get(catalog: Catalog, actor: Actor, kind: str, object_id: int) -> Any:
    model = _model(kind)
    with catalog.session() as session:
        row = session.scalar(select(model).where(model.id == object_id,
                                                 allowed(actor, Right.READ, model)))
    if row is None:
        raise NotFoundError(f"no {kind} with id {object_id}")
    return row


def create(catalog: Catalog, actor: Actor, kind: str, name: str, description: str = "",
           group_id: int | None = None) -> Any:
    if kind not in CREATABLE:
        raise InvalidInputError(f"{kind}s are not created here; images come from import")
    _check_text(name, description)
    group_id = actor.group_id if group_id is None else group_id
    if group_id not in actor.group_ids and not actor.is_admin:
        raise ForbiddenError(f"you are not a member of group {group_id}")
    model = _model(kind)
    with catalog.session() as session:
        if group_id not in actor.group_ids and session.get(ExperimenterGroup, group_id) is None:
            # an administrator may name any group, but only one that exists
            raise NotFoundError(f"no group with id {group_id}")
        row = model(name=name, description=description, owner_id=actor.user_id,
                    group_id=group_id)
        session.add(row)
        session.flush()
        return row


def checked(session: Session, actor: Actor, kind: str, object_id: int, right: Right) -> Any:
    """The object if the actor may read it (else 404, like a missing one) and holds
    ``right`` on it (else 403)."""
    model = _model(kind)
    row = session.scalar(select(model).where(model.id == object_id,
                                             allowed(actor, Right.READ, model)))
    if row is None:
        raise NotFoundError(f"no {kind} with id {object_id}")
    if not actor.may(right, row.owner_id, row.group_id):
        raise ForbiddenError(f"you may see this {kind} but not {right.value} it")
    return row


def update(catalog: Catalog, actor: Actor, kind: str, object_id: int, *,
           name: str | None = None, description: str | None = None) -> Any:
    _check_text(name, description)
    with catalog.session() as session:
        row = checked(session, actor, kind, object_id, Right.EDIT)
        if name is not None:
            row.name = name
        if description is not None:
            row.description = description
        session.flush()
        return row


def link(catalog: Catalog, actor: Actor, parent_kind: str, parent_id: int,
         child_id: int) -> None:
    """Put a dataset in a project, or an image in a dataset (same group only, as OMERO)."""
    link_model, child_kind = LINKS.get(parent_kind, (None, ""))
    if link_model is None:
        raise InvalidInputError(f"a {parent_kind} holds nothing")
    with catalog.session() as session:
        parent = checked(session, actor, parent_kind, parent_id, Right.EDIT)
        child = checked(session, actor, child_kind, child_id, Right.READ)
        if child.group_id != parent.group_id:
            raise InvalidInputError(f"the {child_kind} is in another group than the "
                                    f"{parent_kind}; move it first")
        exists = session.scalar(select(link_model.id).where(
            link_model.parent_id == parent_id, link_model.child_id == child_id))
        if exists is None:
            session.add(link_model(parent_id=parent_id, child_id=child_id,
                                   owner_id=actor.user_id, group_id=parent.group_id))


def unlink(catalog: Catalog, actor: Actor, parent_kind: str, parent_id: int,
           child_id: int) -> None:
    link_model, _ = LINKS.get(parent_kind, (None, ""))
    if link_model is None:
        raise InvalidInputError(f"a {parent_kind} holds nothing")
    with catalog.session() as session:
        checked(session, actor, parent_kind, parent_id, Right.EDIT)
        row = session.scalar(select(link_model).where(
            link_model.parent_id == parent_id, link_model.child_id == child_id))
        if row is None:
            raise NotFoundError(f"that is not in {parent_kind} {parent_id}")
        session.delete(row)
