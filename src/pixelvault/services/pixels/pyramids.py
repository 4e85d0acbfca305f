"""Pyramid jobs: queued in the catalog, built in the background, for every pixel type.

A job is queued in the same transaction as the image it is for (import, or an
image created through the API). On PostgreSQL it also goes on procrastinate's
queue (``jobs.queue``) for ``pixelvault worker`` processes on any host; on the
embedded SQLite catalog a server's threads claim the rows one at a time (an
atomic UPDATE). Either way the pyramid is built under a temporary name while
holding the pyramid's lock file, and renamed into place. Progress goes to the
catalog for ``pixelvault jobs`` and for the 503 answers of levels not built
yet; the same write notices a job cancelled meanwhile, which stops and leaves
nothing behind. A failure is tried again (with back-off, on the queue), then
keeps its reason and waits for `pixelvault admin pyramids retry`; a builder
killed mid-way leaves a temporary directory (removed by the next builder) and a
job marked running whose lock nobody holds, which is run again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Right
from pixelvault.catalog.models import (
    Channel,
    Image,
    JobState,
    Pixels,
    PyramidJob,
    PyramidPart,
)
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import (
    ForbiddenError,
    InvalidInputError,
    LockHeldError,
    NotFoundError,
    PixelvaultError,
)
from pixelvault.formats import PIXEL_TYPES
from pixelvault.formats.ngff_write import Image as PyramidImage
from pixelvault.formats.ngff_write import write_pyramid
from pixelvault.services.jobs import queue
from pixelvault.services.pixels.access import (
    PixelsInfo,
    cache_for,
    pixels_info,
    source_backend,
)
from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
PROGRESS_EVERY = 0.5  # seconds between progress writes to the catalog


class Cancelled(Exception):  # noqa: N818 (a state, not an error)
    """The job was cancelled (or its image deleted, or claimed again) while it ran."""


class Interrupted(Exception):  # noqa: N818 (a state, not an error)
    """The builder was asked to stop (its worker shuts down): the job waits again."""


def enqueue(session: Session, pixels_ids: list[int]) -> None:
    """Queue pyramids (in the caller's transaction); an existing job starts over."""
    queue.defer_pyramids(session, pixels_ids)
    for pixels_id in pixels_ids:
        job = session.scalar(select(PyramidJob).where(PyramidJob.pixels_id == pixels_id))
        if job is None:
            session.add(PyramidJob(pixels_id=pixels_id, state=JobState.PENDING, progress=0.0,
                                   reason="", attempts=0, worker=""))
        else:
            job.state, job.progress, job.reason, job.worker = JobState.PENDING, 0.0, "", ""
            job.started_at = job.finished_at = None


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_token() -> str:
    """Who builds a job, for this one claim: every write of the build matches it, so a
    builder whose job was claimed again meanwhile (requeued after a pixel write)
    stops instead of writing over the new claim."""
    return f"{_worker_name()}:{secrets.token_hex(3)}"


def claim(vault: Vault) -> int | None:
    """Take the oldest pending job for this process; its id, or None if none waits."""
    with vault.catalog.session() as session:
        candidate = session.scalar(select(PyramidJob.id).where(
            PyramidJob.state == JobState.PENDING).order_by(PyramidJob.id).limit(1))
        if candidate is None:
            return None
        taken = session.execute(update(PyramidJob).where(
            PyramidJob.id == candidate, PyramidJob.state == JobState.PENDING).values(
            state=JobState.RUNNING, worker=_claim_token(), progress=0.0,
            attempts=PyramidJob.attempts + 1, started_at=datetime.now(UTC))
            .execution_options(synchronize_session=False))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        _forget_parts(session, candidate)
        return candidate


def recover(vault: Vault) -> int:
    """Jobs marked running whose builder died (nobody holds their lock): queued again."""
    with vault.catalog.session() as session:
        # a split job's parts wait on the queue without a lock held: its workers look
        # after it (`pyramid_parts.requeue_stranded`), not this
        running = session.execute(
            select(PyramidJob.id, PyramidJob.pixels_id, PyramidJob.worker).where(
                PyramidJob.state == JobState.RUNNING,
                ~PyramidJob.id.in_(select(PyramidPart.job_id)))).all()
    mine = _worker_name() + ":"
    stale = [job_id for job_id, pixels_id, worker in running
             if not worker.startswith(mine) and not vault.pixels.is_building(pixels_id)]
    if stale:
        with vault.catalog.session() as session:
            session.execute(update(PyramidJob).where(
                PyramidJob.id.in_(stale), PyramidJob.state == JobState.RUNNING).values(
                state=JobState.PENDING, worker="", progress=0.0)
                .execution_options(synchronize_session=False))
        log.info("pyramid jobs %s were left running by a stopped process; queued again",
                 stale)
    return len(stale)


def take(vault: Vault, pixels_id: int) -> int | None:
    """Claim the job of these pixels for a worker of the queue: pending, or left running
    by a builder that died (nobody holds its lock). None: nothing to do (built,
    failed, cancelled, or the image deleted meanwhile)."""
    with vault.catalog.session() as session:
        job = session.execute(select(PyramidJob.id, PyramidJob.state).where(
            PyramidJob.pixels_id == pixels_id)).first()
        if job is None or job.state not in (JobState.PENDING, JobState.RUNNING):
            return None
        if job.state == JobState.RUNNING and vault.pixels.is_building(pixels_id):
            return None  # `admin pyramids run`, or a server thread, builds it now
        taken = session.execute(update(PyramidJob).where(
            PyramidJob.id == job.id, PyramidJob.state == job.state).values(
            state=JobState.RUNNING, worker=_claim_token(), progress=0.0,
            attempts=PyramidJob.attempts + 1, started_at=datetime.now(UTC))
            .execution_options(synchronize_session=False))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        _forget_parts(session, job.id)
        return int(job.id)


def _forget_parts(session: Session, job_id: int) -> None:
    """A new claim's: the parts of an earlier split of the job are no longer run (their
    queued jobs find no row; the new builder removes their directory)."""
    session.execute(delete(PyramidPart).where(PyramidPart.job_id == job_id))


def set_state(vault: Vault, job_id: int, token: str,
              only_while: tuple[JobState, ...] = (JobState.RUNNING,), **values: Any) -> bool:
    """Write the job's outcome, if it is still this claim's and in one of the states
    ``only_while`` (a failure seen after the job was cancelled or failed by another
    part does not overwrite why it ended); whether it was."""
    with vault.catalog.session() as session:
        found = session.execute(update(PyramidJob).where(
            PyramidJob.id == job_id, PyramidJob.worker == token,
            PyramidJob.state.in_(only_while)).values(**values)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    return bool(found == 1)


def still_running(vault: Vault, job_id: int, token: str, **values: Any) -> None:
    """Write progress; raise Cancelled if the job was cancelled, deleted or claimed
    again meanwhile."""
    values = values or {"worker": token}
    with vault.catalog.session() as session:
        found = session.execute(update(PyramidJob).where(
            PyramidJob.id == job_id, PyramidJob.state == JobState.RUNNING,
            PyramidJob.worker == token).values(**values)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if found != 1:
        raise Cancelled


def _transient(exc: Exception) -> bool:
    """Failures worth another try later: the catalog or the repository away, a full
    disk, an I/O error (not a file that cannot be read)."""
    from pixelvault.errors import CatalogError, OutOfSpaceError, RepositoryError

    if isinstance(exc, LockHeldError):
        return False
    return isinstance(exc, OSError | SQLAlchemyError | CatalogError | OutOfSpaceError
                      | RepositoryError)


@dataclass(frozen=True)
class Claimed:
    """What a claimed job builds: read once from the catalog, at its start."""

    pixels_id: int
    image_id: int
    token: str
    info: PixelsInfo
    image: PyramidImage


def claimed(vault: Vault, job_id: int, token: str | None = None) -> Claimed | None:
    """The job's pixels, if it is running (under ``token``, when given) and its image
    still there; None otherwise."""
    with vault.catalog.session() as session:
        job = session.get(PyramidJob, job_id)
        if job is None or job.state != JobState.RUNNING or \
                (token is not None and job.worker != token):
            return None
        pixels_id, token = job.pixels_id, job.worker
        image_id = session.scalar(select(Pixels.image_id).where(Pixels.id == pixels_id))
        if image_id is None:
            return None
        info = pixels_info(session, None, image_id)
        names = session.execute(select(Channel.index, Channel.name, Channel.color).where(
            Channel.pixels_id == pixels_id).order_by(Channel.index)).all()
    image = PyramidImage(
        info.size_x, info.size_y, info.size_z, info.size_c, info.size_t,
        PIXEL_TYPES[info.pixel_type], name=info.name,
        channel_names=[n for _, n, _ in names],
        channel_colours=[_hex(colour) for _, _, colour in names])
    return Claimed(pixels_id, image_id, token, info, image)


def build(vault: Vault, job_id: int, on_progress: Callable[[float], None] | None = None,
          *, last_attempt: bool = True, should_stop: Callable[[], bool] | None = None) -> None:
    """Build one claimed job's pyramid; the job ends done or failed, with its reason.

    Not the ``last_attempt``: a transient failure puts the job back to pending, with
    its reason, and is raised for the queue to try again later. ``should_stop``
    (its worker shuts down): the job goes back to pending and Interrupted is raised."""
    job = claimed(vault, job_id)
    if job is None:
        return
    pixels_id, image_id, token = job.pixels_id, job.image_id, job.token
    store = vault.pixels
    try:
        # the temporary directory goes before the lock is let go: once nobody builds,
        # nothing half-written is left
        with store.building(pixels_id), contextlib.ExitStack() as cleanup:
            store.remove_temps(pixels_id)  # a killed builder's leftovers
            temp = store.new_temp(pixels_id)
            cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
            backend = source_backend(vault, job.info)
            progress = reporter(vault, job_id, token, on_progress, should_stop)
            ranges = write_pyramid(temp, job.image, lambda z, c, t, y, h: backend.read(
                0, z, c, t, 0, y, job.info.size_x, h), progress=progress)
            publish(vault, job_id, token, pixels_id, temp, ranges)
        log.info("pyramid of image %s built", image_id)
    except Cancelled:
        log.info("pyramid of image %s cancelled; nothing of it is kept", image_id)
    except Interrupted:
        log.info("pyramid of image %s interrupted (its worker stops); it waits for "
                 "another", image_id)
        set_state(vault, job_id, token, state=JobState.PENDING, progress=0.0)
        raise
    except LockHeldError:
        log.info("pyramid of image %s is built by another process", image_id)
    except Exception as exc:  # any failure is recorded with its reason, never lost
        if failed(vault, job_id, token, image_id, exc, last_attempt=last_attempt,
                  wait=JobState.PENDING):
            raise


def reporter(vault: Vault, job_id: int, token: str,
             on_progress: Callable[[float], None] | None = None,
             should_stop: Callable[[], bool] | None = None,
             write: Callable[[float], None] | None = None) -> Callable[[float], None]:
    """A build's progress callback: stops it when its worker stops (Interrupted) or
    its job is no longer running (Cancelled), and writes its progress to the catalog
    every half second (``write``; by default the job's own)."""
    last = [0.0]

    def progress(fraction: float) -> None:
        if should_stop is not None and should_stop():
            raise Interrupted
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            if write is not None:
                write(fraction)
            else:
                still_running(vault, job_id, token, progress=round(fraction, 4))
        if on_progress is not None:
            on_progress(fraction)
    return progress


def publish(vault: Vault, job_id: int, token: str, pixels_id: int, temp: Path,
            ranges: list[tuple[float, float]]) -> None:
    """Rename a finished pyramid into place and mark its job done (call while holding
    the pyramid's lock, so no other builder starts before this is settled); Cancelled
    if the job was cancelled, deleted or claimed again meanwhile."""
    store = vault.pixels
    still_running(vault, job_id, token)
    store.publish(temp, store.pyramid(pixels_id))
    with vault.catalog.session() as session:
        finished = session.execute(update(PyramidJob).where(
            PyramidJob.id == job_id, PyramidJob.state == JobState.RUNNING,
            PyramidJob.worker == token).values(
            state=JobState.DONE, progress=1.0, reason="",
            finished_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if finished != 1:  # cancelled, deleted or claimed again since the check
            session.rollback()
            shutil.rmtree(store.pyramid(pixels_id), ignore_errors=True)
            raise Cancelled
        session.execute(update(Pixels).where(Pixels.id == pixels_id).values(
            version=Pixels.version + 1).execution_options(synchronize_session=False))
        for index, (low, high) in enumerate(ranges):  # statistics import skipped
            session.execute(update(Channel).where(
                Channel.pixels_id == pixels_id, Channel.index == index,
                Channel.min.is_(None)).values(min=low, max=high)
                .execution_options(synchronize_session=False))


def failed(vault: Vault, job_id: int, token: str, image_id: int, exc: Exception, *,
           last_attempt: bool, wait: JobState) -> bool:
    """Record a build's failure with its reason: failed for good, or (a passing
    failure, not the last attempt) in state ``wait``. Whether it is to be tried
    again (the caller raises): never once the job is no longer this claim's."""
    reason = exc.message if isinstance(exc, PixelvaultError) else f"{type(exc).__name__}: {exc}"
    again = not last_attempt and _transient(exc)
    log.warning("pyramid of image %s failed%s: %s", image_id,
                ", to be tried again" if again else "", reason)
    recorded = set_state(vault, job_id, token, state=wait if again else JobState.FAILED,
                         reason=reason[:4000],
                         finished_at=None if again else datetime.now(UTC),
                         only_while=(JobState.PENDING, JobState.RUNNING))
    return again and recorded


def _hex(colour: int | None) -> str:
    if colour is None:
        return "FFFFFF"
    return f"{(colour & 0xFFFFFFFF) >> 8:06X}"


def run_pending(vault: Vault, on_job: Callable[[int], None] | None = None,
                on_progress: Callable[[float], None] | None = None) -> int:
    """Build queued pyramids in this process until none waits; how many were built."""
    recover(vault)
    count = 0
    while (job_id := claim(vault)) is not None:
        if on_job is not None:
            on_job(job_id)
        build(vault, job_id, on_progress)
        count += 1
    return count


def give_up(vault: Vault, pixels_id: int, reason: str) -> None:
    """Mark the job of these pixels failed, whoever claimed it (its builders died)."""
    with vault.catalog.session() as session:
        session.execute(update(PyramidJob).where(
            PyramidJob.pixels_id == pixels_id,
            PyramidJob.state.in_([JobState.PENDING, JobState.RUNNING])).values(
            state=JobState.FAILED, reason=reason[:4000], finished_at=datetime.now(UTC))
            .execution_options(synchronize_session=False))


def retry(vault: Vault, actor: Actor, job_id: int) -> None:
    if not actor.is_admin:
        raise ForbiddenError("retrying pyramids is for administrators")
    with vault.catalog.session() as session:
        job = session.get(PyramidJob, job_id)
        if job is None:
            raise NotFoundError(f"no pyramid job {job_id}; see `pixelvault jobs list`")
        if job.state not in (JobState.FAILED, JobState.DONE, JobState.CANCELLED):
            raise InvalidInputError(f"pyramid job {job_id} is {job.state}; only failed, "
                                    "cancelled or finished ones are retried")
        enqueue(session, [job.pixels_id])


def cancel(vault: Vault, actor: Actor, job_id: int) -> str:
    """Stop a pending or running job (its image's owner, or an administrator); a
    running build notices within a second and removes what it wrote. The state
    the job was in."""
    with vault.catalog.session() as session:
        found = session.execute(
            select(PyramidJob.state, Image.id).join(Pixels, Pixels.id == PyramidJob.pixels_id)
            .join(Image, Image.id == Pixels.image_id)
            .where(PyramidJob.id == job_id, allowed(actor, Right.READ, Image))).first()
        if found is None:
            raise NotFoundError(f"no pyramid job {job_id}; see `pixelvault jobs list`")
        writable = session.scalar(select(Image.id).where(
            Image.id == found.id, allowed(actor, Right.EDIT, Image)))
        if writable is None:
            raise ForbiddenError(f"pyramid job {job_id} is for an image you may not change")
        if found.state not in (JobState.PENDING, JobState.RUNNING):
            raise InvalidInputError(f"pyramid job {job_id} is {found.state} already; only "
                                    "pending or running jobs are cancelled")
        session.execute(update(PyramidJob).where(
            PyramidJob.id == job_id, PyramidJob.state.in_([JobState.PENDING, JobState.RUNNING]))
            .values(state=JobState.CANCELLED, reason=f"cancelled by {actor.username}",
                    finished_at=datetime.now(UTC)).execution_options(synchronize_session=False))
    return str(found.state)


@dataclass(frozen=True)
class JobInfo:
    id: int
    image_id: int
    image_name: str
    state: str
    progress: float
    reason: str
    attempts: int
    worker: str
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


def list_jobs(vault: Vault, actor: Actor, states: list[str] | None = None) -> list[JobInfo]:
    """Pyramid jobs of the images the actor may read (administrators: all)."""
    query = (select(PyramidJob, Image.id, Image.name)
             .join(Pixels, Pixels.id == PyramidJob.pixels_id)
             .join(Image, Image.id == Pixels.image_id)
             .where(allowed(actor, Right.READ, Image)).order_by(PyramidJob.id))
    if states:
        query = query.where(PyramidJob.state.in_(states))
    with vault.catalog.session() as session:
        rows = session.execute(query).all()
    return [JobInfo(job.id, image_id, name, job.state, job.progress, job.reason,
                    job.attempts, job.worker, job.created_at, job.started_at,
                    job.finished_at) for job, image_id, name in rows]


def job_for_image(vault: Vault, actor: Actor, image_id: int) -> JobInfo | None:
    found = [j for j in list_jobs(vault, actor) if j.image_id == image_id]
    return found[0] if found else None


class Workers:
    """The server's pyramid builders: ``count`` threads taking jobs from the queue."""

    def __init__(self, vault: Vault, count: int, poll: float = 1.0) -> None:
        self.vault = vault
        self.count = count
        self.poll = poll
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.count <= 0:
            return
        try:
            recover(self.vault)
        except PixelvaultError as exc:
            log.warning("pyramid jobs not recovered: %s", exc)
        for number in range(self.count):
            thread = threading.Thread(target=self._run, name=f"pyramids-{number}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                job_id = claim(self.vault)
            except Exception as exc:  # the catalog may be away for a while; keep polling
                log.warning("pyramid queue unavailable: %s", exc)
                job_id = None
            if job_id is None:
                self._stop.wait(self.poll)
                continue
            build(self.vault, job_id)
            cache_for(self.vault).drop(lambda key: key[0] == "pyramid")

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

