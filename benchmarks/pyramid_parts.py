"""One image's pyramid built whole by one worker, and in parts by one and two workers.

A ``--size``² 3-channel uint16 tiled OME-TIFF is imported on PostgreSQL; its
pyramid job is then run again for each round, by fresh ``pixelvault worker``
processes (one job at a time each), timed from the retry to the job marked
done, with the workers' CPU seconds from /proc:

- 1 worker, ``pixels.pyramid_part = 0``: the whole pyramid in one pass (the
  baseline, same run);
- 1 worker, in parts of ``--part`` MiB: what cutting it costs;
- 2 workers, in parts: what a second worker (on another host, or here on the
  second core) adds.

    .venv/bin/python -m benchmarks.pyramid_parts --size 8192 --part 64 \\
        --db postgresql://user:pass@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.render import make_source, process_cpu
from benchmarks.scratch_pg import scratch_database
from benchmarks.thumbnail_workers import stop


def _query(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(env["PIXELVAULT_DB_URL"].replace("+psycopg", "")) as conn:
        cursor = conn.execute(sql)
        return list(cursor.fetchall()) if cursor.description else []


def build_round(env: dict[str, str], workers: int, part: str) -> tuple[float, float, int]:
    """(seconds, worker CPU seconds, parts) of one build of the job by ``workers``."""
    run_env = {**env, "PIXELVAULT_PIXELS_PYRAMID_PART": part}
    started = [subprocess.Popen([sys.executable, "-m", "pixelvault", "worker", "-c", "1",
                                 "--queues", "pyramids"], env=run_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(workers)]
    try:
        time.sleep(3)  # started, connected, listening
        cpu_before = sum(process_cpu(p.pid) for p in started)
        (job_id,), = _query(env, "SELECT id FROM pyramid_job")
        clock = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pixelvault", "admin", "pyramids", "retry",
                        str(job_id)], env=env, check=True, capture_output=True)
        while True:
            (state,), = _query(env, "SELECT state FROM pyramid_job")
            if state in ("done", "failed"):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - clock
        if state != "done":
            (reason,), = _query(env, "SELECT reason FROM pyramid_job")
            raise SystemExit(f"the pyramid failed: {reason}")
        cpu = sum(process_cpu(p.pid) for p in started) - cpu_before
        (parts,), = _query(env, "SELECT count(*) FROM pyramid_part")
        return seconds, cpu, int(str(parts))
    finally:
        stop(started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--part", type=int, default=64, help="MiB per part")
    parser.add_argument("--db", default=os.environ.get("PIXELVAULT_TEST_PG_URL", ""))
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with scratch_database(args.db, "pv_bench_parts") as db_url:
        run(args, db_url)


def run(args: argparse.Namespace, db_url: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="pv-bench-parts-", dir=args.dir))
    try:
        env = {**os.environ, "PIXELVAULT_HOME": str(work / "home"),
               "PIXELVAULT_DB_URL": db_url,
               "PIXELVAULT_SEARCH_INDEXER": "off", "PIXELVAULT_PIXELS_PYRAMID_WORKERS": "0"}
        env.pop("PIXELVAULT_DATA_DIR", None)
        subprocess.run([sys.executable, "-m", "pixelvault", "admin", "init"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        source = work / "cells.ome.tif"
        make_source(source, args.size)
        subprocess.run([sys.executable, "-m", "pixelvault", "import", str(source), "--quiet"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        # the job the import queued waits, cancelled, for the first round's retry
        _query(env, "UPDATE pyramid_job SET state = 'cancelled'")
        _query(env, "DELETE FROM procrastinate_jobs")
        mib = 3 * args.size * args.size * 2 / (1 << 20)
        print(f"pyramid of a 3-channel uint16 {args.size}^2 image ({mib:.0f} MiB at full "
              f"resolution), parts of {args.part} MiB, on PostgreSQL; {os.cpu_count()} CPUs")
        rounds = [("1 worker, whole (baseline)", 1, "0"),
                  ("1 worker, in parts", 1, f"{args.part}MiB"),
                  ("2 workers, in parts", 2, f"{args.part}MiB")]
        baseline = None
        for label, workers, part in rounds:
            seconds, cpu, parts = build_round(env, workers, part)
            baseline = baseline or seconds
            print(f"  {label:<28} {seconds:6.2f} s  ({baseline / seconds:4.2f}x)  "
                  f"{cpu:6.2f} CPU s  {parts or 1} part(s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
