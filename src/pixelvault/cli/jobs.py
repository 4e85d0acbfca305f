"""`pixelvault jobs`: imports under way and pyramids being built, on the server you are
logged in to."""

from __future__ import annotations

import datetime

import typer

from pixelvault.cli.login import connection
from pixelvault.cli.output import Output, print_json, print_table
from pixelvault.sizes import format_size

app = typer.Typer(
    help="Imports under way and pyramid jobs on the server (yours; administrators: "
         "everyone's).\n\n"
         "Examples:\n\n"
         "    pixelvault jobs list\n\n"
         "    pixelvault jobs list --all --output json\n\n"
         "    pixelvault jobs show 12 --output json\n\n"
         "    pixelvault jobs cancel 7",
    no_args_is_help=True, rich_markup_mode="markdown")


def _started(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


@app.command("list")
def list_(every: bool = typer.Option(False, "--all", "-a",
                                     help="Finished pyramid jobs too, not only those "
                                          "waiting, running or failed."),
          output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Each import under way with its progress, then the pyramid jobs."""
    with connection() as conn:
        jobs = conn.imports()
        pyramids = [j for j in conn.jobs() if every or j["state"] != "done"]
    if output is Output.json:
        print_json([{"kind": "import", **j} for j in jobs] + pyramids)
        return
    print_table(["id", "state", "owner", "started", "received", "of", "done"],
                [(j["id"], j["state"], j["owner_id"], _started(j["started"]),
                  format_size(j["received"]), format_size(j["bytes"]),
                  f"{100 * j['received'] / j['bytes']:.0f}%" if j["bytes"] else "100%")
                 for j in jobs], title=f"{len(jobs)} imports under way")
    if pyramids:
        print_table(["job", "image", "name", "state", "progress", "attempts", "worker",
                     "reason"],
                    [(j["id"], j["image"], j["name"], j["state"], f"{j['progress']:.0%}",
                      j["attempts"], j.get("worker", ""), j["reason"]) for j in pyramids],
                    title=f"{len(pyramids)} pyramid jobs")


@app.command("show")
def show(job: int = typer.Argument(..., help="Import (fileset) id."),
         output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """One import, file by file."""
    with connection() as conn:
        found = conn.import_status(job)
    if output is Output.json:
        print_json(found)
        return
    print_table(["index", "client path", "size", "received"],
                [(f["index"], f["client_path"], f["size"], f["received"])
                 for f in found["files"]],
                title=f"import {found['id']}: {found['state']}, started "
                      f"{_started(found['started'])}")


@app.command("cancel")
def cancel(job: int = typer.Argument(..., help="The pyramid job's id (`pixelvault jobs "
                                              "list`).")) -> None:
    """Stop a pending or running pyramid job; a running one stops within a second and
    leaves nothing behind (`pixelvault admin pyramids retry` queues it again)."""
    with connection() as conn:
        found = conn.cancel_job(job)
    typer.echo(f"pyramid job {job} cancelled (it was {found['was']})")
