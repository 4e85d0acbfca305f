"""One huge image's pyramid built by several workers at once, in ranges of shards.

A whole-slide image of tens of gigabytes takes one worker many minutes; with
its pyramid cut into parts, every worker on every host takes a part. The
worker that takes the pyramid's job (``split``) makes one temporary directory
and queues a job per range of the full-resolution level's shards
(``ngff_write.split_shards``, about ``pixels.pyramid_part`` bytes each), with
a ``pyramid_part`` row each, in one transaction. A part writes its shards
whole into that directory. The part that marks the last one written (counted
under a lock on the job's row, so exactly one sees none left) queues the
finish in the same transaction: one job that reads the full resolution back,
writes the smaller levels and renames the directory into place, as a whole
build does.

Every writer holds the pyramid's lock file shared, and its own part (or the
finish) exclusively: a whole build cannot start meanwhile, and two runs of one
part never overlap, even when a worker thought dead is still writing. A part
or finish whose worker dies is run again by another (procrastinate's stalled
jobs, or ``requeue_stranded``: parts not written and finishes not done that no
queue job will run); it rewrites its shard files from the start. A writer
that finds its job cancelled, deleted or claimed again removes the temporary
directory (another of that split's writers then fails on it, and removes it
too). A directory gone while the job runs (removed by hand) starts the job
over rather than failing it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from pixelvault.catalog.models import JobState, PyramidJob, PyramidPart
from pixelvault.errors import LockHeldError
from pixelvault.formats.ngff_write import finish_pyramid, split_shards, write_shards
from pixelvault.services.jobs import queue
from pixelvault.services.pixels import pyramids
from pixelvault.services.pixels.access import source_backend
from pixelvault.services.pixels.pyramids import Cancelled, Interrupted

if TYPE_CHECKING:
    from pathlib import Path

    from pixelvault.services.vault import Vault

log = logging.getLogger(__name__)
WRITING = 0.8  # of a split job's progress: the parts; the rest is the smaller levels
FINISH = 1 << 20  # the finish's own byte of the lock file, after every part's


def split(vault: Vault, job_id: int, *, last_attempt: bool = True) -> bool:
    """Queue the parts of a claimed job's pyramid, if it is bigger than
    ``pixels.pyramid_part`` (and the catalog has a queue); whether it was (else the
    caller builds it whole). A passing failure, not the ``last_attempt``, is raised
    for the queue to try again."""
    job = pyramids.claimed(vault, job_id)
    if job is None or not vault.settings.pyramid_part or \
            not queue.on_queue(vault.catalog.engine):
        return False
    parts = split_shards(job.image, vault.settings.pyramid_part)
    if len(parts) < 2:
        return False
    store = vault.pixels
    try:
        with store.building(job.pixels_id):  # no part of an earlier split is written now
            store.remove_temps(job.pixels_id)
            temp = store.new_temp(job.pixels_id)
            temp.mkdir()
    except LockHeldError:
        # an earlier claim's parts are still being written: this claim waits again, and
        # the workers queue it anew within seconds (`queue.requeue_stranded`)
        log.info("pyramid of image %s: an earlier build still writes; it waits",
                 job.image_id)
        pyramids.set_state(vault, job_id, job.token, state=JobState.PENDING, progress=0.0)
        return True
    except Exception as exc:  # the share away, a full disk: recorded, tried again
        if pyramids.failed(vault, job_id, job.token, job.image_id, exc,
                           last_attempt=last_attempt, wait=JobState.PENDING):
            raise
        return True
    with vault.catalog.session() as session:
        ours = session.execute(update(PyramidJob).where(
            PyramidJob.id == job_id, PyramidJob.state == JobState.RUNNING,
            PyramidJob.worker == job.token).values(progress=0.0)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if ours == 1:
            session.execute(delete(PyramidPart).where(PyramidPart.job_id == job_id))
            session.add_all([PyramidPart(job_id=job_id, part=number, first_shard=first,
                                         last_shard=last, temp=temp.name, done=False,
                                         progress=0.0)
                             for number, (first, last) in enumerate(parts)])
            session.flush()
            defer_parts(session, job.pixels_id, job_id, job.token, temp.name,
                        list(range(len(parts))))
    if ours != 1:  # cancelled or deleted meanwhile
        shutil.rmtree(temp, ignore_errors=True)
    else:
        log.info("pyramid of image %s cut into %d parts for the workers", job.image_id,
                 len(parts))
    return True


def defer_parts(session: Session, pixels_id: int, job_id: int, token: str, temp: str,
                parts: list[int]) -> None:
    """Queue parts of a split pyramid (in the caller's transaction)."""
    queue.defer(session, queue.PYRAMIDS, queue.PYRAMID_PART_TASK, [
        ({"pixels_id": pixels_id, "job_id": job_id, "part": part, "token": token,
          "temp": temp}, f"pyramid-{pixels_id}-part-{part}") for part in parts])


def defer_finish(session: Session, pixels_id: int, job_id: int, token: str,
                 temp: str) -> None:
    queue.defer(session, queue.PYRAMIDS, queue.PYRAMID_FINISH_TASK, [
        ({"pixels_id": pixels_id, "job_id": job_id, "token": token, "temp": temp},
         f"pyramid-{pixels_id}-finish")])


def build_part(vault: Vault, pixels_id: int, job_id: int, part: int, token: str,
               temp_name: str, *, last_attempt: bool = True,
               should_stop: Callable[[], bool] | None = None) -> None:
    """Write one part of a split pyramid; the last part written queues the finish.

    Not the ``last_attempt``: a passing failure is raised for the queue to try the
    part again (the job keeps running); else the job fails with its reason and the
    parts written so far are removed."""
    _run(vault, pixels_id, job_id, token, temp_name, part, last_attempt, should_stop)


def build_finish(vault: Vault, pixels_id: int, job_id: int, token: str, temp_name: str,
                 *, last_attempt: bool = True,
                 should_stop: Callable[[], bool] | None = None) -> None:
    """Once every part is written: the smaller levels, and the pyramid renamed into
    place; the job done."""
    _run(vault, pixels_id, job_id, token, temp_name, None, last_attempt, should_stop)


def _run(vault: Vault, pixels_id: int, job_id: int, token: str, temp_name: str,
         part: int | None, last_attempt: bool,
         should_stop: Callable[[], bool] | None) -> None:
    """A part (or, ``part`` None, the finish) of a split job, if the job is still
    running under the claim that split it; its directory removed if the job ended."""
    try:
        temp = vault.pixels.temp_named(pixels_id, temp_name)
    except ValueError as exc:  # never written by `split`: nothing of ours to touch
        log.error("pyramid job %s: %s; ignored", job_id, exc)
        return
    job = pyramids.claimed(vault, job_id, token)
    if job is None:  # cancelled, failed, deleted, or claimed again: this split is over
        shutil.rmtree(temp, ignore_errors=True)
        return
    what = "the smaller levels" if part is None else f"part {part}"
    try:
        with vault.pixels.building(pixels_id, part=FINISH if part is None else part):
            if not temp.is_dir():  # removed by hand, or a finish killed after the rename
                log.warning("pyramid of image %s: its parts' directory is gone; it is "
                            "built again", job.image_id)
                pyramids.set_state(vault, job_id, token, state=JobState.PENDING,
                                   progress=0.0)
                return
            if part is None:
                _finish(vault, job_id, job, temp, should_stop)
            else:
                _write(vault, job_id, job, part, temp, should_stop)
    except Cancelled:
        log.info("pyramid of image %s cancelled; nothing of it is kept", job.image_id)
        shutil.rmtree(temp, ignore_errors=True)
    except Interrupted:
        log.info("%s of the pyramid of image %s interrupted (its worker stops); it waits "
                 "for another", what, job.image_id)
        raise
    except LockHeldError:  # a run thought dead is still at it; if it dies, it runs again
        log.info("%s of the pyramid of image %s is written by another process", what,
                 job.image_id)
    except Exception as exc:  # any failure is recorded with its reason, never lost
        if pyramids.failed(vault, job_id, token, job.image_id, exc,
                           last_attempt=last_attempt, wait=JobState.RUNNING):
            raise
        shutil.rmtree(temp, ignore_errors=True)  # failed for good, or no longer ours


def _write(vault: Vault, job_id: int, job: pyramids.Claimed, part: int, temp: Path,
           should_stop: Callable[[], bool] | None) -> None:
    with vault.catalog.session() as session:
        row = session.get(PyramidPart, (job_id, part))
        found = None if row is None else (row.first_shard, row.last_shard, row.done)
    if found is None:
        raise Cancelled
    first, last, done = found
    if not done:
        backend = source_backend(vault, job.info)
        write_shards(temp, job.image, lambda z, c, t, x, y, w, h: backend.read(
            0, z, c, t, x, y, w, h), first, last, progress=pyramids.reporter(
                vault, job_id, job.token, should_stop=should_stop,
                write=lambda f: _part_progress(vault, job_id, job.token, part, f)))
        log.info("part %d of the pyramid of image %s written", part, job.image_id)
    _written(vault, job_id, job, part, temp)


def _part_progress(vault: Vault, job_id: int, token: str, part: int, fraction: float) -> None:
    """A part's progress, and the job's from all of its parts; Cancelled (nothing
    written) if the job is no longer this claim's."""
    with vault.catalog.session() as session:
        session.execute(update(PyramidPart).where(
            PyramidPart.job_id == job_id, PyramidPart.part == part).values(
            progress=round(fraction, 4)).execution_options(synchronize_session=False))
        if not _job_progress(session, job_id, token):
            raise Cancelled  # rolled back


def _job_progress(session: Session, job_id: int, token: str) -> bool:
    """The job's progress from its parts'; whether it is still this claim's."""
    mean = select(func.avg(PyramidPart.progress)).where(
        PyramidPart.job_id == job_id).scalar_subquery()
    found = session.execute(update(PyramidJob).where(
        PyramidJob.id == job_id, PyramidJob.state == JobState.RUNNING,
        PyramidJob.worker == token).values(progress=mean * WRITING)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    return bool(found == 1)


def _written(vault: Vault, job_id: int, job: pyramids.Claimed, part: int,
             temp: Path) -> None:
    """Mark a part written; the last one queues the finish in the same transaction.
    The count is taken under a lock on the job's row, so of two parts written at the
    same moment exactly one sees none left."""
    with vault.catalog.session() as session:
        session.execute(update(PyramidPart).where(
            PyramidPart.job_id == job_id, PyramidPart.part == part).values(
            done=True, progress=1.0).execution_options(synchronize_session=False))
        ours = session.scalar(select(PyramidJob.id).where(
            PyramidJob.id == job_id, PyramidJob.state == JobState.RUNNING,
            PyramidJob.worker == job.token).with_for_update())
        if ours is None:
            raise Cancelled  # rolled back
        left = session.scalar(select(func.count()).where(
            PyramidPart.job_id == job_id, PyramidPart.done.is_(False)))
        _job_progress(session, job_id, job.token)
        if left == 0:
            defer_finish(session, job.pixels_id, job_id, job.token, temp.name)


def _finish(vault: Vault, job_id: int, job: pyramids.Claimed, temp: Path,
            should_stop: Callable[[], bool] | None) -> None:
    progress = pyramids.reporter(
        vault, job_id, job.token, should_stop=should_stop,
        write=lambda f: pyramids.still_running(
            vault, job_id, job.token, progress=round(WRITING + (1 - WRITING) * f, 4)))
    ranges = finish_pyramid(temp, job.image, progress=progress)
    pyramids.publish(vault, job_id, job.token, job.pixels_id, temp, ranges)
    log.info("pyramid of image %s built from its parts", job.image_id)


_STRANDED_PARTS = text("""
    SELECT p.job_id, p.part, j.worker, j.pixels_id, p.temp
      FROM pyramid_part p JOIN pyramid_job j ON j.id = p.job_id
     WHERE j.state = 'running' AND NOT p.done AND NOT EXISTS (
           SELECT 1 FROM procrastinate_jobs q
            WHERE q.task_name = :task AND q.status IN ('todo', 'doing')
              AND q.args ->> 'job_id' = CAST(p.job_id AS text)
              AND q.args ->> 'part' = CAST(p.part AS text))""")

_STRANDED_FINISHES = text("""
    SELECT j.id, j.worker, j.pixels_id, min(p.temp)
      FROM pyramid_job j JOIN pyramid_part p ON p.job_id = j.id
     WHERE j.state = 'running' AND NOT EXISTS (
           SELECT 1 FROM procrastinate_jobs q
            WHERE q.task_name IN (:task, :finish) AND q.status IN ('todo', 'doing')
              AND q.args ->> 'job_id' = CAST(j.id AS text))
     GROUP BY j.id, j.worker, j.pixels_id
    HAVING bool_and(p.done)""")


def requeue_stranded(session: Session) -> list[tuple[int, int | None]]:
    """Parts not written, and finishes of jobs whose parts all are, that no queue job
    will run (their worker was told to stop mid-way, or a run found another still at
    it): queued again. Their (job id, part; None for a finish)."""
    found: list[tuple[int, int | None]] = []
    for job_id, part, token, pixels_id, temp in session.execute(
            _STRANDED_PARTS, {"task": queue.PYRAMID_PART_TASK}).all():
        defer_parts(session, pixels_id, job_id, token, temp, [part])
        found.append((job_id, part))
    for job_id, token, pixels_id, temp in session.execute(
            _STRANDED_FINISHES, {"task": queue.PYRAMID_PART_TASK,
                                 "finish": queue.PYRAMID_FINISH_TASK}).all():
        defer_finish(session, pixels_id, job_id, token, temp)
        found.append((job_id, None))
    return found


def split_temps(vault: Vault) -> set[str]:
    """The directories of split jobs running now (``admin cleanse`` keeps them, however
    long their parts wait for a worker)."""
    with vault.catalog.session() as session:
        return set(session.scalars(select(PyramidPart.temp).join(
            PyramidJob, PyramidJob.id == PyramidPart.job_id).where(
            PyramidJob.state == JobState.RUNNING)).all())
