"""ROIs and their shapes in the catalog: add, list, change and remove, permission-checked.

Rules are OMERO's: drawing a ROI on an image takes the right to annotate it (so
members of a read-annotate group draw on each other's images); changing or
removing a ROI takes the right to edit or delete the ROI itself. A ROI lives in
its image's group. Every shape is checked against the image's planes before
anything is written, and one call writes everything or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Right
from pixelvault.catalog.bulk import insert_returning_ids, insert_rows
from pixelvault.catalog.models import Image, Pixels, Roi, Shape
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import ForbiddenError, InvalidInputError, NotFoundError
from pixelvault.formats import rois as model
from pixelvault.services.objects import containers

MAX_PAGE = 500
MAX_IDS = 10_000  # ROIs or shapes changed by one call
MAX_NAME = 1024
MAX_DESCRIPTION = 100_000
MAX_PLANE = 1 << 30


@dataclass(frozen=True)
class StoredShape:
    id: int
    roi_id: int
    shape: model.Shape


@dataclass(frozen=True)
class StoredRoi:
    id: int
    image_id: int
    owner_id: int
    group_id: int
    name: str
    description: str
    shapes: tuple[StoredShape, ...]


@dataclass(frozen=True)
class Window:
    """Which shapes a listing keeps: on a plane (a shape on every plane is on each), and
    overlapping a box (x0, y0, x1, y1)."""

    z: int | None = None
    t: int | None = None
    box: tuple[float, float, float, float] | None = None


def plane_of(session: Session, image_id: int) -> model.Plane:
    sizes = session.execute(select(Pixels.size_x, Pixels.size_y, Pixels.size_z, Pixels.size_c,
                                   Pixels.size_t).where(Pixels.image_id == image_id)).first()
    if sizes is None:
        raise NotFoundError(f"image {image_id} has no pixels")
    return model.Plane(*sizes)


def shape_row(shape: model.Shape) -> dict[str, Any]:
    """The catalog columns of a checked shape."""
    style = dict(shape.style)
    for key in ("stroke_color", "fill_color", "stroke_width", "font_size"):
        value = getattr(shape, key)
        if value is not None:
            style[key] = value
    min_x, min_y, max_x, max_y = shape.bounds()
    return {"kind": shape.kind, "the_z": shape.z, "the_t": shape.t, "the_c": shape.c,
            "geometry": json.dumps(list(shape.coords)), "style": json.dumps(style),
            "text": shape.text,
            "transform": json.dumps(list(shape.transform)) if shape.transform else None,
            "mask": shape.mask, "min_x": min_x, "min_y": min_y, "max_x": max_x,
            "max_y": max_y}


def shape_of(row: Any) -> model.Shape:
    style = json.loads(row.style or "{}")
    colours = {key: style.pop(key, None) for key in ("stroke_color", "fill_color",
                                                      "stroke_width", "font_size")}
    transform = json.loads(row.transform) if row.transform else None
    return model.Shape(kind=row.kind, coords=tuple(json.loads(row.geometry)), z=row.the_z,
                       t=row.the_t, c=row.the_c, text=row.text or "",
                       transform=tuple(transform) if transform else None, style=style,
                       mask=row.mask, **colours)


def _check_roi(roi: model.Roi, plane: model.Plane, what: str) -> None:
    if not roi.shapes:
        raise InvalidInputError(f"{what}: a ROI needs at least one shape")
    if len(roi.shapes) > model.MAX_SHAPES_PER_ROI:
        raise InvalidInputError(f"{what}: {len(roi.shapes)} shapes; at most "
                                f"{model.MAX_SHAPES_PER_ROI} per ROI")
    if len(roi.description) > MAX_DESCRIPTION:
        raise InvalidInputError(f"{what}: a description of {len(roi.description)} characters; "
                                f"at most {MAX_DESCRIPTION}")
    if len(roi.name) > MAX_NAME:
        raise InvalidInputError(f"{what}: a name of {len(roi.name)} characters; at most "
                                f"{MAX_NAME}")
    for number, shape in enumerate(roi.shapes):
        model.check(shape, plane, f"{what} shape {number + 1}")


def insert(session: Session, owned: dict[str, Any], image_id: int,
           found: list[model.Roi]) -> list[tuple[int, list[int]]]:
    """Rows for ROIs already checked; (roi id, shape ids) each, in order."""
    roi_ids = insert_returning_ids(session, Roi, [
        {"image_id": image_id, "name": r.name[:MAX_NAME], "description": r.description,
         **owned} for r in found])
    shapes = [{"roi_id": roi_id, "image_id": image_id, "position": position,
               **shape_row(shape)}
              for roi_id, roi in zip(roi_ids, found, strict=True)
              for position, shape in enumerate(roi.shapes)]
    shape_ids = insert_returning_ids(session, Shape, shapes)
    result, start = [], 0
    for roi_id, roi in zip(roi_ids, found, strict=True):
        result.append((roi_id, shape_ids[start:start + len(roi.shapes)]))
        start += len(roi.shapes)
    return result


def _annotatable(session: Session, actor: Actor, image_id: int) -> Image:
    image = containers.checked(session, actor, "image", image_id, Right.ANNOTATE)
    if image.group_id not in actor.group_ids and not actor.is_admin:
        raise ForbiddenError(f"image {image_id} is in a group you are not a member of")
    return image  # type: ignore[no-any-return]


def add(session: Session, actor: Actor, image_id: int, found: list[model.Roi],
        what: str = "ROI") -> list[tuple[int, list[int]]]:
    """New ROIs on an image the actor may annotate, owned by the actor, in the image's
    group; every shape is checked first."""
    image = _annotatable(session, actor, image_id)
    plane = plane_of(session, image_id)
    for number, roi in enumerate(found):
        _check_roi(roi, plane, f"{what} {number + 1}" if len(found) > 1 else what)
    now = datetime.now(UTC)
    owned = {"owner_id": actor.user_id, "group_id": image.group_id, "created_at": now,
             "updated_at": now}
    return insert(session, owned, image_id, found)


def add_stream(session: Session, actor: Actor, image_id: int, found: Iterable[model.Roi],
               batch: int = 2000) -> tuple[int, int]:
    """ROIs from a stream (a GeoJSON file), checked and written a batch at a time in the
    caller's one transaction: a bad one anywhere and none is kept. (ROIs, shapes) added."""
    image = _annotatable(session, actor, image_id)
    plane = plane_of(session, image_id)
    now = datetime.now(UTC)
    owned = {"owner_id": actor.user_id, "group_id": image.group_id, "created_at": now,
             "updated_at": now}
    pending: list[model.Roi] = []
    counts = [0, 0]

    def flush() -> None:
        insert(session, owned, image_id, pending)
        counts[0] += len(pending)
        counts[1] += sum(len(r.shapes) for r in pending)
        pending.clear()

    for number, roi in enumerate(found):
        _check_roi(roi, plane, f"ROI {number + 1}")
        pending.append(roi)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return counts[0], counts[1]


