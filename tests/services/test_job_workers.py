"""`pixelvault worker` processes on PostgreSQL's task queue: a worker killed with SIGKILL
mid-job has its job taken up by another, which finishes it exactly once; a job
cancelled, or whose image is deleted, mid-run leaves nothing behind."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text

from pixelvault.catalog.models import Pixels, PyramidJob
from pixelvault.services import imports
from pixelvault.services.jobs import queue
from pixelvault.services.objects import deletion
from pixelvault.services.operations import heartbeats
from pixelvault.services.pixels import access, pyramids
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env, _base_env

SIDE = 6000  # a pyramid that takes a second or more to build, so it can be caught mid-run


@pytest.fixture
def pg_env(tmp_path: Path, pg_database: str) -> Env:
    home = tmp_path / "home"
    home.mkdir()
    env = Env(home, {**_base_env(home), "PIXELVAULT_DB_URL": pg_database}, "postgresql")
    env.cli("admin", "init", check=True)
    env.set(pixels_pyramid_threshold=str(1000 * 1000), jobs_stalled_after="3",
            jobs_stop_grace="0")  # a stopping worker stops its build at once
    return env


@pytest.fixture
def vault(pg_env: Env) -> Iterator[Vault]:
    opened = open_vault(pg_env.settings())
    yield opened
    opened.close()


class Workers:
    def __init__(self, env: Env) -> None:
        self.env = env
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-m", "pixelvault", "worker", "-c", "1"],
                                   env=self.env.vars, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        self.running.append(process)
        return process

    def stop_one(self, process: subprocess.Popen[bytes]) -> str:
        """Stop a worker; what it logged."""
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
        _, err = process.communicate(timeout=30)
        self.running.remove(process)
        return err.decode(errors="replace")

    def stop_all(self) -> str:
        return "".join(self.stop_one(process) for process in list(self.running))


@pytest.fixture
def workers(pg_env: Env) -> Iterator[Workers]:
    found = Workers(pg_env)
    yield found
    print(found.stop_all())  # shown when the test fails


def _job(vault: Vault) -> PyramidJob:
    with vault.catalog.session() as session:
        job = session.scalars(select(PyramidJob)).one()
        session.expunge(job)
        return job


def _until(predicate: Callable[[], bool], timeout: float = 60, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError("condition not reached in time")


def _mid_build(vault: Vault) -> Callable[[], bool]:
    def check() -> bool:
        job = _job(vault)
        assert job.state in ("pending", "running"), (job.state, job.reason)
        return job.state == "running" and 0 < job.progress < 1
    return check


def _leftovers(vault: Vault, pixels_id: int) -> list[str]:
    folder = vault.pixels.path(pixels_id).parent
    return sorted(p.name for p in folder.iterdir() if "_pyramid" in p.name
                  and not p.name.endswith(".pyr_lock")) if folder.is_dir() else []


def _import_large(vault: Vault, tmp_path: Path, seed: int
                  ) -> tuple[np.ndarray[Any, Any], imports.Outcome, int, int]:
    """A 2-channel SIDE x SIDE uint16 image imported: its pixels, the import's outcome,
    its pixels' id and version (its pyramid job waits on the queue)."""
    import tifffile

    data = np.random.default_rng(seed).integers(0, 4000, (2, SIDE, SIDE), dtype=np.uint16)
    path = tmp_path / f"large-{seed}.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "CYX"})
    outcome = imports.run(vault, vault.local_admin(), imports.plan([path]),
                          imports.ImportOptions())
    assert not outcome.failed, outcome.failed
    with vault.catalog.session() as session:
        pixels_id, version = session.execute(select(Pixels.id, Pixels.version).where(
            Pixels.image_id == outcome.imported[0].image_ids[0])).one()
    return data, outcome, pixels_id, version


