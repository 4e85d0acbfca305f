"""`pixelvault chgrp`, `chown` and `delete`, with OMERO's argument forms."""

from __future__ import annotations

from typing import Any

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, console, print_json, print_table
from pixelvault.cli.principals import find_principal

TARGETS_HELP = "Objects as Project:ID, Dataset:ID, Image:ID, Screen:ID or Plate:ID."
DRY_RUN_HELP = "Show what would move and change nothing."


def _report(answer: dict[str, Any], verb: str, output: Output) -> None:
    if output is Output.json:
        print_json(answer)
        return
    moved = answer["moved"]
    print_table(["kind", "count", "ids"],
                [(kind, len(ids), ", ".join(map(str, ids[:20])) + (" ..." if len(ids) > 20
                                                                    else ""))
                 for kind, ids in moved.items()],
                title=("would " if answer["dry_run"] else "") + verb)
    cut = {k: v for k, v in answer["unlinked"].items() if v}
    if cut:
        console.print("links to what stays " + ("would be " if answer["dry_run"] else "")
                      + "removed: " + ", ".join(f"{k} {v}" for k, v in cut.items()),
                      markup=False)


def chgrp(
    group: str = typer.Argument(..., help="Group name, id or Group:ID."),
    targets: list[str] = typer.Argument(..., help=TARGETS_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Move data to another group, with what it contains (OMERO's chgrp).

    A project takes its datasets and images, each object its annotations,
    unless they also belong to something that stays.

    Examples:

        pixelvault chgrp lab-b Project:51 --dry-run

        pixelvault chgrp Group:5 Dataset:7 Image:3
    """
    with connection() as conn:
        found = find_principal(conn.groups.list(), "name", group, "group")
        answer = conn.chgrp(targets, found["id"], dry_run=dry_run)
    _report(answer, f"moved to {found['name']}", output)


def chown(
    user: str = typer.Argument(..., help="User name, id or Experimenter:ID."),
    targets: list[str] = typer.Argument(..., help=TARGETS_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Give data to another user (administrators, and group owners in their groups).

    Examples:

        pixelvault chown bob Project:51

        pixelvault chown Experimenter:4 Dataset:7 --output json
    """
    with connection() as conn:
        found = find_principal(conn.users.list(), "username", user, "user")
        answer = conn.chown(targets, found["id"], dry_run=dry_run)
    _report(answer, f"given to {found['username']}", output)


def delete(
    targets: list[str] = typer.Argument(
        ..., help="Project:ID, Dataset:ID, Image:ID, Fileset:ID, Plate:ID or Screen:ID."),
) -> None:
    """Delete objects (OMERO's delete). An image of a fileset with several images goes
    only with the whole fileset, a field of a plate only with its plate; a screen takes
    the plates no other screen holds. Original files' bytes go last.

    Examples:

        pixelvault delete Image:12

        pixelvault delete Fileset:4 Project:7

        pixelvault delete Plate:3
    """
    with connection() as conn:
        for target in targets:
            conn.delete(target)
            console.print(f"deleted {target}", markup=False)
