"""A whole import: the target dataset, then each planned fileset on its own.

One fileset failing (a damaged file, a full disk) is reported and the others
go on; nothing of the failed one stays behind.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select

from pixelvault.catalog import Actor, Catalog, Right
from pixelvault.catalog.models import Dataset
from pixelvault.errors import InvalidInputError, PixelvaultError
from pixelvault.services.imports.fileset import (
    ImportedFileset,
    ImportOptions,
    import_fileset,
    template_values,
)
from pixelvault.services.imports.plan import Plan, PlannedFileset
from pixelvault.services.imports.unreadable import unreadable
from pixelvault.services.objects import containers
from pixelvault.services.vault import Vault


@dataclass
class Failure:
    fileset: PlannedFileset
    reason: str


@dataclass
class Outcome:
    imported: list[ImportedFileset] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)


def resolve_dataset(catalog: Catalog, actor: Actor, wanted: str | None,
                    *, create: bool = True) -> int | None:
    """A dataset by id (one you may edit, in your current group), or by name: yours, in
    your current group, created when there is none."""
    if wanted is None:
        return None
    if wanted.isdigit():
        with catalog.session() as session:
            row = containers.checked(session, actor, "dataset", int(wanted), Right.EDIT)
            if row.group_id != actor.group_id:
                raise InvalidInputError(
                    f"dataset {wanted} is in group {row.group_id}, you work in group "
                    f"{actor.group_id}; switch groups first (`pixelvault sessions group`)")
            return int(row.id)
    with catalog.session() as session:
        found = session.scalar(select(Dataset.id).where(
            Dataset.name == wanted, Dataset.owner_id == actor.user_id,
            Dataset.group_id == actor.group_id).order_by(Dataset.id))
    if found is not None:
        return int(found)
    if not create:
        return None
    return int(containers.create(catalog, actor, "dataset", wanted).id)


def run(vault: Vault, actor: Actor, plan: Plan, options: ImportOptions,
        progress: Callable[[int], None] | None = None,
        on_done: Callable[[PlannedFileset, ImportedFileset | Failure], None] | None = None,
        parallel: int = 1) -> Outcome:
    """Import each planned fileset; ``parallel`` of them at once (threads: the work is
    reading, hashing and writing files, which release the interpreter)."""
    values = template_values(vault, actor)

    def one(planned: PlannedFileset) -> ImportedFileset | Failure:
        try:
            result: ImportedFileset | Failure = import_fileset(vault, actor, planned, options,
                                                               progress, values)
        except PixelvaultError as exc:
            result = Failure(planned, exc.message)
        except Exception as exc:  # a reader's surprise fails this fileset, the others go on
            result = Failure(planned, unreadable(planned.files[0], exc).message)
        if on_done is not None:
            on_done(planned, result)
        return result

    if parallel > 1 and len(plan.filesets) > 1:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            results = list(pool.map(one, plan.filesets))
    else:
        results = [one(planned) for planned in plan.filesets]
    outcome = Outcome()
    for result in results:
        if isinstance(result, Failure):
            outcome.failed.append(result)
        else:
            outcome.imported.append(result)
    return outcome