def test_a_killed_worker_s_job_is_finished_once_by_another_and_cancels_leave_nothing(
        vault: Vault, workers: Workers, tmp_path: Path) -> None:
    _, outcome, pixels_id, version = _import_large(vault, tmp_path, seed=5)
    actor = vault.local_admin()
    image_id = outcome.imported[0].image_ids[0]
    with vault.catalog.session() as session:
        # deferred in the import's own transaction: the queue holds it already
        assert session.scalar(text("SELECT count(*) FROM procrastinate_jobs "
                                   "WHERE status = 'todo'")) == 1

    # SIGKILL mid-build (stopped first, so "mid-build" stays true until the kill)
    first = workers.start()
    _until(_mid_build(vault))
    first.send_signal(signal.SIGSTOP)
    assert not vault.pixels.pyramid(pixels_id).exists()
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    second = workers.start()
    _until(lambda: _job(vault).state == "done")
    alive = heartbeats.alive(vault.catalog)  # `admin status` and /health list it
    assert (second.pid, "worker") in [(p.pid, p.kind) for p in alive]
    job = _job(vault)
    assert job.attempts == 2 and f":{second.pid}:" in job.worker
    with vault.catalog.session() as session:
        # finished once: the image's version moved by one, the queue's job succeeded
        assert session.scalar(select(Pixels.version).where(Pixels.id == pixels_id)) == \
            version + 1
        assert session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == 0
    assert _leftovers(vault, pixels_id) == [f"{pixels_id}_pyramid"]
    buffer = access.open_buffer(vault, actor, image_id)
    assert buffer.pending is None and buffer.resolution_levels >= 4

    # cancelled mid-run: the job says so, nothing new is written, and the levels say
    # why they are missing (the pyramid from before stays until a build replaces it)
    pyramids.retry(vault, actor, job.id)
    _until(_mid_build(vault))
    assert pyramids.cancel(vault, actor, job.id) == "running"
    _until(lambda: not vault.pixels.is_building(pixels_id))
    job = _job(vault)
    assert job.state == "cancelled" and job.reason == "cancelled by root"
    assert _leftovers(vault, pixels_id) == [f"{pixels_id}_pyramid"]
    pending = access.open_buffer(vault, actor, image_id).pending
    assert pending is not None and pending.failed == "cancelled by root"

    # a worker told to stop (SIGTERM) mid-build, its grace over, stops the build and
    # leaves; the job waits again, and the next worker finishes it
    pyramids.retry(vault, actor, job.id)
    _until(_mid_build(vault))
    second.terminate()
    assert second.wait(30) == 0
    job = _job(vault)
    assert job.state == "pending" and not vault.pixels.is_building(pixels_id)
    assert [n for n in _leftovers(vault, pixels_id) if n.endswith(".tmp")] == []
    workers.start()
    _until(lambda: _job(vault).state == "done")

    # the image deleted mid-run: the job ends cleanly, no pyramid is left under any name
    pyramids.retry(vault, actor, job.id)
    _until(_mid_build(vault))
    deletion.delete_fileset(vault, actor, outcome.imported[0].fileset_id)
    _until(lambda: not vault.pixels.is_building(pixels_id))
    _until(lambda: _leftovers(vault, pixels_id) == [], timeout=5)
    with vault.catalog.session() as session:
        _until(lambda: session.scalar(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'")) == 0,
            timeout=10)
    logs = workers.stop_all()
    assert "was left by a worker gone silent; queued again" in logs
    # no failure but the one the stopped worker's job was meant to end with
    assert logs.count("Traceback") == logs.count("procrastinate.exceptions.JobAborted") == 1, \
        logs


def test_thumbnails_are_made_by_workers_for_imports_and_new_settings(
        vault: Vault, workers: Workers, tmp_path: Path) -> None:
    from dataclasses import replace

    import tifffile

    from pixelvault.catalog.models import Thumbnail
    from pixelvault.services.rendering import settings as rendering
    from pixelvault.services.rendering import thumbnails

    folder = tmp_path / "small"
    folder.mkdir()
    for index in range(2):
        data = np.zeros((2, 60, 80), np.uint16)
        data[0, :, :40] = data[1, :, 40:] = 1000 + index
        data[:, 0, 0] = 1
        tifffile.imwrite(folder / f"cells-{index}.ome.tif", data, ome=True,
                         metadata={"axes": "CYX"})
    actor = vault.local_admin()
    outcome = imports.run(vault, actor, imports.plan([folder]),
                          imports.ImportOptions(thumbnails=False))
    assert not outcome.failed, outcome.failed
    kept, gone = (imported for imported in outcome.imported)

    def queued() -> int:
        with vault.catalog.session() as session:
            return int(session.scalar(text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                "'pixelvault.thumbnail' AND status IN ('todo', 'doing')")) or 0)

    # deferred in the import's own transaction, one per image; none made yet
    assert queued() == 2
    # one image deleted before any worker runs: its job ends with nothing to do
    deletion.delete_fileset(vault, actor, gone.fileset_id)
    # new settings on the other before the worker: the job makes the newest
    image_id = kept.image_ids[0]
    current = rendering.effective(vault, actor, image_id).settings
    shown = replace(current, channels=(replace(current.channels[0], active=False),
                                       current.channels[1]))
    rendering.set_settings(vault, actor, image_id, shown)
    assert queued() == 3
    with vault.catalog.session() as session:
        assert session.scalars(select(Thumbnail)).all() == []

    workers.start()
    _until(lambda: queued() == 0)
    with vault.catalog.session() as session:
        rows = session.scalars(select(Thumbnail)).all()
        pixels_id = session.scalar(select(Pixels.id).where(Pixels.image_id == image_id))
    assert [(r.pixels_id, r.owner_id, r.rdef_key) for r in rows] == \
        [(pixels_id, actor.user_id, thumbnails.settings_key(shown))]
    stored = vault.thumbnails.read(rows[0].id)
    assert stored is not None and thumbnails.get(vault, actor, image_id) == stored
    with vault.catalog.session() as session:  # served from the store, not made again
        assert session.scalar(select(Thumbnail.version)) == rows[0].version
        failed = session.scalar(text("SELECT count(*) FROM procrastinate_jobs "
                                     "WHERE status = 'failed'"))
    assert failed == 0
    assert "Traceback" not in workers.stop_all()


