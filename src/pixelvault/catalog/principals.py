"""Who acts: the acting user of every query, and the built-in principals.

OMERO starts with the ``system`` group and the ``root`` administrator; so do
we. root has no password until the server bootstrap gives it one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pixelvault.catalog.models import (
    Experimenter,
    ExperimenterGroup,
    GroupMembership,
    Permissions,
)

SYSTEM_GROUP = "system"
USER_GROUP = "user"
ROOT_USER = "root"


@dataclass(frozen=True)
class Actor:
    """The user a query runs for; every query returning user data takes one."""

    user_id: int
    username: str
    is_admin: bool
    group_id: int  # the group the user works in now; new objects go there
    group_ids: frozenset[int]


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
    user = session.scalar(select(Experimenter).where(Experimenter.username == username))
    if user is None:
        return None
    group_ids = session.scalars(
        select(GroupMembership.group_id).where(GroupMembership.experimenter_id == user.id)
    ).all()
    if user.default_group_id is not None and user.default_group_id in group_ids:
        current = user.default_group_id
    else:
        current = min(group_ids, default=0)
    return Actor(user.id, user.username, user.is_admin, current, frozenset(group_ids))