def _window(statement: Any, window: Window) -> Any:
    if window.z is not None:
        statement = statement.where(or_(Shape.the_z.is_(None), Shape.the_z == window.z))
    if window.t is not None:
        statement = statement.where(or_(Shape.the_t.is_(None), Shape.the_t == window.t))
    if window.box is not None:
        x0, y0, x1, y1 = window.box
        statement = statement.where(and_(Shape.max_x >= x0, Shape.min_x <= x1,
                                         Shape.max_y >= y0, Shape.min_y <= y1))
    return statement


def _readable_rois(actor: Actor) -> Select[Any]:
    return select(Roi).where(allowed(actor, Right.READ, Roi))


def page(session: Session, actor: Actor, *, image_id: int | None = None,
         roi_ids: list[int] | None = None, window: Window = Window(), offset: int = 0,
         limit: int = MAX_PAGE, owner: int | None = None, group: int | None = None,
         kind: str | None = None) -> tuple[list[StoredRoi], int]:
    """A page of the ROIs the actor may read (of one image, or these ids), ordered by id,
    and how many there are; with a window, the ROIs with a shape in it, and only those
    shapes."""
    rois = _readable_rois(actor)
    if image_id is not None:
        rois = rois.where(Roi.image_id == image_id)
    if roi_ids is not None:
        rois = rois.where(Roi.id.in_(roi_ids))
    if owner is not None:
        rois = rois.where(Roi.owner_id == owner)
    if group is not None:
        rois = rois.where(Roi.group_id == group)
    shapes = select(Shape.roi_id)
    if image_id is not None:  # the shapes' own index, not a scan of every image's
        shapes = shapes.where(Shape.image_id == image_id)
    if kind is not None:
        rois = rois.where(Roi.id.in_(shapes.where(Shape.kind == kind)))
    if window != Window():
        inside = _window(shapes, window)
        rois = rois.where(Roi.id.in_(inside))
    total = int(session.scalar(select(func.count()).select_from(rois.subquery())) or 0)
    rows = session.scalars(rois.order_by(Roi.id).offset(offset).limit(limit)).all()
    return _with_shapes(session, list(rows), window), total


