"""The built-in principals, and finding the actor for a user name.

OMERO starts with the ``system`` group and the ``root`` administrator; so do
we. root has no password until the server bootstrap gives it one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from pixelvault.catalog.models import (
    Experimenter,
    ExperimenterGroup,
    GroupMembership,
    Permissions,
)
from pixelvault.catalog.permissions import Actor, load_actor

SYSTEM_GROUP = "system"
USER_GROUP = "user"
ROOT_USER = "root"


def groups_visible_to(actor: Actor, group_id: Any) -> ColumnElement[bool]:
    """SQL predicate: the group in column ``group_id`` is one ``actor`` may see.

    OMERO's rule: administrators see every group, others the groups they are
    members of. A group outside it answers exactly like one that does not exist,
    so that probing ids tells nothing.
    """
    if actor.is_admin:
        return true()
    return group_id.in_(sorted(actor.group_ids))  # type: ignore[no-any-return]


def users_visible_to(actor: Actor, user_id: Any) -> ColumnElement[bool]:
    """SQL predicate: the user in column ``user_id`` is one ``actor`` may see:
    themselves and the members of their groups (administrators: everyone)."""
    if actor.is_admin:
        return true()
    fellows = select(GroupMembership.experimenter_id).where(
        GroupMembership.group_id.in_(sorted(actor.group_ids)))
    return or_(user_id == actor.user_id, user_id.in_(fellows))


def ensure_builtin_principals(session: Session) -> Experimenter:
    """Create OMERO's system and user groups and the root administrator if missing."""
    groups: dict[str, ExperimenterGroup] = {}
    for name, perms in ((SYSTEM_GROUP, Permissions.READ_ONLY), (USER_GROUP, Permissions.READ_ONLY)):
        group = session.scalar(select(ExperimenterGroup).where(ExperimenterGroup.name == name))
        if group is None:
            group = ExperimenterGroup(name=name, permissions=perms.value,
                                      description=f"built-in {name} group")
            session.add(group)
            session.flush()
        groups[name] = group
    root = session.scalar(select(Experimenter).where(Experimenter.username == ROOT_USER))
    if root is None:
        root = Experimenter(username=ROOT_USER, first_name="root", last_name="root",
                            is_admin=True, default_group_id=groups[SYSTEM_GROUP].id)
        session.add(root)
        session.flush()
        session.add(GroupMembership(experimenter_id=root.id, group_id=groups[SYSTEM_GROUP].id,
                                    is_owner=True))
        session.flush()
    return root


def actor_for(session: Session, username: str) -> Actor | None:
    user_id = session.scalar(select(Experimenter.id).where(Experimenter.username == username))
    return None if user_id is None else load_actor(session, user_id)
