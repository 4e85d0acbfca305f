"""`pixelvault admin memo`: the memo files in BioFormatsCache."""

from __future__ import annotations

import os
import sys

import typer

from pixelvault.cli.local import vault_session
from pixelvault.cli.output import Output, console, errors, print_json

app = typer.Typer(help="Memo files: readers' parsed state, so files reopen fast.",
                  no_args_is_help=True)


@app.command("rebuild")
def rebuild(
    parallel: int = typer.Option(max(1, (os.cpu_count() or 1)), "--parallel", "-j", min=1,
                                 max=64, help="Files parsed at once (default: one per core)."),
    queued: bool = typer.Option(False, "--queue", help="On PostgreSQL: one job per "
                                "fileset on the maintenance queue, for `pixelvault worker` "
                                "processes on any host, instead of here and now."),
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Parse every imported fileset's file afresh and write its memo, in parallel.

    Reads never wait for this: a file without a valid memo is parsed when opened.
    Useful after an upgrade, so the first user of each image does not pay the parse.

    Examples:

        pixelvault admin memo rebuild --parallel 2

        pixelvault admin memo rebuild --queue && pixelvault admin queue
    """
    if queued:
        _queue(output)
        return
    from concurrent.futures import ProcessPoolExecutor

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from pixelvault.services import readers
    from pixelvault.services.objects import filesets

    with vault_session("pixelvault admin memo rebuild") as vault:
        found = filesets.first_files(vault)
        root = str(vault.layout.root)
        written = 0
        with Progress("memo files", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=errors, transient=True, disable=not sys.stderr.isatty()) as bar, \
                ProcessPoolExecutor(max_workers=parallel) as pool:
            task = bar.add_task("memo", total=len(found))
            for done in pool.map(readers.rebuild, [root] * len(found),
                                 [str(entry) for entry, _ in found],
                                 [[str(p) for p in members] for _, members in found]):
                written += int(done)
                bar.advance(task)
    if output is Output.json:
        print_json({"files": len(found), "memos_written": written})
    else:
        console.print(f"wrote {written} memo files for {len(found)} filesets "
                      "(formats without memos are parsed when opened)", markup=False)


def _queue(output: Output) -> None:
    from pixelvault.errors import InvalidInputError
    from pixelvault.services.jobs import queue
    from pixelvault.services.objects import filesets

    with vault_session("pixelvault admin memo rebuild") as vault:
        if not queue.on_queue(vault.catalog.engine):
            raise InvalidInputError("--queue needs the PostgreSQL catalog's job queue; "
                                    "on SQLite, run `pixelvault admin memo rebuild` without it")
        ids = filesets.ready_ids(vault)
        with vault.catalog.session() as session:
            jobs = queue.defer_memos(session, ids)
    if output is Output.json:
        print_json({"filesets": len(ids), "jobs": len(jobs), "queue": queue.MAINTENANCE})
    else:
        console.print(f"queued {len(jobs)} memo jobs on the {queue.MAINTENANCE} queue; "
                      f"`pixelvault worker --queues {queue.MAINTENANCE}` runs them, "
                      "`pixelvault admin queue` shows what is left", markup=False)
