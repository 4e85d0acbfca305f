"""One huge image's pyramid built by several workers at once, in ranges of shards.

A whole-slide image of tens of gigabytes takes one worker many minutes; with
its pyramid cut into parts, every worker on every host takes a part. The
worker that takes the pyramid's job (``pyramids.build`` with ``split``) makes
one temporary directory and queues a job per range of the full-resolution
level's shards (``ngff_write.split_shards``, about ``pixels.pyramid_part``
bytes each), with a ``pyramid_part`` row each, in one transaction. A part
writes its shards whole into that directory; the worker that marks the last
part written (counted under a lock on the job's row, so exactly one sees
none left) reads the full-resolution level back to write the smaller ones,
then renames the directory into place as any build does.

The parts hold the pyramid's lock shared: ``is_building`` is true while any
is written, and a whole build cannot start meanwhile. A part whose worker
dies is run again by another (procrastinate's stalled jobs, or the workers'
search for parts no queue job will run); it rewrites its shard files from
the start. A part that finds its job cancelled, deleted or claimed again
removes the temporary directory, which no one else writes into then. A
second finisher (a part run again after it was counted) waits on a
PostgreSQL advisory lock, then finds the job done.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from pixelvault.catalog.models import JobState, PyramidJob, PyramidPart
from pixelvault.errors import LockHeldError, PixelvaultError
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
_FINISH_LOCK = 0x7069_7870_0000_0000  # advisory lock keys: this base plus the job's id


def split(vault: Vault, job_id: int) -> bool:
    """Queue the parts of a claimed job's pyramid, if it is bigger than
    ``pixels.pyramid_part`` (and the catalog has a queue); whether it was (else the
    caller builds it whole)."""
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
        log.info("pyramid of image %s is built by another process", job.image_id)
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
            defer(session, job.pixels_id, job_id, job.token, range(len(parts)))
    if ours != 1:  # cancelled or deleted meanwhile
        shutil.rmtree(temp, ignore_errors=True)
    else:
        log.info("pyramid of image %s cut into %d parts for the workers", job.image_id,
                 len(parts))
    return True


def defer(session: Session, pixels_id: int, job_id: int, token: str,
          parts: range | list[int]) -> None:
    """Queue parts of a split pyramid (in the caller's transaction); two runs of the
    same part never overlap."""
    queue.defer(session, queue.PYRAMIDS, queue.PYRAMID_PART_TASK, [
        ({"pixels_id": pixels_id, "job_id": job_id, "part": part, "token": token},
         f"pyramid-{pixels_id}-part-{part}") for part in parts])


def build_part(vault: Vault, pixels_id: int, job_id: int, part: int, token: str, *,
               last_attempt: bool = True, should_stop: Callable[[], bool] | None = None) -> None:
    """Write one part of a split pyramid; the last part written also finishes it.

    Not the ``last_attempt``: a passing failure is raised for the queue to try the
    part again (the job keeps running); else the job fails with its reason and the
    parts written so far are removed."""
    with vault.catalog.session() as session:
        found = session.execute(
            select(PyramidJob.state, PyramidJob.worker, PyramidPart.first_shard,
                   PyramidPart.last_shard, PyramidPart.done, PyramidPart.temp)
            .join(PyramidPart, PyramidPart.job_id == PyramidJob.id)
            .where(PyramidJob.id == job_id, PyramidJob.pixels_id == pixels_id,
                   PyramidPart.part == part)).first()
    if found is None:  # claimed again (or deleted) before this part ran
        return
    temp = vault.pixels.temp_named(pixels_id, found.temp)
    if found.state in (JobState.CANCELLED, JobState.FAILED, JobState.DONE):
        shutil.rmtree(temp, ignore_errors=True)  # what the parts wrote goes with the job
        return
    job = pyramids.claimed(vault, job_id, token)
    if job is None:  # waiting again, or another claim's
        return
    try:
        with vault.pixels.building(pixels_id, shared=True):
            if not temp.is_dir():
                raise PixelvaultError("the parts written so far were removed while the "
                                      "pyramid was built; `pixelvault admin pyramids "
                                      "retry` builds it again")
            if not found.done:
                backend = source_backend(vault, job.info)
                write_shards(temp, job.image, lambda z, c, t, x, y, w, h: backend.read(
                    0, z, c, t, x, y, w, h), found.first_shard, found.last_shard,
                    progress=pyramids.reporter(
                        vault, job_id, token, should_stop=should_stop,
                        write=lambda f: _part_progress(vault, job_id, token, part, f)))
                log.info("part %d of the pyramid of image %s written", part, job.image_id)
            if _written(vault, job_id, token, part):
                _finish(vault, job_id, job, temp, should_stop)
    except Cancelled:
        log.info("pyramid of image %s cancelled; nothing of it is kept", job.image_id)
        shutil.rmtree(temp, ignore_errors=True)
    except Interrupted:
        log.info("part %d of the pyramid of image %s interrupted (its worker stops); it "
                 "waits for another", part, job.image_id)
        raise
    except LockHeldError:
        log.info("pyramid of image %s is built by another process", job.image_id)
    except Exception as exc:  # any failure is recorded with its reason, never lost
        if pyramids.failed(vault, job_id, token, job.image_id, exc,
                           last_attempt=last_attempt, wait=JobState.RUNNING):
            raise
        shutil.rmtree(temp, ignore_errors=True)


def _part_progress(vault: Vault, job_id: int, token: str, part: int, fraction: float) -> None:
    """A part's progress, and the job's from all of its parts; Cancelled if the job is
    no longer this claim's."""
    with vault.catalog.session() as session:
        session.execute(update(PyramidPart).where(
            PyramidPart.job_id == job_id, PyramidPart.part == part).values(
            progress=round(fraction, 4)).execution_options(synchronize_session=False))
        mean = select(func.avg(PyramidPart.progress)).where(
            PyramidPart.job_id == job_id).scalar_subquery()
        found = session.execute(update(PyramidJob).where(
            PyramidJob.id == job_id, PyramidJob.state == JobState.RUNNING,
            PyramidJob.worker == token).values(progress=mean * WRITING)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if found != 1:
        raise Cancelled


def _written(vault: Vault, job_id: int, token: str, part: int) -> bool:
    """Mark a part written; whether every part now is. The count is taken under a lock
    on the job's row, so of two parts written at the same moment exactly one sees
    none left."""
    with vault.catalog.session() as session:
        session.execute(update(PyramidPart).where(
            PyramidPart.job_id == job_id, PyramidPart.part == part).values(
            done=True, progress=1.0).execution_options(synchronize_session=False))
        ours = session.scalar(select(PyramidJob.id).where(
            PyramidJob.id == job_id, PyramidJob.state == JobState.RUNNING,
            PyramidJob.worker == token).with_for_update())
        if ours is None:
            raise Cancelled
        total, written = session.execute(select(
            func.count(), func.count().filter(PyramidPart.done)).where(
            PyramidPart.job_id == job_id)).one()
        session.execute(update(PyramidJob).where(PyramidJob.id == job_id).values(
            progress=round(WRITING * written / max(1, total), 4))
            .execution_options(synchronize_session=False))
    return bool(written == total)


def _finish(vault: Vault, job_id: int, job: pyramids.Claimed, temp: Path,
            should_stop: Callable[[], bool] | None) -> None:
    """Write the smaller levels from the parts and publish the pyramid, as one
    finisher at a time (a PostgreSQL advisory lock, let go if its process dies)."""
    with vault.catalog.engine.connect() as connection:
        taken = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                  {"key": _FINISH_LOCK + job_id})
        connection.commit()
        if not taken:  # another finisher is at it; should it die, its part runs again
            return
        try:
            if pyramids.claimed(vault, job_id, job.token) is None:
                return  # finished (or cancelled) by a finisher before us
            progress = pyramids.reporter(
                vault, job_id, job.token, should_stop=should_stop,
                write=lambda f: pyramids.still_running(
                    vault, job_id, job.token,
                    progress=round(WRITING + (1 - WRITING) * f, 4)))
            ranges = finish_pyramid(temp, job.image, progress=progress)
            pyramids.publish(vault, job_id, job.token, job.pixels_id, temp, ranges)
            # every part is written: no one needs the lock file any more (a whole build
            # removes its own as it ends)
            vault.pixels.lock_path(job.pixels_id).unlink(missing_ok=True)
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                               {"key": _FINISH_LOCK + job_id})
            connection.commit()
    log.info("pyramid of image %s built from its parts", job.image_id)


_STRANDED = text("""
    SELECT p.job_id, p.part, j.worker, x.pixels_id
      FROM pyramid_part p JOIN pyramid_job j ON j.id = p.job_id
      JOIN pixels x ON x.id = j.pixels_id
     WHERE j.state = 'running' AND NOT p.done AND NOT EXISTS (
           SELECT 1 FROM procrastinate_jobs q
            WHERE q.task_name = :task AND q.status IN ('todo', 'doing')
              AND q.args ->> 'job_id' = CAST(p.job_id AS text)
              AND q.args ->> 'part' = CAST(p.part AS text))""")


def requeue_stranded(session: Session) -> list[tuple[int, int]]:
    """Parts not written whose queue job ended (their worker was told to stop
    mid-part): queued again. Their (job id, part)."""
    found = session.execute(_STRANDED, {"task": queue.PYRAMID_PART_TASK}).all()
    for job_id, part, token, pixels_id in found:
        defer(session, pixels_id, job_id, token, [part])
    return [(job_id, part) for job_id, part, _, _ in found]
