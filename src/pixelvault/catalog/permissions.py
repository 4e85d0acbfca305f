"""OMERO's permission model, applied inside every query that returns user data.

An actor may do anything to what it owns. On other members' data, what it may
do depends on the group's level and on whether it owns the group
(OMERO-REFERENCE §9). We turn that table into one set of group ids per right,
computed once per request, so that every check is a plain SQL predicate
``owner_id = me OR group_id IN (...)``: no row the actor may not see ever
leaves the database, and counts and pages are right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, or_, select, true
from sqlalchemy.orm import Session

from pixelvault.catalog.models import Experimenter, ExperimenterGroup, GroupMembership
from pixelvault.catalog.models.principals import Permissions


class Right(StrEnum):
    READ = "read"
    ANNOTATE = "annotate"
    EDIT = "edit"
    DELETE = "delete"


_MEMBER: dict[Permissions, frozenset[Right]] = {
    Permissions.PRIVATE: frozenset(),
    Permissions.READ_ONLY: frozenset({Right.READ}),
    Permissions.READ_ANNOTATE: frozenset({Right.READ, Right.ANNOTATE}),
    Permissions.READ_WRITE: frozenset(Right),
}


def rights_on_others(level: Permissions, group_owner: bool) -> frozenset[Right]:
    """What a group member may do to *another* member's data in that group."""
    rights = _MEMBER[level]
    if group_owner:
        # Group owners view and delete members' data; they annotate it unless private.
        extra = {Right.READ, Right.DELETE}
        if level is not Permissions.PRIVATE:
            extra.add(Right.ANNOTATE)
        rights = rights | extra
    return frozenset(rights)


@dataclass(frozen=True)
class Actor:
    """The user a query runs for; every query returning user data takes one."""

    user_id: int
    username: str
    is_admin: bool
    group_id: int  # the group the user works in now; new objects go there
    group_ids: frozenset[int]
    owned_group_ids: frozenset[int] = frozenset()
    groups_with: Mapping[Right, frozenset[int]] = field(default_factory=dict)

    def may_in_group(self, right: Right, group_id: int) -> bool:
        return self.is_admin or group_id in self.groups_with.get(right, frozenset())

    def may(self, right: Right, owner_id: int, group_id: int) -> bool:
        """The same rule as :func:`allowed`, for an object already in hand."""
        return self.is_admin or owner_id == self.user_id or self.may_in_group(right, group_id)


def allowed(actor: Actor, right: Right, model: Any) -> ColumnElement[bool]:
    """SQL predicate: ``model`` rows on which ``actor`` holds ``right``."""
    if actor.is_admin:
        return true()
    groups = actor.groups_with.get(right, frozenset())
    mine = model.owner_id == actor.user_id
    if not groups:
        return or_(mine, false())
    return or_(mine, model.group_id.in_(sorted(groups)))


def permission_shape(actor: Actor, right: Right) -> str:
    """Which form :func:`allowed` takes for this actor: part of a cached statement's key."""
    if actor.is_admin:
        return "admin"
    return "own+groups" if actor.groups_with.get(right) else "own"


def allowed_template(shape: str, model: Any) -> ColumnElement[bool]:
    """:func:`allowed` with the actor's ids as bound parameters, for statements built
    once and run many times; :func:`permission_params` gives the values."""
    if shape == "admin":
        return true()
    mine: ColumnElement[bool] = model.owner_id == bindparam("pv_me")
    if shape == "own":
        return mine
    return or_(mine, model.group_id.in_(bindparam("pv_groups", expanding=True)))


def permission_params(actor: Actor, right: Right) -> dict[str, Any]:
    return {"pv_me": actor.user_id,
            "pv_groups": sorted(actor.groups_with.get(right, frozenset()))}


def load_actor(session: Session, user_id: int, group_id: int | None = None) -> Actor | None:
    """The actor for a user, working in ``group_id`` (default: their default group)."""
    user = session.get(Experimenter, user_id)
    if user is None:
        return None
    rows = session.execute(
        select(GroupMembership.group_id, GroupMembership.is_owner, ExperimenterGroup.permissions)
        .join(ExperimenterGroup, ExperimenterGroup.id == GroupMembership.group_id)
        .where(GroupMembership.experimenter_id == user_id)
    ).all()
    groups_with: dict[Right, set[int]] = {right: set() for right in Right}
    member_of, owner_of = set(), set()
    for gid, is_owner, level in rows:
        member_of.add(gid)
        if is_owner:
            owner_of.add(gid)
        for right in rights_on_others(Permissions(level), is_owner):
            groups_with[right].add(gid)
    if group_id is None or group_id not in member_of:
        group_id = user.default_group_id if user.default_group_id in member_of else None
    if group_id is None:
        group_id = min(member_of, default=0)
    return Actor(
        user_id=user.id, username=user.username, is_admin=user.is_admin, group_id=group_id,
        group_ids=frozenset(member_of), owned_group_ids=frozenset(owner_of),
        groups_with={right: frozenset(ids) for right, ids in groups_with.items()},
    )
