"""Users and groups: created by administrators, seen only by those who share a group.

Everyone may see themselves and the members of their groups; only
administrators see everyone (OMERO's CVE-2019-16245 let any user list all).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.orm import Session

from pixelvault import text
from pixelvault.catalog import Actor, Catalog
from pixelvault.catalog.models import (
    Annotation,
    AnnotationLink,
    Dataset,
    DatasetImageLink,
    Experimenter,
    ExperimenterGroup,
    Fileset,
    GroupMembership,
    Image,
    OriginalFile,
    Permissions,
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
from pixelvault.catalog.principals import (
    ROOT_USER,
    SYSTEM_GROUP,
    USER_GROUP,
    groups_visible_to,
    users_visible_to,
)
from pixelvault.errors import ForbiddenError, InvalidInputError, NotFoundError
from pixelvault.services.access import auth, passwords

LEVEL_NAMES = {
    "private": Permissions.PRIVATE,
    "read-only": Permissions.READ_ONLY,
    "read-annotate": Permissions.READ_ANNOTATE,
    "read-write": Permissions.READ_WRITE,
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,254}$")


def parse_level(text: str) -> Permissions:
    """OMERO's names (read-annotate) or strings (rwra--)."""
    if text in LEVEL_NAMES:
        return LEVEL_NAMES[text]
    try:
        return Permissions(text)
    except ValueError:
        raise InvalidInputError(
            f"{text!r} is not a group type; use one of: {', '.join(LEVEL_NAMES)}"
        ) from None


def _check_name(kind: str, name: str) -> str:
    text.check_name(f"a {kind} name", name)
    if not _NAME.match(name):
        raise InvalidInputError(
            f"{kind} name {name!r} may hold letters, digits and . _ @ - (at most 255)"
        )
    return name


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise ForbiddenError("only administrators may do this")


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    is_admin: bool
    group_ids: list[int]


def list_users(catalog: Catalog, actor: Actor) -> list[UserInfo]:
    with catalog.session() as session:
        users = session.scalars(select(Experimenter)
                                .where(users_visible_to(actor, Experimenter.id))
                                .order_by(Experimenter.id)).all()
        memberships: dict[int, list[int]] = {}
        # Only the memberships of groups the caller may see: a fellow member's
        # other groups are not the caller's business (nor their existence).
        for user_id, group_id in session.execute(
                select(GroupMembership.experimenter_id, GroupMembership.group_id)
                .where(GroupMembership.experimenter_id.in_([u.id for u in users]),
                       groups_visible_to(actor, GroupMembership.group_id))):
            memberships.setdefault(user_id, []).append(group_id)
        return [UserInfo(u.id, u.username, u.first_name, u.last_name, u.email, u.is_admin,
                         sorted(memberships.get(u.id, []))) for u in users]


def get_user(catalog: Catalog, actor: Actor, user_id: int) -> UserInfo:
    for user in list_users(catalog, actor):
        if user.id == user_id:
            return user
    raise NotFoundError(f"no user with id {user_id}")


@dataclass(frozen=True)
class GroupInfo:
    id: int
    name: str
    permissions: str
    description: str


def list_groups(catalog: Catalog, actor: Actor) -> list[GroupInfo]:
    query = select(ExperimenterGroup).where(
        groups_visible_to(actor, ExperimenterGroup.id)).order_by(ExperimenterGroup.id)
    with catalog.session() as session:
        return [GroupInfo(g.id, g.name, g.permissions, g.description)
                for g in session.scalars(query)]


def _group_id(session: Session, actor: Actor, name_or_id: str | int) -> int:
    """The id of a group ``actor`` may see; one it may not see is reported missing."""
    column = ExperimenterGroup.id if isinstance(name_or_id, int) else ExperimenterGroup.name
    group_id = session.scalar(select(ExperimenterGroup.id).where(
        column == name_or_id, groups_visible_to(actor, ExperimenterGroup.id)))
    if group_id is None:
        raise NotFoundError(f"no group {name_or_id!r}; list them with `pixelvault group list`")
    return int(group_id)


def create_group(catalog: Catalog, actor: Actor, name: str, level: Permissions,
                 description: str = "") -> int:
    require_admin(actor)
    _check_name("group", name)
    text.check_text("a description", description)
    try:
        with catalog.session() as session:
            group = ExperimenterGroup(name=name, permissions=level.value,
                                      description=description)
            session.add(group)
            session.flush()
            return group.id
    except SqlIntegrityError:
        raise InvalidInputError(f"a group named {name!r} exists already") from None


