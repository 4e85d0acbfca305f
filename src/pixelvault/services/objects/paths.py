"""Where an object sits in the tree: every path from its owner down to it, as
OMERO.web's ``paths_to_object`` gives them (a viewer opens the tree there, QuPath
lists an image's parents from them).

Each path runs experimenter, project, dataset, image; an image no dataset holds
runs experimenter, orphaned, image. Only parents the actor may read are followed:
the listings below filter by permission in their queries.
"""

from __future__ import annotations

from typing import Any

from pixelvault.catalog import Actor, Catalog
from pixelvault.services.objects import containers

Step = dict[str, Any]
ALL = 10_000  # parents of one object: far more than any tree holds


def _parents(catalog: Catalog, actor: Actor, kind: str, object_id: int) -> list[Any]:
    _, parent_kind = containers.PARENTS[kind]
    return containers.listing(catalog, actor, parent_kind, limit=ALL,
                              child=(kind, object_id)).rows


def _dataset_step(catalog: Catalog, actor: Actor, dataset: Any) -> Step:
    count = containers.listing(catalog, actor, "image", limit=1,
                               parent=("dataset", dataset.id)).total
    return {"type": "dataset", "id": dataset.id, "childCount": count}


def _paths_of_dataset(catalog: Catalog, actor: Actor, dataset: Any) -> list[list[Step]]:
    step = _dataset_step(catalog, actor, dataset)
    projects = _parents(catalog, actor, "dataset", dataset.id)
    if not projects:
        return [[{"type": "experimenter", "id": dataset.owner_id}, step]]
    return [[{"type": "experimenter", "id": project.owner_id},
             {"type": "project", "id": project.id}, step] for project in projects]


def paths_to(catalog: Catalog, actor: Actor, kind: str, object_id: int) -> list[list[Step]]:
    """Every path to the ``kind`` (project, dataset or image) ``object_id``; NotFoundError
    when the actor may not read it."""
    row = containers.get(catalog, actor, kind, object_id)
    if kind == "project":
        return [[{"type": "experimenter", "id": row.owner_id},
                 {"type": "project", "id": row.id}]]
    if kind == "dataset":
        return _paths_of_dataset(catalog, actor, row)
    image = {"type": "image", "id": row.id}
    datasets = _parents(catalog, actor, "image", row.id)
    if not datasets:
        return [[{"type": "experimenter", "id": row.owner_id},
                 {"type": "orphaned", "id": row.owner_id}, image]]
    return [[*path, image] for dataset in datasets
            for path in _paths_of_dataset(catalog, actor, dataset)]
