"""The built-in principals, and finding the actor for a user name.

OMERO starts with the ``system`` group and the ``root`` administrator; so do
we. root has no password until the server bootstrap gives it one.
"""

from __future__ import annotations

from sqlalchemy import select
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