def create_user(catalog: Catalog, actor: Actor, username: str, first_name: str,
                last_name: str, groups: list[str | int], *, password: str | None = None,
                email: str = "", admin: bool = False) -> int:
    require_admin(actor)
    _check_name("user", username)
    for what, value in (("a first name", first_name), ("a last name", last_name),
                        ("an email address", email)):
        text.check_name(what, value)
    if not groups:
        raise InvalidInputError("a user needs at least one group (--group-name)")
    password_hash = passwords.hash_password(password) if password is not None else None
    try:
        with catalog.session() as session:
            group_ids = [_group_id(session, actor, g) for g in groups]
            user = Experimenter(username=username, first_name=first_name, last_name=last_name,
                                email=email, is_admin=admin, password_hash=password_hash,
                                default_group_id=group_ids[0])
            session.add(user)
            session.flush()
            for group_id in dict.fromkeys(group_ids):
                session.add(GroupMembership(experimenter_id=user.id, group_id=group_id))
            return user.id
    except SqlIntegrityError:
        raise InvalidInputError(f"a user named {username!r} exists already") from None


def add_member(catalog: Catalog, actor: Actor, group: str | int, user_id: int, *,
               owner: bool = False) -> None:
    with catalog.session() as session:
        group_id = _group_id(session, actor, group)
        if not (actor.is_admin or group_id in actor.owned_group_ids):
            raise ForbiddenError("only administrators and the group's owners may add members")
        if session.get(Experimenter, user_id) is None:
            raise NotFoundError(f"no user with id {user_id}")
        membership = session.get(GroupMembership, (user_id, group_id))
        if membership is None:
            session.add(GroupMembership(experimenter_id=user_id, group_id=group_id,
                                        is_owner=owner))
        else:
            membership.is_owner = owner or membership.is_owner
    auth.forget_checked_sessions()  # the member's rights changed


def remove_member(catalog: Catalog, actor: Actor, group: str | int, user_id: int) -> None:
    """The user leaves the group; what they own there stays theirs. Never their last
    group (a user outside every group could do nothing); a default group that goes is
    replaced by another of theirs."""
    with catalog.session() as session:
        group_id = _group_id(session, actor, group)
        if not (actor.is_admin or group_id in actor.owned_group_ids):
            raise ForbiddenError("only administrators and the group's owners may remove "
                                 "members")
        # the user's memberships, locked: two removals at once never leave them in none
        held = {m.group_id: m for m in session.scalars(select(GroupMembership).where(
            GroupMembership.experimenter_id == user_id).with_for_update())}
        membership = held.get(group_id)
        if membership is None:
            raise NotFoundError(f"user {user_id} is not a member of group {group_id}")
        user = session.get(Experimenter, user_id)
        if not actor.is_admin and (membership.is_owner or (user is not None and user.is_admin)):
            raise ForbiddenError("only administrators may remove a group's owner or an "
                                 "administrator from a group")
        others = sorted(gid for gid in held if gid != group_id)
        if not others:
            raise InvalidInputError(f"group {group_id} is user {user_id}'s only group; add "
                                    "them to another group first")
        if user is not None and user.default_group_id == group_id:
            user.default_group_id = others[0]
        session.delete(membership)
    auth.forget_checked_sessions()  # the member's rights changed


def update_user(catalog: Catalog, actor: Actor, user_id: int, *,
                first_name: str | None = None, last_name: str | None = None,
                email: str | None = None, admin: bool | None = None) -> None:
    """Administrators edit a user's names, address and administrator flag. Nobody takes
    their own flag, nor root's: the last way in as an administrator must stay."""
    require_admin(actor)
    for what, value in (("a first name", first_name), ("a last name", last_name),
                        ("an email address", email)):
        if value is not None:
            text.check_name(what, value)
    with catalog.session() as session:
        user = session.get(Experimenter, user_id)
        if user is None:
            raise NotFoundError(f"no user with id {user_id}")
        if admin is False and user.is_admin and (user_id == actor.user_id
                                                 or user.username == ROOT_USER):
            raise InvalidInputError("you cannot take the administrator flag from yourself "
                                    "or from root; ask another administrator")
        if first_name is not None:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name
        if email is not None:
            user.email = email
        if admin is not None:
            user.is_admin = admin
    auth.forget_checked_sessions()  # the user's rights may have changed