def test_a_big_delete_leaves_its_bytes_to_a_worker(vault: Vault, workers: Workers,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import tifffile

    from pixelvault.catalog.models import Fileset

    folder = tmp_path / "six"
    folder.mkdir()
    for index in range(6):
        tifffile.imwrite(folder / f"cells-{index}.tif",
                         np.full((40, 50), 100 + index, np.uint16))
    actor = vault.local_admin()
    outcome = imports.run(vault, actor, imports.plan([folder]), imports.ImportOptions())
    small, killed, reused, big, replaced, half = outcome.imported
    directory = {f.fileset_id: vault.managed.path(f.directory) for f in outcome.imported}

    def removals(*states: str) -> int:
        with vault.catalog.session() as session:
            return int(session.scalar(text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                "'pixelvault.remove_bytes' AND status = ANY(:states)"),
                {"states": list(states)}) or 0)

    # a small delete removes its bytes itself; its queued safety net is then dropped
    gone = deletion.delete_fileset(vault, actor, small.fileset_id)
    assert not gone.in_background and not directory[small.fileset_id].exists()
    assert removals("todo") == 0

    # killed between the commit and the removal: the queued job removes the bytes later
    def die(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(deletion, "SAFETY_DELAY", 1.0)
    monkeypatch.setattr(deletion, "remove_bytes", die)
    for fileset in (killed, reused):
        with pytest.raises(KeyboardInterrupt):
            deletion.delete_fileset(vault, actor, fileset.fileset_id)
    monkeypatch.undo()
    assert directory[killed.fileset_id].is_dir() and removals("todo") == 2

    # a big one returns once its rows are gone; a worker removes its bytes
    monkeypatch.setattr(deletion, "BACKGROUND_FILES", 1)
    gone = deletion.delete_fileset(vault, actor, big.fileset_id)
    assert gone.in_background and gone.summary()["bytes_in_background"]
    assert directory[big.fileset_id].is_dir() and removals("todo") == 3
    for fileset in (replaced, half):
        deletion.delete_fileset(vault, actor, fileset.fileset_id)
    # one's directory made again under its name before a fileset row names it (an
    # import between its mkdir and its commit): not the directory deleted, it stays
    shutil.rmtree(directory[replaced.fileset_id])
    directory[replaced.fileset_id].mkdir()
    (directory[replaced.fileset_id] / "new.tif").write_bytes(b"a new import's bytes")
    # another's removal was cut off after its rename: the job finishes the tombstone
    path = directory[half.fileset_id]
    tombstone = path.with_name(f"{path.name}.removing-{path.stat().st_ino}")
    path.rename(tombstone)
    # meanwhile a new import took one's directory name (a path template without the
    # time): the queued removal leaves that directory to its new fileset
    taken = str(reused.directory)
    with vault.catalog.session() as session:
        session.add(Fileset(directory=taken, state="ready", owner_id=actor.user_id,
                            group_id=actor.group_id))
    workers.start()
    _until(lambda: removals("todo", "doing") == 0)
    assert not directory[big.fileset_id].exists()
    assert not directory[killed.fileset_id].exists()
    assert directory[reused.fileset_id].is_dir()
    assert (directory[replaced.fileset_id] / "new.tif").read_bytes() == b"a new import's bytes"
    assert not tombstone.exists() and not path.exists()
    assert removals("failed") == 0
    assert "Traceback" not in workers.stop_all()


def test_a_huge_pyramid_is_built_in_parts_by_several_workers(
        pg_env: Env, vault: Vault, workers: Workers, tmp_path: Path) -> None:
    """Four ranges of shards (two per channel) for whoever takes them: one worker killed
    mid-part, two others write the rest, the finish runs once, and the pyramid holds
    the source's pixels at every level; a finish whose worker stopped is queued again;
    a cancelled split leaves nothing."""
    from pixelvault.catalog.models import PyramidPart
    from pixelvault.formats.ngff_write import halve
    from pixelvault.formats.zarr_shards import ShardReader
    from pixelvault.services.operations.cleanse import cleanse

    data, outcome, pixels_id, version = _import_large(vault, tmp_path, seed=7)
    actor = vault.local_admin()
    image_id = outcome.imported[0].image_ids[0]
    pg_env.set(pixels_pyramid_part="1MiB")  # every 64 MiB shard a part of its own

    def parts() -> list[tuple[int, bool, float]]:
        with vault.catalog.session() as session:
            return [(p.part, p.done, p.progress) for p in session.scalars(
                select(PyramidPart).order_by(PyramidPart.part))]

    def queued(task: str) -> int:
        with vault.catalog.session() as session:
            return int(session.scalar(text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task AND "
                "status IN ('todo', 'doing')"), {"task": task}) or 0)

    # the first worker cuts the job, starts a part, and is killed in the middle of it
    first = workers.start()
    _until(lambda: any(0 < progress < 1 for _, _, progress in parts()))
    first.send_signal(signal.SIGSTOP)
    assert [(part, done) for part, done, _ in parts()] == [(n, False) for n in range(4)]
    assert _job(vault).state == "running" and vault.pixels.is_building(pixels_id)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert not vault.pixels.is_building(pixels_id)  # the lock went with the process
    # the parts wait for workers without a lock held: `admin cleanse` keeps their work
    (temp,) = [n for n in _leftovers(vault, pixels_id) if n.endswith(".tmp")]
    kept = dict(cleanse(vault, dry_run=True, grace_seconds=0).kept)
    assert kept[f"Pixels/{temp}"] == "the parts of a pyramid its workers are building"
    second, third = workers.start(), workers.start()
    _until(lambda: _job(vault).state == "done", timeout=120)
    job = _job(vault)
    assert job.progress == 1.0 and job.attempts == 1, (job.progress, job.attempts)
    assert [(part, done) for part, done, _ in parts()] == [(n, True) for n in range(4)]
    with vault.catalog.session() as session:
        assert session.scalar(select(Pixels.version).where(Pixels.id == pixels_id)) == \
            version + 1  # finished once
        _until(lambda: session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == 0,
               timeout=10)
    assert _leftovers(vault, pixels_id) == [f"{pixels_id}_pyramid"]
    pyramid = vault.pixels.pyramid(pixels_id)
    with ShardReader(pyramid / "0") as full, ShardReader(pyramid / "1") as half:
        assert np.array_equal(full.read((slice(None),) * 5)[0, :, 0], data)
        smaller = half.read((slice(None),) * 5)[0, :, 0]
        for channel in range(2):
            assert np.array_equal(smaller[channel], halve(data[channel]))
    buffer = access.open_buffer(vault, actor, image_id)
    assert buffer.pending is None and buffer.resolution_levels >= 4
    logs = {process.pid: workers.stop_one(process) for process in (second, third)}
    written = {pid: text_.count("of the pyramid of image") for pid, text_ in logs.items()}
    assert all(count >= 1 for count in written.values()), written  # both took parts
    finished = [text_.count("built from its parts") for text_ in logs.values()]
    assert sorted(finished) == [0, 1], logs

    # the finish's worker told to stop: the finish is aborted; with no queue job left
    # to run it, the next worker queues it again, and the job ends done once
    fourth = workers.start()
    pyramids.retry(vault, actor, job.id)
    _until(lambda: _job(vault).state == "running" and _job(vault).progress > 0.8,
           timeout=120)
    fourth.send_signal(signal.SIGSTOP)
    assert _job(vault).state == "running", "the finish ended before it could be stopped"
    fourth.send_signal(signal.SIGTERM)
    fourth.send_signal(signal.SIGCONT)
    assert fourth.wait(30) == 0
    # aborted, it waits for its retry; as at its last attempt, its queue job is dropped
    assert _job(vault).state == "running" and queued(queue.PYRAMID_FINISH_TASK) == 1
    with vault.catalog.session() as session:
        session.execute(text("DELETE FROM procrastinate_jobs WHERE task_name = :task"),
                        {"task": queue.PYRAMID_FINISH_TASK})
    fifth = workers.start()
    _until(lambda: _job(vault).state == "done", timeout=60)
    assert "None)] (job, part; None: the finish) were waiting" in workers.stop_one(fifth)
    with vault.catalog.session() as session:
        assert session.scalar(select(Pixels.version).where(Pixels.id == pixels_id)) == \
            version + 2

    # cancelled while its parts are written: every part stops, nothing is left
    workers.start()
    workers.start()
    pyramids.retry(vault, actor, job.id)
    _until(lambda: any(0 < progress < 1 for _, _, progress in parts()))
    assert pyramids.cancel(vault, actor, job.id) == "running"
    _until(lambda: not vault.pixels.is_building(pixels_id))
    _until(lambda: _leftovers(vault, pixels_id) == [f"{pixels_id}_pyramid"], timeout=10)
    assert _job(vault).state == "cancelled"
    _until(lambda: queued(queue.PYRAMID_PART_TASK) == 0, timeout=20)
    logs_after = workers.stop_all()  # no failure but the stopped finish's
    assert logs_after.count("Traceback") == \
        logs_after.count("procrastinate.exceptions.JobAborted") == 1, logs_after


