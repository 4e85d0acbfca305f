"""`pixelvault admin queue`: the background jobs on PostgreSQL's queue, by task."""

from __future__ import annotations

import typer

from pixelvault.cli.output import Output, console, print_json, print_table


def queue_view(output: Output = typer.Option(Output.table, "--output", "-o")) -> None:
    """The jobs waiting (todo), running (doing), failed or cancelled on the queue, by
    queue and task, with the oldest one's age: what the workers have left to do
    (thumbnails, removals, memo rebuilds, pyramids and their parts). Successful jobs
    are not kept. Pyramid jobs, with their progress: `pixelvault jobs list`.

    Examples:

        pixelvault admin queue

        watch -n 5 pixelvault admin queue

        pixelvault admin queue --output json
    """
    import datetime

    from pixelvault.cli.local import vault_session
    from pixelvault.services.jobs import queue

    with vault_session("pixelvault admin queue") as vault:
        if not queue.on_queue(vault.catalog.engine):
            console.print("the embedded SQLite catalog has no job queue: the server runs "
                          "pyramids itself; see `pixelvault jobs list`", markup=False)
            return
        with vault.catalog.session() as session:
            counts = queue.summary(session)
    now = datetime.datetime.now(datetime.UTC)
    if output is Output.json:
        print_json([{"queue": c.queue, "task": c.task, "status": c.status, "jobs": c.jobs,
                     "oldest": c.oldest.isoformat() if c.oldest else None}
                    for c in counts])
        return
    print_table(["queue", "task", "status", "jobs", "oldest"],
                [(c.queue, c.task, c.status, c.jobs,
                  f"{(now - c.oldest).total_seconds():.0f} s ago" if c.oldest else "")
                 for c in counts],
                title=f"{sum(c.jobs for c in counts if c.status in ('todo', 'doing'))} "
                      "jobs waiting or running")