def _cross_owner_links(session: Session, group_id: int) -> int:
    """How many links in the group join one user's data to another's: a private group
    would leave them pointing at what their owners may no longer see."""
    total = 0
    for link, parent, child in ((ProjectDatasetLink, Project, Dataset),
                                (DatasetImageLink, Dataset, Image),
                                (ScreenPlateLink, Screen, Plate)):
        total += session.scalar(
            select(func.count()).select_from(link)
            .join(parent, parent.id == link.parent_id).join(child, child.id == link.child_id)
            .where(link.group_id == group_id,
                   (parent.owner_id != child.owner_id) | (link.owner_id != child.owner_id)
                   | (link.owner_id != parent.owner_id))) or 0
    total += session.scalar(
        select(func.count()).select_from(AnnotationLink)
        .join(Annotation, Annotation.id == AnnotationLink.annotation_id)
        .where(AnnotationLink.group_id == group_id,
               AnnotationLink.owner_id != Annotation.owner_id)) or 0
    for kind, model in (("project", Project), ("dataset", Dataset), ("image", Image),
                        ("screen", Screen), ("plate", Plate)):
        total += session.scalar(
            select(func.count()).select_from(AnnotationLink)
            .join(model, model.id == AnnotationLink.parent_id)
            .where(AnnotationLink.group_id == group_id, AnnotationLink.parent_kind == kind,
                   AnnotationLink.owner_id != model.owner_id)) or 0
    # an owned row pointing at another owned row: a ROI on an image, a field of a well,
    # an image of a fileset, an attachment's file
    pointers: list[tuple[Any, Any, Any]] = [
        (Roi, Roi.image_id, Image), (Image, Image.fileset_id, Fileset),
        (Plate, Plate.fileset_id, Fileset), (Well, Well.plate_id, Plate),
        (PlateAcquisition, PlateAcquisition.plate_id, Plate),
        (WellSample, WellSample.well_id, Well), (WellSample, WellSample.image_id, Image),
        (Annotation, Annotation.file_id, OriginalFile)]
    for owned, column, target in pointers:
        total += session.scalar(
            select(func.count()).select_from(owned).join(target, target.id == column)
            .where(owned.group_id == group_id, owned.owner_id != target.owner_id)) or 0
    return int(total)


def update_group(catalog: Catalog, actor: Actor, group_id: int, *, name: str | None = None,
                 description: str | None = None, level: Permissions | None = None) -> None:
    """Rename a group, describe it or change its permission level (administrators; a
    group's owners may edit its description). As in OMERO, a group goes private only
    while no link joins one member's data to another's."""
    if name is not None:
        _check_name("group", name)
    if description is not None:
        text.check_text("a description", description)
    try:
        with catalog.session() as session:
            group = session.get(ExperimenterGroup, _group_id(session, actor, group_id),
                                with_for_update=True)
            assert group is not None
            if not actor.is_admin and (name is not None or level is not None
                                       or group_id not in actor.owned_group_ids):
                raise ForbiddenError("only administrators may rename a group or change its "
                                     "permission level; its owners may edit its description")
            if group.name in (SYSTEM_GROUP, USER_GROUP) and (name is not None or level is not None):
                raise InvalidInputError(f"group {group.name!r} is built in; its name and "
                                        "level stay")
            if level is Permissions.PRIVATE and group.permissions != level.value:
                crossing = _cross_owner_links(session, group.id)
                if crossing:
                    raise InvalidInputError(
                        f"group {group.name!r} holds {crossing} link(s) between different "
                        "members' data (annotations, containers, ROIs); remove them or "
                        "choose read-only")
            if name is not None:
                group.name = name
            if description is not None:
                group.description = description
            if level is not None:
                group.permissions = level.value
    except SqlIntegrityError:
        raise InvalidInputError(f"a group named {name!r} exists already") from None
    auth.forget_checked_sessions()  # members' rights follow the level


def set_password(catalog: Catalog, actor: Actor, user_id: int, new_password: str,
                 old_password: str | None = None) -> int:
    """Change a password (your own with the old one; others' as an administrator);
    ends that user's sessions."""
    new_hash = passwords.hash_password(new_password)
    with catalog.session() as session:
        user = session.get(Experimenter, user_id)
        if user is None or (user_id != actor.user_id and not actor.is_admin):
            raise NotFoundError(f"no user with id {user_id}")
        # Your own password always needs the old one, administrators included: a
        # session left open must not be enough to take the account over.
        if user_id == actor.user_id and not passwords.check_password(
                user.password_hash, old_password or ""):
            raise ForbiddenError("the old password is wrong")
        user.password_hash = new_hash
    return auth.close_user_sessions(catalog, user_id)


def bootstrap_root_password(catalog: Catalog, password: str | None) -> str | None:
    """Give root a password on first start; returns a generated one to print once."""
    with catalog.session() as session:
        root = session.scalar(select(Experimenter).where(Experimenter.username == ROOT_USER))
        if root is None or root.password_hash is not None:
            return None
        generated = None
        if not password:
            generated = password = secrets.token_urlsafe(12)
        root.password_hash = passwords.hash_password(password)
        return generated


def names(catalog: Catalog, user_ids: set[int],
          group_ids: set[int]) -> tuple[dict[int, Experimenter], dict[int, ExperimenterGroup]]:
    """Owners and groups of objects the caller has already been allowed to read."""
    with catalog.session() as session:
        users = {u.id: u for u in session.scalars(
            select(Experimenter).where(Experimenter.id.in_(sorted(user_ids))))}
        groups = {g.id: g for g in session.scalars(
            select(ExperimenterGroup).where(ExperimenterGroup.id.in_(sorted(group_ids))))}
        return users, groups