def test_memo_rebuilds_are_queue_jobs_for_the_workers(pg_env: Env, vault: Vault,
                                                      workers: Workers,
                                                      tmp_path: Path) -> None:
    import json

    import tifffile

    copies = {}
    for name in ("kept", "gone"):
        folder = tmp_path / name
        folder.mkdir()
        tifffile.imwrite(folder / f"{name}.tif", np.zeros((40, 16, 16), np.uint16))
        (result,) = imports.run(vault, vault.local_admin(), imports.plan([folder]),
                                imports.ImportOptions()).imported
        copies[name] = (result, next(vault.managed.path(result.directory).rglob("*.tif")))
    memo = vault.memos.path(copies["kept"][1])
    assert memo.is_file()
    memo.unlink()

    queued = pg_env.cli("admin", "memo", "rebuild", "--queue", "-o", "json", check=True)
    assert json.loads(queued.stdout) == {"filesets": 2, "jobs": 2, "queue": "maintenance"}
    shown = json.loads(pg_env.cli("admin", "queue", "-o", "json", check=True).stdout)
    assert [(row["queue"], row["task"], row["status"], row["jobs"]) for row in shown] == \
        [("maintenance", "pixelvault.memo", "todo", 2)]
    assert pg_env.cli("admin", "queue", check=True).stdout.count("pixelvault.memo") == 1
    # a fileset deleted before a worker runs its job: the job ends with nothing to do
    deletion.delete_fileset(vault, vault.local_admin(), copies["gone"][0].fileset_id)
    workers.start()
    _until(lambda: memo.is_file())
    _until(lambda: json.loads(pg_env.cli("admin", "queue", "-o", "json").stdout) == [])
    assert "Traceback" not in workers.stop_all()
