"""OMERO's permission table (§9), as a pure rule and as the SQL filter of every query."""

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from pixelvault.catalog import Catalog, migrate
from pixelvault.catalog.models import (
    Experimenter,
    ExperimenterGroup,
    GroupMembership,
    Permissions,
    Project,
)
from pixelvault.catalog.permissions import Right, allowed, load_actor, rights_on_others
from tests.conftest import Env

R, A, E, D = Right.READ, Right.ANNOTATE, Right.EDIT, Right.DELETE
LEVELS = [Permissions.PRIVATE, Permissions.READ_ONLY, Permissions.READ_ANNOTATE,
          Permissions.READ_WRITE]

# OMERO-REFERENCE §9, row by row: what a member may do to another member's data...
MEMBER = {
    Permissions.PRIVATE: set(),
    Permissions.READ_ONLY: {R},
    Permissions.READ_ANNOTATE: {R, A},
    Permissions.READ_WRITE: {R, A, E, D},
}
# ...and a group owner: view, annotate, delete (private: view and delete only).
OWNER = {
    Permissions.PRIVATE: {R, D},
    Permissions.READ_ONLY: {R, A, D},
    Permissions.READ_ANNOTATE: {R, A, D},
    Permissions.READ_WRITE: {R, A, E, D},
}


@pytest.mark.parametrize("level", LEVELS)
def test_rights_follow_omeros_table(level: Permissions) -> None:
    assert rights_on_others(level, group_owner=False) == MEMBER[level]
    assert rights_on_others(level, group_owner=True) == OWNER[level]


@pytest.fixture
def catalog(env: Env) -> Iterator[Catalog]:
    catalog = Catalog(env.settings().db_url)
    migrate.upgrade(catalog.engine)
    yield catalog
    catalog.dispose()


def _world(catalog: Catalog) -> dict[str, int]:
    """Per level, a group with alice (owner of a project), bob (member), olga (group
    owner); plus xavier in no group and root the admin."""
    ids: dict[str, int] = {}
    with catalog.session() as s:
        users = {name: Experimenter(username=name, is_admin=(name == "root"))
                 for name in ("alice", "bob", "olga", "xavier", "root")}
        s.add_all(users.values())
        s.flush()
        for level in LEVELS:
            group = ExperimenterGroup(name=f"g-{level.value}", permissions=level.value)
            s.add(group)
            s.flush()
            for name, owner in (("alice", False), ("bob", False), ("olga", True)):
                s.add(GroupMembership(experimenter_id=users[name].id, group_id=group.id,
                                      is_owner=owner))
            project = Project(name=f"alice's in {level.value}", owner_id=users["alice"].id,
                              group_id=group.id)
            s.add(project)
            s.flush()
            ids[level.value] = project.id
        ids.update({name: user.id for name, user in users.items()})
    return ids


def visible(catalog: Catalog, user_id: int, right: Right) -> set[int]:
    with catalog.session() as s:
        actor = load_actor(s, user_id)
        assert actor is not None
        return set(s.scalars(select(Project.id).where(allowed(actor, right, Project))).all())


@pytest.mark.parametrize("right", list(Right))
def test_sql_filter_matches_the_table_for_every_role(catalog: Catalog, right: Right) -> None:
    ids = _world(catalog)
    everything = {ids[level.value] for level in LEVELS}
    assert visible(catalog, ids["alice"], right) == everything  # the owner
    assert visible(catalog, ids["root"], right) == everything  # the administrator
    assert visible(catalog, ids["xavier"], right) == set()  # in no group
    assert visible(catalog, ids["bob"], right) == {
        ids[level.value] for level in LEVELS if right in MEMBER[level]}
    assert visible(catalog, ids["olga"], right) == {
        ids[level.value] for level in LEVELS if right in OWNER[level]}


def test_actor_works_in_one_group_at_a_time(catalog: Catalog) -> None:
    ids = _world(catalog)
    with catalog.session() as s:
        groups = {g.name: g.id for g in s.scalars(select(ExperimenterGroup))}
        bob = load_actor(s, ids["bob"], groups["g-rwra--"])
        assert bob is not None and bob.group_id == groups["g-rwra--"]
        # A group the user is not a member of is not taken.
        assert load_actor(s, ids["xavier"], groups["g-rwra--"]).group_id == 0  # type: ignore[union-attr]
        assert load_actor(s, 10_000) is None


def test_removing_a_file_needs_the_delete_right_not_just_read(catalog: Catalog) -> None:
    from pixelvault.catalog import files as file_rows
    from pixelvault.catalog.models import OriginalFile

    ids = _world(catalog)
    with catalog.session() as s:
        group = s.scalar(select(ExperimenterGroup.id).where(
            ExperimenterGroup.name == "g-rwr---"))
        s.add(OriginalFile(id=1, store="Files", path="Files/1", name="a", size=1,
                           hasher="SHA1-160", hash="x", owner_id=ids["alice"], group_id=group))
    with catalog.session() as s:
        bob = load_actor(s, ids["bob"])
        assert bob is not None
        assert file_rows.get(s, bob, 1) is not None  # bob may read it...
        assert file_rows.remove(s, bob, 1) is None  # ...but not delete it
    with catalog.session() as s:
        alice = load_actor(s, ids["alice"])
        assert alice is not None and file_rows.remove(s, alice, 1) is not None