def _on_planes(statement: Select[Any], zs: tuple[int, int],
               ts: tuple[int, int]) -> Select[Any]:
    return statement.where(or_(Shape.the_z.is_(None), Shape.the_z.between(*zs)),
                           or_(Shape.the_t.is_(None), Shape.the_t.between(*ts)))


def page_by_planes(session: Session, actor: Actor, image_id: int, zs: tuple[int, int],
                   ts: tuple[int, int], *, offset: int = 0,
                   limit: int = MAX_PAGE) -> tuple[list[StoredRoi], int]:
    """The ROIs with a shape on planes ``zs`` x ``ts`` (inclusive ranges), with all their
    shapes (iviewer's ``rois_by_plane``)."""
    inside = _on_planes(select(Shape.roi_id).where(Shape.image_id == image_id), zs, ts)
    rois = _readable_rois(actor).where(Roi.image_id == image_id, Roi.id.in_(inside))
    total = int(session.scalar(select(func.count()).select_from(rois.subquery())) or 0)
    rows = session.scalars(rois.order_by(Roi.id).offset(offset).limit(limit)).all()
    return _with_shapes(session, list(rows), Window()), total


def ids_of(session: Session, actor: Actor, image_id: int, z: int | None = None,
           t: int | None = None) -> list[int]:
    """The ids of an image's readable ROIs, in order; with a plane, those on it."""
    rois = select(Roi.id).where(Roi.image_id == image_id, allowed(actor, Right.READ, Roi))
    if z is not None or t is not None:
        zs = (z, z) if z is not None else (0, MAX_PLANE)
        ts = (t, t) if t is not None else (0, MAX_PLANE)
        rois = rois.where(Roi.id.in_(_on_planes(select(Shape.roi_id).where(
            Shape.image_id == image_id), zs, ts)))
    return [int(i) for i in session.scalars(rois.order_by(Roi.id))]


_SHAPE_COLUMNS = (Shape.id, Shape.roi_id, Shape.kind, Shape.the_z, Shape.the_t, Shape.the_c,
                  Shape.geometry, Shape.style, Shape.text, Shape.transform, Shape.mask)


