"""Processes that run background jobs: `pixelvault worker`, or a server's own.

On PostgreSQL a :class:`QueueWorker` is a procrastinate worker (see
:mod:`.queue`) with two duties of ours beside it: it writes this process's
heartbeat into the catalog (``admin status`` and ``/health`` list workers
alive on every host), and it looks for jobs whose worker stopped sending
procrastinate heartbeats (killed, or its host died) and puts them back on the
queue, where any worker takes them up again. When the catalog goes away the
worker waits and reconnects, without losing a job: those it had taken are
found stalled by whichever worker comes back first.

On the embedded SQLite catalog the same jobs are taken by the server's own
threads from the job table (``pixels.pyramids.Workers``); a ``pixelvault
worker`` there does the same in a process of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from typing import TYPE_CHECKING, Any, Protocol

from pixelvault.catalog.engine import libpq_url
from pixelvault.services import readers
from pixelvault.services.jobs import queue
from pixelvault.services.objects import deletion, filesets
from pixelvault.services.operations import heartbeats
from pixelvault.services.pixels import pyramid_parts, pyramids
from pixelvault.services.pixels.access import cache_for
from pixelvault.services.rendering import thumbnails

if TYPE_CHECKING:
    import procrastinate

    from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
RECONNECT = 2.0  # seconds between tries while the catalog is away


class Runner(Protocol):
    def start(self) -> None: ...
    def stop(self, timeout: float = 30) -> None: ...


def make_app(vault: Vault, concurrency: int) -> procrastinate.App:
    """The queue's application with pixelvault's tasks; retried ``jobs.attempts``
    times in all, waiting 2, 4, 8... seconds between tries."""
    import procrastinate
    from procrastinate import JobContext, RetryStrategy
    from procrastinate.exceptions import JobAborted

    attempts = vault.settings.job_attempts
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=libpq_url(vault.catalog.engine), min_size=1, max_size=concurrency + 2,
        timeout=10))
    retry: Any = RetryStrategy(max_attempts=attempts - 1, exponential_wait=2) \
        if attempts > 1 else False

    @app.task(name=queue.PYRAMID_TASK, queue=queue.PYRAMIDS, pass_context=True, retry=retry)
    def pyramid(context: JobContext, pixels_id: int) -> None:
        job_id = pyramids.take(vault, pixels_id)
        if job_id is None:  # built, cancelled, or its image deleted meanwhile
            return
        last_attempt = context.job.attempts >= attempts - 1
        if pyramid_parts.split(vault, job_id, last_attempt=last_attempt):
            return  # a huge one: a part for every worker
        try:
            # a stopping worker asks its jobs to stop (procrastinate cannot stop a
            # thread): the build notices at its next chunk and the job waits again
            pyramids.build(vault, job_id, last_attempt=last_attempt,
                           should_stop=context.should_abort)
        except pyramids.Interrupted:
            raise JobAborted from None
        cache_for(vault).drop(lambda key: key[0] == "pyramid")

    # A part or finish stopped with its worker is queued again by `_requeue_stranded`.
    @app.task(name=queue.PYRAMID_PART_TASK, queue=queue.PYRAMIDS, pass_context=True,
              retry=retry)
    def pyramid_part(context: JobContext, pixels_id: int, job_id: int, part: int,
                     token: str, temp: str) -> None:
        try:
            pyramid_parts.build_part(vault, pixels_id, job_id, part, token, temp,
                                     last_attempt=context.job.attempts >= attempts - 1,
                                     should_stop=context.should_abort)
        except pyramids.Interrupted:
            raise JobAborted from None

    @app.task(name=queue.PYRAMID_FINISH_TASK, queue=queue.PYRAMIDS, pass_context=True,
              retry=retry)
    def pyramid_finish(context: JobContext, pixels_id: int, job_id: int, token: str,
                       temp: str) -> None:
        try:
            pyramid_parts.build_finish(vault, pixels_id, job_id, token, temp,
                                       last_attempt=context.job.attempts >= attempts - 1,
                                       should_stop=context.should_abort)
        except pyramids.Interrupted:
            raise JobAborted from None
        cache_for(vault).drop(lambda key: key[0] == "pyramid")

    @app.task(name=queue.THUMBNAIL_TASK, queue=queue.THUMBNAILS, retry=retry)
    def thumbnail(pixels_id: int, owner_id: int) -> None:
        thumbnails.make(vault, pixels_id, owner_id)

    # The rows are gone already: a share away for hours must not leave the bytes for
    # good, so a removal is tried again for more than a day (at once, then 10, 20,
    # 30... minutes later; `admin cleanse` finds what is left after that).
    @app.task(name=queue.REMOVAL_TASK, queue=queue.DELETIONS,
              retry=RetryStrategy(max_attempts=20, linear_wait=600))
    def remove_bytes(attachment_files: list[int], directories: list[str], pixels: list[int],
                     thumbnails: list[int], seen: list[list[int] | None] | None = None) -> None:
        vault.guard.require_available("nothing was removed")  # raised: tried again later
        deletion.remove_bytes(vault, attachment_files, directories, pixels, thumbnails, seen)

    @app.task(name=queue.MEMO_TASK, queue=queue.MAINTENANCE, retry=retry)
    def memo(fileset_id: int) -> None:
        vault.guard.require_available("no memo was written")  # raised: tried again later
        root = str(vault.layout.root)
        for entry, members in filesets.first_files(vault, fileset_id):  # none: deleted
            readers.rebuild(root, str(entry), [str(member) for member in members])

    return app


class QueueWorker:
    """A procrastinate worker with this process's heartbeat and the recovery of
    stalled jobs, run in the foreground (:meth:`run`) or in a thread (:meth:`start`)."""

    def __init__(self, vault: Vault, concurrency: int, queues: list[str] | None = None,
                 *, own_heartbeat: bool = True, number: int | None = None) -> None:
        self.vault = vault
        self.concurrency = max(1, concurrency)
        self.queues = queues
        self.own_heartbeat = own_heartbeat
        self.number = number
        self.stalled_after = vault.settings.jobs_stalled_after
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: Any = None
        self._thread: threading.Thread | None = None
        self._heartbeat: int | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="job-worker", daemon=True)
        self._thread.start()

    def run(self) -> None:
        asyncio.run(self._serve())

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        loop, worker = self._loop, self._worker
        if loop is not None and worker is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(worker.stop)
        if self._thread is not None:
            self._thread.join(timeout)

    async def _serve(self) -> None:
        from procrastinate.worker import Worker

        self._loop = asyncio.get_running_loop()
        if self.own_heartbeat:
            self._heartbeat = await asyncio.to_thread(
                heartbeats.register, self.vault.catalog, self.number, "worker")
        try:
            while not self._stopping.is_set():
                app = make_app(self.vault, self.concurrency)
                try:
                    async with app.open_async():
                        self._worker = Worker(
                            app, queues=self.queues, concurrency=self.concurrency,
                            name="pixelvault", install_signal_handlers=False,
                            update_heartbeat_interval=max(1.0, self.stalled_after / 3),
                            stalled_worker_timeout=self.stalled_after,
                            shutdown_graceful_timeout=self.vault.settings.jobs_stop_grace,
                            delete_jobs="successful", fetch_job_polling_interval=2.0)
                        if self._stopping.is_set():
                            break
                        side = asyncio.create_task(self._look_after(app))
                        try:
                            await self._worker.run()
                        finally:
                            side.cancel()
                except Exception as exc:  # the catalog away: wait, then connect again
                    log.warning("the job queue is unavailable (%s); trying again in %g s",
                                _first_line(exc), RECONNECT)
                finally:
                    self._worker = None
                await asyncio.to_thread(self._stopping.wait, RECONNECT)
        finally:
            if self._heartbeat is not None:
                try:
                    await asyncio.to_thread(heartbeats.unregister, self.vault.catalog,
                                            self._heartbeat)
                except Exception as exc:  # the catalog away: the row goes stale by itself
                    log.info("heartbeat row not removed: %s", exc)

    async def _look_after(self, app: procrastinate.App) -> None:
        """Every few seconds: our heartbeat, the jobs of workers gone silent, and pending
        jobs no queue job will run."""
        every = min(heartbeats.EVERY, self.stalled_after / 3)
        while True:
            try:
                if self._heartbeat is not None:
                    self._heartbeat = await asyncio.to_thread(
                        heartbeats.beat, self.vault.catalog, self._heartbeat, self.number,
                        "worker")
                await app.job_manager.prune_stalled_workers(self.stalled_after)
                stalled = await app.job_manager.get_stalled_jobs(
                    seconds_since_heartbeat=self.stalled_after)
                for job in stalled:
                    await self._stalled(app, job)
                requeued = await asyncio.to_thread(self._requeue_stranded)
                if requeued:
                    log.info("pyramid jobs of pixels %s were waiting without a queue job; "
                             "queued again", requeued)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # procrastinate's pool reconnects by itself
                log.warning("the catalog is unavailable (%s); jobs wait until it is back",
                            _first_line(exc))
            await asyncio.sleep(every)

    async def _stalled(self, app: procrastinate.App, job: Any) -> None:
        """A job whose worker went silent: run again, unless it has now taken down its
        worker ``jobs.attempts`` times (an image that kills whoever builds it must not
        take down every worker in turn)."""
        from procrastinate.jobs import Status

        limit = self.vault.settings.job_attempts
        try:
            builds = (queue.PYRAMID_TASK, queue.PYRAMID_PART_TASK, queue.PYRAMID_FINISH_TASK)
            if job.attempts + 1 >= limit and job.task_name not in builds:
                log.error("job %s (%s): its worker stopped %s times while running it; "
                          "given up", job.id, job.call_string, job.attempts + 1)
                await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, False)
                return
            if job.attempts + 1 >= limit:
                reason = (f"its worker stopped (killed, or its host died) {job.attempts + 1} "
                          "times while building it; see the workers' logs, then "
                          "`pixelvault admin pyramids retry`")
                log.error("job %s (%s): %s", job.id, job.call_string, reason)
                await asyncio.to_thread(pyramids.give_up, self.vault,
                                        int(job.task_kwargs["pixels_id"]), reason)
                await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, False)
                return
            log.warning("job %s (%s) was left by a worker gone silent; queued again",
                        job.id, job.call_string)
            await app.job_manager.retry_job(job)
        except Exception as exc:  # another worker handled it first
            log.info("job %s not queued again: %s", job.id, exc)

    def _requeue_stranded(self) -> list[int]:
        with self.vault.catalog.session() as session:
            parts = pyramid_parts.requeue_stranded(session)
            if parts:
                log.info("split pyramids' parts %s (job, part; None: the finish) were "
                         "waiting without a queue job; queued again", parts)
            return queue.requeue_stranded(session)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def background(vault: Vault, concurrency: int) -> Runner:
    """A server's own job runner: a queue worker in a thread on PostgreSQL, threads
    taking from the job table on SQLite."""
    if concurrency > 0 and queue.on_queue(vault.catalog.engine):
        return QueueWorker(vault, concurrency, own_heartbeat=False)
    return pyramids.Workers(vault, concurrency)


def run_until_stopped(vault: Vault, concurrency: int, queues: list[str] | None = None,
                      *, number: int | None = None) -> None:
    """This process as a job worker until SIGTERM or SIGINT (holding the repository's
    shared lock, as a server does): the queue on PostgreSQL, the job table on SQLite."""
    from pixelvault.repository import LockMode

    with vault.lock(LockMode.SHARED, "pixelvault worker"):
        runner: QueueWorker | pyramids.Workers = (
            QueueWorker(vault, concurrency, queues, number=number)
            if queue.on_queue(vault.catalog.engine) else pyramids.Workers(vault, concurrency))
        stopped = threading.Event()

        def stop(_signum: int, _frame: object) -> None:
            stopped.set()
            if isinstance(runner, QueueWorker):
                runner.stop(timeout=0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        where = "the queue" if isinstance(runner, QueueWorker) else "the catalog's job table"
        log.info("job worker (pid %d): %d jobs at once from %s", os.getpid(), concurrency,
                 where)
        if isinstance(runner, QueueWorker):
            runner.run()
        else:
            runner.start()
            stopped.wait()
            runner.stop()
