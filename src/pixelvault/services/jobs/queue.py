"""The task queue background jobs travel through: procrastinate, on PostgreSQL.

Why procrastinate: it keeps its queue in the catalog's own PostgreSQL (no broker
to run, back up or keep in step), hands a job to exactly one worker with
``FOR UPDATE SKIP LOCKED``, wakes workers with ``LISTEN/NOTIFY``, keeps workers'
heartbeats so a killed worker's jobs can be found and run again, serialises
jobs that share a lock, and retries with back-off. Its tables and functions
are created by the catalog's migration 0013, from the schema of the pinned
procrastinate version.

A job is deferred in the same transaction as the rows it is for (an image and
its ``pyramid_job`` row): procrastinate's own defer function is called through
the catalog's connection, so a rolled-back import leaves no job behind and a
committed one always has its job, with nothing to reconcile afterwards.

The embedded SQLite catalog has no such queue; there the server's own threads
take the jobs from the ``pyramid_job`` table (see ``pixels.pyramids``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from pixelvault.services.jobs.names import DELETIONS as DELETIONS
from pixelvault.services.jobs.names import MAINTENANCE as MAINTENANCE
from pixelvault.services.jobs.names import MEMO_TASK as MEMO_TASK
from pixelvault.services.jobs.names import PYRAMID_FINISH_TASK as PYRAMID_FINISH_TASK
from pixelvault.services.jobs.names import PYRAMID_PART_TASK as PYRAMID_PART_TASK
from pixelvault.services.jobs.names import PYRAMID_TASK as PYRAMID_TASK
from pixelvault.services.jobs.names import PYRAMIDS as PYRAMIDS
from pixelvault.services.jobs.names import QUEUES as QUEUES
from pixelvault.services.jobs.names import REMOVAL_TASK as REMOVAL_TASK
from pixelvault.services.jobs.names import THUMBNAIL_TASK as THUMBNAIL_TASK
from pixelvault.services.jobs.names import THUMBNAILS as THUMBNAILS

_DEFER = text("""
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(:queue, :task, 0, j->>'lock', NULL, j->'args',
                   CASE WHEN j ? 'delay'
                        THEN clock_timestamp()
                             + make_interval(secs => CAST(j->>'delay' AS float))
                   END)::procrastinate_job_to_defer_v1
          FROM jsonb_array_elements(CAST(:jobs AS jsonb)) AS j))""")


def on_queue(bind: Engine | Session) -> bool:
    """Whether jobs go through procrastinate (a PostgreSQL catalog)."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def defer(session: Session, queue: str, task: str,
          jobs: list[tuple[dict[str, Any], str | None]], *,
          delay: float | None = None) -> list[int]:
    """Queue ``(arguments, lock)`` jobs in the caller's transaction (PostgreSQL only;
    jobs sharing a lock never run at the same time; None: no lock), to run now or
    ``delay`` seconds from now; their ids."""
    if not jobs or not on_queue(session):
        return []
    found = session.scalar(_DEFER, {"queue": queue, "task": task, "jobs": json.dumps(
        [{"args": args, "lock": lock, **({"delay": delay} if delay is not None else {})}
         for args, lock in jobs])})
    return [int(job_id) for job_id in found or []]


def forget(session: Session, job_ids: list[int]) -> None:
    """Drop queued jobs that are no longer wanted (not yet taken by a worker)."""
    if job_ids:
        session.execute(text("DELETE FROM procrastinate_jobs WHERE id = ANY(:ids) "
                             "AND status = 'todo'"), {"ids": job_ids})


def pyramid_lock(pixels_id: int) -> str:
    return f"pyramid-{pixels_id}"


def defer_pyramids(session: Session, pixels_ids: list[int]) -> None:
    defer(session, PYRAMIDS, PYRAMID_TASK,
          [({"pixels_id": pixels_id}, pyramid_lock(pixels_id)) for pixels_id in pixels_ids])


def defer_thumbnails(session: Session, wanted: list[tuple[int, int]]) -> None:
    """Queue the making of ``(pixels_id, owner_id)`` thumbnails: the default size with
    the settings that user sees (made when first asked for where there is no queue)."""
    defer(session, THUMBNAILS, THUMBNAIL_TASK,
          [({"pixels_id": pixels_id, "owner_id": owner_id},
            f"thumbnail-{pixels_id}-{owner_id}") for pixels_id, owner_id in wanted])


def defer_removal(session: Session, removal: dict[str, list[Any]],
                  delay: float | None = None) -> list[int]:
    """Queue the removal of a delete's bytes (``attachment_files``, ``directories``,
    ``pixels``, ``thumbnails``), in the delete's transaction: once its rows are gone,
    its bytes go even if the process that deleted them dies before it removed them."""
    return defer(session, DELETIONS, REMOVAL_TASK, [(removal, None)], delay=delay)


def defer_memos(session: Session, fileset_ids: list[int]) -> list[int]:
    """Queue the rebuilding of these filesets' memo files, one job each."""
    return defer(session, MAINTENANCE, MEMO_TASK,
                 [({"fileset_id": fileset_id}, f"memo-{fileset_id}")
                  for fileset_id in fileset_ids])


@dataclass(frozen=True)
class QueueCount:
    """How many jobs of one task are in one state, and since when the oldest."""

    queue: str
    task: str
    status: str
    jobs: int
    oldest: datetime | None


_SUMMARY = text("""
    SELECT j.queue_name, j.task_name, j.status, count(*),
           min(e.at) AS oldest
      FROM procrastinate_jobs j
      LEFT JOIN LATERAL (SELECT min(at) AS at FROM procrastinate_events
                          WHERE job_id = j.id AND type = 'deferred') e ON true
     GROUP BY j.queue_name, j.task_name, j.status
     ORDER BY j.queue_name, j.task_name, j.status""")


def summary(session: Session) -> list[QueueCount]:
    """The jobs on the queue by queue, task and state (successful ones are not kept):
    what waits (todo), runs (doing), and failed or was cancelled."""
    if not on_queue(session):
        return []
    return [QueueCount(str(queue), str(task), str(status), int(count), oldest)
            for queue, task, status, count, oldest in session.execute(_SUMMARY).all()]


_STRANDED = text("""
    SELECT p.pixels_id FROM pyramid_job p
     WHERE p.state = 'pending' AND NOT EXISTS (
           SELECT 1 FROM procrastinate_jobs j
            WHERE j.task_name = :task AND j.status IN ('todo', 'doing')
              AND j.args ->> 'pixels_id' = CAST(p.pixels_id AS text))""")


def requeue_stranded(session: Session) -> list[int]:
    """Pending pyramid jobs that no queue job will run (their queue job ended while
    they were put back to wait, or they were queued before the queue existed): put
    on the queue again. Their pixels ids."""
    found = [int(pixels_id) for pixels_id in
             session.scalars(_STRANDED, {"task": PYRAMID_TASK}).all()]
    defer_pyramids(session, found)
    return found
