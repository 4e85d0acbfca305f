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
    output: Output = typer.Option(Output.table, "--output", "-o"),
) -> None:
    """Parse every imported fileset's file afresh and write its memo, in parallel.

    Reads never wait for this: a file without a valid memo is parsed when opened.
    Useful after an upgrade, so the first user of each image does not pay the parse.

    Example:

        pixelvault admin memo rebuild --parallel 2
    """
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
