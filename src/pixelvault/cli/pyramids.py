"""`pixelvault admin pyramids`: the pyramid jobs of this machine's repository."""

from __future__ import annotations

import sys

import typer

from pixelvault.cli.local import vault_session
from pixelvault.cli.output import Output, console, errors, print_json, print_table

app = typer.Typer(
    help="Pyramids of large images: list the jobs, build the queued ones here, retry "
         "failed ones.\n\nExamples:\n\n"
         "    pixelvault admin pyramids list --state failed\n\n"
         "    pixelvault admin pyramids retry 7\n\n"
         "    pixelvault admin pyramids run        # without a server",
    no_args_is_help=True, rich_markup_mode="markdown")


def _rows(jobs: list[object]) -> list[dict[str, object]]:
    from dataclasses import asdict

    return [asdict(j) for j in jobs]  # type: ignore[call-overload]


@app.command("list")
def list_(state: list[str] = typer.Option([], "--state", "-s",
                                          help="pending, running, done or failed."),
          output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Every pyramid job, with its state, progress and, for failures, the reason."""
    from pixelvault.services.pixels import pyramids

    with vault_session("pixelvault admin pyramids list") as vault:
        jobs = pyramids.list_jobs(vault, vault.local_admin(), state or None)
    if output is Output.json:
        print_json(_rows(list(jobs)))
        return
    print_table(["job", "image", "name", "state", "progress", "attempts", "reason"],
                [(j.id, j.image_id, j.image_name, j.state, f"{j.progress:.0%}", j.attempts,
                  j.reason) for j in jobs], title=f"{len(jobs)} pyramid jobs")


@app.command("run")
def run(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """Build every queued pyramid in this process, one after another, with progress (a
    running server does this by itself, `pixels.pyramid_workers` at a time)."""
    from rich.progress import BarColumn, Progress, TimeRemainingColumn

    from pixelvault.services.pixels import pyramids

    with vault_session("pixelvault admin pyramids run") as vault, \
            Progress("{task.description}", BarColumn(), "{task.percentage:>3.0f}%",
                     TimeRemainingColumn(), console=errors, transient=True,
                     disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("pyramids", total=1.0)

        def on_job(job_id: int) -> None:
            bar.update(task, description=f"pyramid job {job_id}", completed=0.0)

        built = pyramids.run_pending(vault, on_job, lambda f: bar.update(task, completed=f))
        failed = pyramids.list_jobs(vault, vault.local_admin(), ["failed"])
    if output is Output.json:
        print_json({"built": built, "failed": _rows(list(failed))})
        return
    console.print(f"ran {built} pyramid jobs", markup=False)
    for job in failed:
        errors.print(f"job {job.id} (image {job.image_id}) failed: {job.reason}", markup=False)


@app.command("retry")
def retry(job: int = typer.Argument(..., help="The job's id (`pixelvault admin pyramids "
                                              "list`).")) -> None:
    """Queue a failed (or finished) job again; the server's workers, or `pixelvault admin
    pyramids run`, build it."""
    from pixelvault.services.pixels import pyramids

    with vault_session("pixelvault admin pyramids retry") as vault:
        pyramids.retry(vault, vault.local_admin(), job)
    console.print(f"pyramid job {job} is queued again", markup=False)
