"""`pixelvault admin search status` and `pixelvault admin reindex`: the FullText index of
this machine's repository."""

from __future__ import annotations

import sys

import typer

from pixelvault.cli.local import vault_session
from pixelvault.cli.output import Output, console, errors, print_json, print_table

app = typer.Typer(help="The full-text search index in FullText/.", no_args_is_help=True)


@app.command("status")
def status(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Whether the index is usable, how many documents it holds and how many catalog
    events it has still to read (the lag).

    Example:

        pixelvault admin search status --output json
    """
    from pixelvault.services.search.index import index_of

    with vault_session("pixelvault admin search status") as vault:
        found = index_of(vault).status()
    data = {"state": found.state, "documents": found.documents, "position": found.position,
            "newest_event": found.newest, "lag": found.lag, "index": found.index}
    if output is Output.json:
        print_json(data)
        return
    print_table(["state", "documents", "lag", "index"],
                [(found.state, found.documents, found.lag, found.index or "(none)")])


def reindex(
    kind: list[str] = typer.Option([], "--type", "-t",
                                   help="Only these kinds (image, dataset, project, fileset, "
                                        "annotation), refreshed in the live index."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Rebuild the search index from the catalog, online: a new index is built beside the
    live one while searches go on, then replaces it in one step.

    Examples:

        pixelvault admin reindex

        pixelvault admin reindex --type image
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from pixelvault.errors import InvalidInputError
    from pixelvault.services.search import schema
    from pixelvault.services.search.index import index_of

    for item in kind:
        if item not in schema.KINDS:
            raise InvalidInputError(f"--type {item!r}: use {', '.join(schema.KINDS)}")
    with vault_session("pixelvault admin reindex") as vault, \
            Progress("documents", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                     console=errors, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("reindex", total=None)
        index = index_of(vault)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        done = index.refresh(tuple(kind), advance) if kind else index.rebuild(advance)
        found = index.status()
    if output is Output.json:
        print_json({"documents_written": done, "documents": found.documents,
                    "index": found.index, "lag": found.lag})
    else:
        console.print(f"reindexed {done} documents into {found.index}", markup=False)
