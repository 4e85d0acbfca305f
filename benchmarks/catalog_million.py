"""A PostgreSQL catalog of a million images, through a real server process.

The catalog is filled with bulk SQL (the triggers write the search event log as
for any change): 10 users in 5 groups of every permission level, 10,000
datasets of 100 images, each image with a tag and a two-key map. The search
index is built from it, then a server is started on it. Over HTTP, as an
administrator and as a member of a read-only group (who sees their group's
images and nothing else), with p50 and p99:

- the first page of images (20, with the permission-filtered total);
- the 10,000th page: by keyset (``after=``) against OFFSET, the baseline, in
  the same run;
- a count (a page of one row with its total);
- a two-term search;
- ``get_thumbnails`` of 100 ids (100 real images, imported into the read-only
  group with their thumbnails, beside the million without pixels);

and the server process's peak memory.

    .venv/bin/python -m benchmarks.catalog_million --images 1000000 \\
        --db postgresql://user:pass@127.0.0.1/postgres

``--db`` is a PostgreSQL role that may create databases (default:
PIXELVAULT_TEST_PG_URL, which `make test` sets up); the benchmark's database is
dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks.api import ONE_PROCESS, free_port, wait_until_up

WORDS = [f"{stem}{n}" for stem in ("mito", "gfp", "hela", "dapi", "actin", "tubulin",
                                   "nucleus", "spindle", "kyoto", "u2os") for n in range(20)]
LEVELS = ["rw----", "rwr---", "rwra--", "rwrw--", "rwr---"]  # five groups, every level
PASSWORD = "bench-password-1"
ROOT_PASSWORD = "bench-root-1"
PAGE = 20


def fill(vault: Any, db_url: str, images: int) -> None:
    """Users, groups, datasets, images, tags and maps, by bulk SQL in the catalog."""
    import psycopg

    from pixelvault.catalog.models import Permissions
    from pixelvault.services.access import principals

    actor = vault.local_admin()
    groups = [principals.create_group(vault.catalog, actor, f"lab{g}", Permissions(level))
              for g, level in enumerate(LEVELS)]
    users = [principals.create_user(vault.catalog, actor, f"user{u}", "User", str(u),
                                    [groups[u // 2]], password=PASSWORD) for u in range(10)]
    values = {"owners": users, "groups": [groups[u // 2] for u in range(10)],
              "words": WORDS, "datasets": images // 100, "images": images,
              "taggers": [f"user{u}" for u in range(0, 10, 2)]}
    libpq = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq) as conn:
        conn.execute("SET synchronous_commit = off")
        steps: list[tuple[str, str]] = [
            ("datasets", """
             INSERT INTO dataset (name, description, owner_id, group_id, created_at,
                                  updated_at)
             SELECT 'plate-run ' || d, '', (%(owners)s::int[])[d %% 10 + 1],
                    (%(groups)s::int[])[d %% 10 + 1], now(), now()
               FROM generate_series(0, %(datasets)s - 1) d"""),
            ("images", """
             INSERT INTO image (name, description, series, owner_id, group_id, created_at,
                                updated_at)
             SELECT w[1 + (i * 7) %% 200] || ' ' || w[1 + (i * 13) %% 200] || ' ' || i
                    || '.tif', '', 0, (%(owners)s::int[])[(i / 100) %% 10 + 1],
                    (%(groups)s::int[])[(i / 100) %% 10 + 1], now(), now()
               FROM generate_series(0, %(images)s - 1) i,
                    (SELECT %(words)s::text[] AS w) v"""),
            ("dataset links", """
             INSERT INTO dataset_image_link (parent_id, child_id, owner_id, group_id,
                                             created_at, updated_at)
             SELECT d.id, i.id, i.owner_id, i.group_id, now(), now()
               FROM image i JOIN dataset d ON d.name = 'plate-run ' || ((i.id - 1) / 100)"""),
            ("tags", """
             INSERT INTO annotation (kind, text_value, namespace, owner_id, group_id,
                                     created_at, updated_at)
             SELECT 'tag', w, '', u.id, m.group_id, now(), now()
               FROM unnest(%(words)s::text[]) w,
                    experimenter u JOIN group_membership m ON m.experimenter_id = u.id
              WHERE u.username = ANY(%(taggers)s)"""),
            ("tag links", """
             INSERT INTO annotation_link (parent_kind, parent_id, annotation_id, owner_id,
                                          group_id, created_at, updated_at)
             SELECT 'image', i.id, t.id, i.owner_id, i.group_id, now(), now()
               FROM image i JOIN annotation t ON t.kind = 'tag' AND t.group_id = i.group_id
                AND t.text_value = (%(words)s::text[])[1 + (i.id * 31) %% 200]"""),
            # the map's description carries its image's id, for its link below
            ("maps", """
             INSERT INTO annotation (kind, text_value, namespace, owner_id, group_id,
                                     created_at, updated_at, description)
             SELECT 'map', '', '', owner_id, group_id, now(), now(), id::text
               FROM image"""),
            ("map entries", """
             INSERT INTO map_entry (annotation_id, position, key, value)
             SELECT a.id, p, (ARRAY['Cell line', 'Stain'])[p + 1],
                    (%(words)s::text[])[1 + (a.id * (p + 3)) %% 200]
               FROM annotation a, generate_series(0, 1) p WHERE a.kind = 'map'"""),
            ("map links", """
             INSERT INTO annotation_link (parent_kind, parent_id, annotation_id, owner_id,
                                          group_id, created_at, updated_at)
             SELECT 'image', a.description::int, a.id, a.owner_id, a.group_id, now(), now()
               FROM annotation a WHERE a.kind = 'map'"""),
        ]
        for label, statement in steps:
            began = time.perf_counter()
            rows = conn.execute(statement, values).rowcount
            conn.commit()
            print(f"  {label}: {rows:,} rows in {time.perf_counter() - began:.1f} s",
                  flush=True)
        began = time.perf_counter()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        print(f"  vacuum analyze: {time.perf_counter() - began:.1f} s", flush=True)


def timed(call: Callable[[], httpx.Response], times: int) -> tuple[float, float]:
    found = []
    for _ in range(times):
        began = time.perf_counter()
        answer = call()
        found.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.text
    found.sort()
    return statistics.median(found), found[min(len(found) - 1, int(len(found) * 0.99))]


def with_pixels(vault: Any, work: Path, count: int) -> list[int]:
    """``count`` small images imported by user3 into the read-only group (user2 sees
    them), thumbnails made at import; their ids."""
    import numpy as np
    from PIL import Image

    from pixelvault.catalog.principals import actor_for
    from pixelvault.services import imports

    folder = work / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(4)
    for index in range(count):
        Image.fromarray(rng.integers(0, 255, (192, 256, 3), dtype=np.uint8)).save(
            folder / f"cell-{index:03d}.png")
    with vault.catalog.session() as session:
        owner = actor_for(session, "user3")
    assert owner is not None
    outcome = imports.run(vault, owner, imports.plan([folder]), imports.ImportOptions())
    assert not outcome.failed, outcome.failed
    return [i for imported in outcome.imported for i in imported.image_ids]


def measure(http: httpx.Client, depth: int, after: int, requests: int,
            rng: random.Random, pictures: list[int]) -> list[tuple[str, tuple[float, float]]]:
    def page(query: str) -> Callable[[], httpx.Response]:
        return lambda: http.get(f"/api/v1/images?{query}")

    def search() -> httpx.Response:
        return http.get("/api/v1/search", params={"q": " ".join(rng.sample(WORDS, 2)),
                                                  "limit": 20})

    thumbnails = "/webgateway/get_thumbnails/?" + "&".join(f"id={i}" for i in pictures)
    assert all(http.get(thumbnails).json().values()), "a thumbnail is missing"

    return [
        ("first page (with its total)", timed(page(f"limit={PAGE}"), requests)),
        (f"page {depth + 1:,} by keyset", timed(page(f"limit={PAGE}&after={after}"), requests)),
        (f"page {depth + 1:,} by OFFSET (baseline)",
         timed(page(f"limit={PAGE}&offset={depth * PAGE}"), max(5, requests // 4))),
        ("count (a page of one, with its total)", timed(page("limit=1"), requests)),
        ("two-term search, 20 hits", timed(search, requests)),
        (f"get_thumbnails of {len(pictures)} ids",
         timed(lambda: http.get(thumbnails), requests)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--db", default=os.environ.get("PIXELVAULT_TEST_PG_URL", ""))
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    if not args.db:
        raise SystemExit("give --db postgresql://... (a role that may create databases)")
    import psycopg

    name = f"pv_bench_million_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.db, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{args.db.rsplit('/', 1)[0]}/{name}"
    work = Path(tempfile.mkdtemp(prefix="pv-bench-million-", dir=args.dir))
    server = None
    try:
        port = free_port()
        env = {**os.environ, "PIXELVAULT_HOME": str(work / "home"),
               "PIXELVAULT_DB_URL": db_url, "PIXELVAULT_SERVER_PORT": str(port),
               "PIXELVAULT_ROOT_PASSWORD": ROOT_PASSWORD, "PIXELVAULT_SEARCH_INDEXER": "off",
               "PIXELVAULT_SERVER_WORKERS": "1"}
        subprocess.run([sys.executable, "-m", "pixelvault", "admin", "init"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        print(f"{args.images:,} images in PostgreSQL, 10 users in 5 groups", flush=True)
        os.environ.update({k: v for k, v in env.items() if k.startswith("PIXELVAULT_")})
        from pixelvault.config import load_settings
        from pixelvault.services.search.index import index_of
        from pixelvault.services.vault import open_vault

        vault = open_vault(load_settings())
        began = time.perf_counter()
        fill(vault, db_url, args.images)
        print(f"  filled in {time.perf_counter() - began:.0f} s", flush=True)
        began = time.perf_counter()
        written = index_of(vault).rebuild()
        seconds = time.perf_counter() - began
        print(f"  search index: {written:,} documents in {seconds:.0f} s "
              f"({written / seconds:,.0f}/s)", flush=True)
        pictures = with_pixels(vault, work, 100)
        vault.close()
        server = subprocess.Popen(list(ONE_PROCESS), env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        rng = random.Random(3)
        print(f"\nover HTTP, one server process, {args.requests} requests each, p50 / p99 ms")
        for who, password in (("root", ROOT_PASSWORD), ("user2", PASSWORD)):
            token = httpx.post(f"{url}/api/v1/login", json={
                "username": who, "password": password}, timeout=60).json()["token"]
            http = httpx.Client(base_url=url, timeout=300,
                                headers={"Authorization": f"Bearer {token}"})
            first = http.get(f"/api/v1/images?limit={PAGE}").json()
            total = first["total"]
            depth = min(10_000, total // PAGE) - 1  # the 10,000th page (or the last)
            after = http.get(f"/api/v1/images?limit=1&offset={depth * PAGE - 1}"
                             ).json()["data"][0]["id"]
            keyset = http.get(f"/api/v1/images?limit={PAGE}&after={after}").json()
            offset = http.get(f"/api/v1/images?limit={PAGE}&offset={depth * PAGE}").json()
            assert keyset["data"] == offset["data"], "keyset and offset pages differ"
            label = "administrator" if who == "root" else "read-only group member"
            print(f"{label} ({total:,} images visible):")
            for what, (p50, p99) in measure(http, depth, after, args.requests, rng,
                                            pictures):
                print(f"  {what:<40} {p50:8.1f} {p99:8.1f}")
            http.close()
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak = next(line.split()[1] for line in status.splitlines()
                    if line.startswith("VmHWM"))
        print(f"server process peak memory (VmHWM): {int(peak) / 1024:.0f} MiB")
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(work, ignore_errors=True)
        with psycopg.connect(args.db, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
