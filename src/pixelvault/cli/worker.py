"""`pixelvault worker`: run background jobs in a process of their own."""

from __future__ import annotations

import logging
import os

import typer

from pixelvault.cli.output import errors
from pixelvault.errors import InvalidInputError
from pixelvault.services.jobs.names import QUEUES


def worker(
    queues: list[str] = typer.Option(
        [], "--queues", "-q", help=f"Queues to take jobs from (default: all: "
                                   f"{', '.join(QUEUES)}). Repeat for several."),
    concurrency: int | None = typer.Option(
        None, "--concurrency", "-c", min=1, max=64,
        help="Jobs run at once (default: one per CPU)."),
) -> None:
    """Run background jobs until SIGTERM or Ctrl-C: pyramids, thumbnails, big deletes,
    memo rebuilds.

    On PostgreSQL, workers on any host that shares the catalog and the repository
    take jobs from one queue; a worker killed mid-job has its jobs taken up by
    another within `jobs.stalled_after` seconds. On the embedded SQLite catalog the
    server runs jobs itself (`pixels.pyramid_workers`); a worker adds processes on
    the same host. `jobs.workers` makes `pixelvault serve` (and `admin start`)
    start workers beside its server processes.

    Examples:

        pixelvault worker

        pixelvault worker --concurrency 2 --queues pyramids

        pixelvault worker --queues thumbnails

        nice -n 10 pixelvault worker     # behind the server's requests
    """
    from pixelvault.cli.serve import LOG_FORMAT, refuse_if_unhealthy
    from pixelvault.config import load_settings
    from pixelvault.services.jobs.worker import run_until_stopped
    from pixelvault.services.vault import open_vault

    unknown = sorted(set(queues) - set(QUEUES))
    if unknown:
        raise InvalidInputError(f"no queue {', '.join(unknown)}; the queues are "
                                f"{', '.join(QUEUES)}")
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    vault = open_vault(load_settings())  # refuses a catalog of another schema version
    try:
        refuse_if_unhealthy(vault)
        errors.print(f"pixelvault worker (pid {os.getpid()}); SIGTERM or Ctrl-C stops it",
                     markup=False)
        run_until_stopped(vault, concurrency or os.cpu_count() or 1, queues or None)
    finally:
        vault.close()