def _with_shapes(session: Session, rows: list[Any], window: Window) -> list[StoredRoi]:
    """The ROIs with their shapes (plain rows, not ORM objects: an export reads 10^5)."""
    if not rows:
        return []
    shapes = _window(select(*_SHAPE_COLUMNS).where(Shape.roi_id.in_([r.id for r in rows])),
                     window)
    by_roi: dict[int, list[StoredShape]] = {}
    for shape in session.execute(shapes.order_by(Shape.roi_id, Shape.position, Shape.id)):
        by_roi.setdefault(shape.roi_id, []).append(StoredShape(shape.id, shape.roi_id,
                                                               shape_of(shape)))
    return [StoredRoi(r.id, r.image_id, r.owner_id, r.group_id, r.name, r.description,
                      tuple(by_roi.get(r.id, ()))) for r in rows]


def iterate(session: Session, actor: Actor, image_id: int,
            batch: int = 2000) -> Iterator[StoredRoi]:
    """Every ROI of an image the actor may read, a batch at a time (exports stream)."""
    after = 0
    columns = (Roi.id, Roi.image_id, Roi.owner_id, Roi.group_id, Roi.name, Roi.description)
    while True:
        rows = list(session.execute(select(*columns).where(
            allowed(actor, Right.READ, Roi), Roi.image_id == image_id,
            Roi.id > after).order_by(Roi.id).limit(batch)))
        if not rows:
            return
        yield from _with_shapes(session, rows, Window())
        after = rows[-1].id


def get(session: Session, actor: Actor, roi_id: int) -> StoredRoi:
    found, _ = page(session, actor, roi_ids=[roi_id], limit=1)
    if not found:
        raise NotFoundError(f"no ROI with id {roi_id}")
    return found[0]


def shape(session: Session, actor: Actor, shape_id: int) -> tuple[StoredRoi, StoredShape]:
    row = session.execute(select(Shape, Roi).join(Roi, Roi.id == Shape.roi_id).where(
        Shape.id == shape_id, allowed(actor, Right.READ, Roi))).first()
    if row is None:
        raise NotFoundError(f"no shape with id {shape_id}")
    found, roi = row
    stored = StoredShape(found.id, found.roi_id, shape_of(found))
    return StoredRoi(roi.id, roi.image_id, roi.owner_id, roi.group_id, roi.name,
                     roi.description, (stored,)), stored


def _owned_rois(session: Session, actor: Actor, roi_ids: Iterable[int],
                right: Right, image_id: int | None = None) -> dict[int, Roi]:
    """The ROIs, each seen with ``right`` (and on ``image_id``, when a viewer saving one
    image's changes names it), or the first that is not."""
    wanted = sorted(set(roi_ids))
    if len(wanted) > MAX_IDS:
        raise InvalidInputError(f"{len(wanted)} ROIs at once; at most {MAX_IDS}")
    rows = {r.id: r for r in session.scalars(select(Roi).where(
        Roi.id.in_(wanted), allowed(actor, Right.READ, Roi)))}
    for roi_id in wanted:
        if roi_id not in rows:
            raise NotFoundError(f"no ROI with id {roi_id}")
        if not actor.may(right, rows[roi_id].owner_id, rows[roi_id].group_id):
            raise ForbiddenError(f"you may see ROI {roi_id} but not {right.value} it")
        if image_id is not None and rows[roi_id].image_id != image_id:
            raise InvalidInputError(f"ROI {roi_id} is on image {rows[roi_id].image_id}, "
                                    f"not on image {image_id}; save each image's ROIs "
                                    "with its own id")
    return rows


def touch(session: Session, roi_ids: Iterable[int]) -> None:
    """Mark ROIs changed (their image's search document is made again)."""
    ids = sorted(set(roi_ids))
    if ids:
        session.execute(update(Roi).where(Roi.id.in_(ids)).values(
            updated_at=datetime.now(UTC)).execution_options(synchronize_session=False))


