"""`pixelvault worker`: run background jobs in a process of their own."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

import typer

from pixelvault.cli.output import errors
from pixelvault.errors import InvalidInputError

QUEUES = ("pyramids",)


def worker(
    queues: list[str] = typer.Option(
        [], "--queues", "-q", help=f"Queues to take jobs from (default: all: "
                                   f"{', '.join(QUEUES)}). Repeat for several."),
    concurrency: int | None = typer.Option(
        None, "--concurrency", "-c", min=1, max=64,
        help="Jobs run at once (default: one per CPU)."),
) -> None:
    """Run background jobs (pyramids of large images) until SIGTERM or Ctrl-C.

    On PostgreSQL, workers on any host that shares the catalog and the repository
    take jobs from one queue; a worker killed mid-job has its jobs taken up by
    another within `jobs.stalled_after` seconds. On the embedded SQLite catalog the
    server runs jobs itself (`pixels.pyramid_workers`); a worker adds processes on
    the same host.

    Examples:

        pixelvault worker

        pixelvault worker --concurrency 2 --queues pyramids

        nice -n 10 pixelvault worker     # behind the server's requests
    """
    from pixelvault.cli.serve import LOG_FORMAT, refuse_if_unhealthy
    from pixelvault.config import load_settings
    from pixelvault.repository import LockMode
    from pixelvault.services.jobs import queue
    from pixelvault.services.jobs.worker import QueueWorker
    from pixelvault.services.pixels.pyramids import Workers
    from pixelvault.services.vault import open_vault

    unknown = sorted(set(queues) - set(QUEUES))
    if unknown:
        raise InvalidInputError(f"no queue {', '.join(unknown)}; the queues are "
                                f"{', '.join(QUEUES)}")
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    count = concurrency or os.cpu_count() or 1
    vault = open_vault(load_settings())  # refuses a catalog of another schema version
    try:
        refuse_if_unhealthy(vault)
        with vault.lock(LockMode.SHARED, "pixelvault worker"):
            runner: Any = QueueWorker(vault, count, queues or None) \
                if queue.on_queue(vault.catalog.engine) else Workers(vault, count)
            stopped = threading.Event()

            def stop(_signum: int, _frame: object) -> None:
                stopped.set()
                if isinstance(runner, QueueWorker):
                    runner.stop(timeout=0)

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            where = "the queue" if isinstance(runner, QueueWorker) else "the catalog's job table"
            errors.print(f"pixelvault worker (pid {os.getpid()}): {count} jobs at once from "
                         f"{where}; SIGTERM or Ctrl-C stops it", markup=False)
            if isinstance(runner, QueueWorker):
                runner.run()
            else:
                runner.start()
                stopped.wait()
                runner.stop()
    finally:
        vault.close()