def replace_shapes(session: Session, actor: Actor,
                   changes: dict[int, tuple[int, model.Shape]],
                   image_id: int | None = None) -> None:
    """Shapes changed in place: shape id -> (its ROI's id, the new shape)."""
    if not changes:
        return
    if len(changes) > MAX_IDS:
        raise InvalidInputError(f"{len(changes)} shapes at once; at most {MAX_IDS}")
    rois = _owned_rois(session, actor, {roi for roi, _ in changes.values()}, Right.EDIT,
                       image_id)
    current = {s.id: s for s in session.scalars(select(Shape).where(
        Shape.id.in_(list(changes))))}
    planes: dict[int, model.Plane] = {}
    for shape_id, (roi_id, new) in changes.items():
        row = current.get(shape_id)
        if row is None or row.roi_id != roi_id:
            raise NotFoundError(f"ROI {roi_id} has no shape {shape_id}")
        image_id = rois[roi_id].image_id
        if image_id not in planes:
            planes[image_id] = plane_of(session, image_id)
        model.check(new, planes[image_id], f"shape {shape_id}")
    for shape_id, (_, new) in changes.items():
        session.execute(update(Shape).where(Shape.id == shape_id).values(**shape_row(new)))
    touch(session, rois)


def remove_shapes(session: Session, actor: Actor, shapes: dict[int, list[int]],
                  image_id: int | None = None) -> list[int]:
    """Shapes removed (ROI id -> shape ids); a ROI left without shapes is removed too, as
    OMERO's viewers do. The ROIs removed."""
    rois = _owned_rois(session, actor, shapes, Right.DELETE, image_id)
    if sum(len(ids) for ids in shapes.values()) > MAX_IDS:
        raise InvalidInputError(f"more than {MAX_IDS} shapes at once")
    for roi_id, shape_ids in shapes.items():
        session.execute(delete(Shape).where(Shape.roi_id == roi_id,
                                            Shape.id.in_(shape_ids)))
    emptied = [roi_id for roi_id in rois if session.scalar(
        select(func.count()).select_from(Shape).where(Shape.roi_id == roi_id)) == 0]
    if emptied:
        session.execute(delete(Roi).where(Roi.id.in_(emptied)))
    touch(session, set(rois) - set(emptied))
    return emptied


def remove(session: Session, actor: Actor, roi_ids: list[int],
           image_id: int | None = None) -> int:
    """ROIs removed with their shapes; how many."""
    _owned_rois(session, actor, roi_ids, Right.DELETE, image_id)
    session.execute(delete(Shape).where(Shape.roi_id.in_(roi_ids)))
    result = session.execute(delete(Roi).where(Roi.id.in_(roi_ids)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def count(session: Session, actor: Actor, image_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Roi).where(
        Roi.image_id == image_id, allowed(actor, Right.READ, Roi))) or 0)


def shape_count(session: Session, actor: Actor, image_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Shape).join(
        Roi, Roi.id == Shape.roi_id).where(Shape.image_id == image_id,
                                           allowed(actor, Right.READ, Roi))) or 0)


def plane_counts(session: Session, actor: Actor, image_id: int) -> list[list[int]]:
    """How many shapes the actor may see on each plane, ``[z][t]``; a shape without a Z
    (or T) counts on every one, as iviewer's plane grid shows it."""
    plane = plane_of(session, image_id)
    grid = [[0] * plane.size_t for _ in range(plane.size_z)]
    rows = session.execute(select(Shape.the_z, Shape.the_t, func.count()).join(
        Roi, Roi.id == Shape.roi_id).where(
        Shape.image_id == image_id, allowed(actor, Right.READ, Roi)).group_by(
        Shape.the_z, Shape.the_t)).all()
    for z, t, number in rows:
        zs = range(plane.size_z) if z is None else [z] if 0 <= z < plane.size_z else []
        ts = range(plane.size_t) if t is None else [t] if 0 <= t < plane.size_t else []
        for zi in zs:
            for ti in ts:
                grid[zi][ti] += int(number)
    return grid


def copy_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    insert_rows(session, Shape, rows)
