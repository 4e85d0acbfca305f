"""A QuPath session over HTTP, from login to the first screen, then raw and rendered tiles.

An NxN, 3-channel uint16 OME-TIFF (render.py's) is imported for a regular user,
alice, into a dataset inside a project, and its pyramid built; one `pixelvault
serve` process (2 cores) is then spoken to over loopback HTTP only:

1. QuPath's OMERO extension, request by request in its order
   (docs/clients/qupath-omero-extension.md, sections 1-4), timed from its first
   GET to the last tile of the first screen, on a fresh connection each time
   (the first session right after the server starts, then --sessions - 1 more):
   - discovery and login: GET /api/, url:base, url:token with url:servers, the
     login form POSTed with X-CSRFToken and the JDK's h2c upgrade headers
     (should the server lose a form sent so, that is said and the sessions
     send it as the JDK does over https, without them), then the pixel-buffer
     probe (OPTIONS /tile) with the first keep-alive ping;
   - browsing: the user's groups, each group's members, the root's projects,
     screens, orphaned datasets and orphaned plates (side by side, as QuPath
     asks them), the tree's icons (a 404 is said; QuPath shows none), the
     project's datasets, the dataset's images and the image's 256 px thumbnail
     (the orphaned-images folder is only read when opened; this session opens
     the project instead);
   - opening the image: GET /webclient/?show=image-{id} (left out, and said so,
     when the server answers it with 404) and /webgateway/imgData/{id}/;
   - the first screen: QuPath opens an image zoomed to fit its viewer (a
     --viewport of 1920x1080), reads from the level whose downsample is the
     largest not above that zoom's, and asks for every tile (imgData's
     tile_size) the viewport shows, one channel per request, through the
     pixel-buffer route (`resolution` counted from the smallest level), at most
     --concurrency requests in flight.
2. Throughput with the same concurrency: --tiles random 512x512 tiles at full
   resolution, as one channel of 16-bit TIFF each through the pixel-buffer route,
   then as a 3-channel JPEG each through render_image_region; baselines in the
   same run and on the same tiles: the routes' own work called in this process
   without HTTP (PixelBuffer read + the route's TIFF encode; images.region), and
   zarr-python reading the stored pyramid's level 0 directly.

    .venv/bin/python -m benchmarks.qupath_session --size 16384
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import numpy as np
import tifffile

from benchmarks.api import ONE_PROCESS, free_port
from benchmarks.imports import init_home
from benchmarks.render import make_source, serve
from pixelvault.catalog.models import Permissions
from pixelvault.catalog.principals import actor_for
from pixelvault.config import load_settings
from pixelvault.server.routes.omero.pixel_buffer import _encode
from pixelvault.services.access import principals
from pixelvault.services.objects import containers
from pixelvault.services.pixels import access
from pixelvault.services.rendering import images
from pixelvault.services.vault import open_vault

USER, PASSWORD = "alice", "bench-alice-1"
# The JDK's HttpClient sends POSTs as HTTP/2, so on http:// it asks for an h2c upgrade.
H2C = {"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c",
       "HTTP2-Settings": "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA"}
LINKS = ("url:experimenters", "url:experimentergroups", "url:projects", "url:datasets",
         "url:images", "url:screens", "url:plates", "url:token", "url:servers", "url:login")
ICONS = {"project": "/static/webgateway/img/folder16.png",
         "orphaned": "/static/webgateway/img/folder_yellow16.png",
         "dataset": "/static/webgateway/img/folder_image16.png",
         "image": "/static/webclient/image/image16.png"}
RENDER = "c=1|0:4000$FF0000,2|0:4000$00FF00,3|0:4000$0000FF&m=c"
WARM = 50  # requests before each throughput measurement
PHASES = ("discovery + login", "browsing", "open image (metadata)", "first screen of tiles")


@dataclass
class Call:
    phase: str
    method: str
    url: str
    status: int
    start: float
    end: float
    size: int

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Session:
    """One QuPath connection: one client keeping cookies, every request recorded."""

    client: httpx.AsyncClient
    calls: list[Call] = field(default_factory=list)
    phase: str = PHASES[0]
    optional: frozenset[str] = frozenset(ICONS.values())  # QuPath goes on without an icon

    async def send(self, method: str, url: str, **options: Any) -> httpx.Response:
        start = time.perf_counter()
        answer = await self.client.request(method, url, **options)
        self.calls.append(Call(self.phase, method, url, answer.status_code, start,
                               time.perf_counter(), len(answer.content)))
        if answer.status_code != 200 and urlsplit(url).path not in self.optional:
            raise SystemExit(f"{method} {url} answered {answer.status_code} (QuPath needs "
                             f"200): {answer.text[:300]}")
        return answer

    async def json(self, url: str) -> Any:
        return (await self.send("GET", url)).json()

    async def paginated(self, url: str) -> list[Any]:
        """JsonApi.getPaginated: the URL as given, then &offset=N while more remain."""
        first = await self.json(url)
        meta = first["meta"]
        assert isinstance(meta["limit"], int) and isinstance(meta["totalCount"], int), meta
        found: list[Any] = list(first["data"])
        joiner = "&" if "?" in url else "?"
        for offset in range(meta["limit"], meta["totalCount"], meta["limit"]):
            found += (await self.json(f"{url}{joiner}offset={offset}"))["data"]
        return found


def percentile(values: Sequence[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * percent / 100) - 1)]


def fit_level(data: dict[str, Any], viewport: tuple[int, int]) -> tuple[int, float, list[float]]:
    """The level QuPath paints an image zoomed to fit from: the one whose downsample is
    the largest not above the zoom's (downsamples from imgData's zoomLevelScaling)."""
    width, height = data["size"]["width"], data["size"]["height"]
    levels = int(data.get("levels", 1))
    scaling = data.get("zoomLevelScaling") or {"0": 1.0}
    downsamples = [1 / float(scaling[str(i)]) for i in range(levels)] if levels > 1 else [1.0]
    zoom = max(width / viewport[0], height / viewport[1], 1.0)
    level = max(i for i, d in enumerate(downsamples) if d <= zoom * 1.0001 or i == 0)
    return level, zoom, downsamples


def first_screen(data: dict[str, Any], viewport: tuple[int, int]) -> tuple[int, list[
        tuple[int, int, int, int]]]:
    """The level and the tiles (x, y, w, h in that level's pixels) a viewport zoomed to
    fit the image shows, row by row."""
    level, zoom, downsamples = fit_level(data, viewport)
    width, height = data["size"]["width"], data["size"]["height"]
    size_x = max(1, int(width / downsamples[level]))
    size_y = max(1, int(height / downsamples[level]))
    tile = data.get("tile_size") or {"width": 512, "height": 512}
    tw, th = int(tile["width"]), int(tile["height"])
    # the viewport, centred on the image, in full-resolution pixels, then in the level's
    seen_w, seen_h = viewport[0] * zoom, viewport[1] * zoom
    x0 = max(0.0, (width - seen_w) / 2) / downsamples[level]
    y0 = max(0.0, (height - seen_h) / 2) / downsamples[level]
    x1 = min(float(width), (width + seen_w) / 2) / downsamples[level]
    y1 = min(float(height), (height + seen_h) / 2) / downsamples[level]
    tiles = [(tx * tw, ty * th, min(tw, size_x - tx * tw), min(th, size_y - ty * th))
             for ty in range(int(y0 // th), min(math.ceil(y1 / th), math.ceil(size_y / th)))
             for tx in range(int(x0 // tw), min(math.ceil(x1 / tw), math.ceil(size_x / tw)))]
    return level, tiles


def login_form() -> bytes:
    """JsonApi.login's body: the user name as it is, the password URL-encoded."""
    return f"server=1&username={USER}&password={quote(PASSWORD, safe='')}".encode()


def h2c_login_works(base: str) -> bool:
    """Whether the login form arrives when sent as the JDK sends it on http://, with the
    h2c upgrade headers (over https the JDK negotiates HTTP/2 without them)."""
    with httpx.Client(base_url=base, timeout=20) as client:
        token = client.get("/api/v0/token/").json()["data"]
        answer = client.post("/api/v0/login/", content=login_form(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": token,
            "Referer": f"{base}/api/v0/login/", **H2C})
        if answer.status_code == 200:
            client.post("/webclient/logout/", headers={"X-CSRFToken": token},
                        data={"csrfmiddlewaretoken": token})
            return "eventContext" in answer.json()
        print(f"  the login form POSTed with the JDK's h2c upgrade headers (as QuPath does on "
              f"http://) answers {answer.status_code}: {answer.text[:120]}")
        return False


async def qupath(base: str, viewport: tuple[int, int], concurrency: int,
                 show: bool, h2c: bool) -> tuple[Session, dict[str, Any]]:
    """One QuPath session, request by request; returns it and what it learned."""
    client = httpx.AsyncClient(timeout=20, follow_redirects=True,
                               limits=httpx.Limits(max_connections=concurrency + 4))
    session = Session(client)
    seen: dict[str, Any] = {}
    try:
        # 1. JsonApi: discovery, CSRF token and servers, login (a regular user)
        versions = (await session.json(f"{base}/api/"))["data"]
        version = next((v for v in versions if v["version"] == "0"), versions[0])
        links = await session.json(version["url:base"])
        missing = [key for key in LINKS if not links.get(key)]
        if missing:
            raise SystemExit(f"url:base lacks {missing}, which QuPath requires")
        token_answer, servers = await asyncio.gather(session.json(links["url:token"]),
                                                     session.json(links["url:servers"]))
        token, server = token_answer["data"], servers["data"][0]
        assert {"host", "id", "port"} <= server.keys(), server
        login = links["url:login"]
        assert server["id"] == 1, server
        answer = await session.send(
            "POST", login, content=login_form(),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "X-CSRFToken": token, "Referer": login, **(H2C if h2c else {})})
        context = answer.json()["eventContext"]
        for key in ("groupId", "userId", "sessionUuid", "isAdmin", "leaderOfGroups"):
            assert key in context, f"eventContext lacks {key}"
        uid, gid = context["userId"], context["groupId"]
        # Client: the pixel-buffer probe and the first keep-alive ping (delay 0)
        await asyncio.gather(session.send("OPTIONS", f"{base}/tile"),
                             session.send("GET", f"{base}/webclient/keepalive_ping/",
                                          follow_redirects=False))

        # 2. Server: groups, their members, the root's children; then down the tree
        session.phase = PHASES[1]
        groups = [g for g in await session.paginated(
            f"{links['url:experimenters']}{uid}/experimentergroups/")
            if g.get("Name") not in ("system", "user")]
        members = [m["@id"] for g in groups for m in await session.paginated(
            g["url:experimenters"])]
        if uid not in members:
            raise SystemExit(f"user {uid} is in none of its groups' member lists")
        where = f"&owner={uid}&group={gid}"
        projects, screens, datasets, plates = await asyncio.gather(*(
            session.paginated(f"{links[key]}?normalize=true&childCount=true{extra}{where}")
            for key, extra in (("url:projects", ""), ("url:screens", ""),
                               ("url:datasets", "&orphaned=true"),
                               ("url:plates", "&orphaned=true"))))
        for entity in projects + screens + datasets + plates:
            assert "@id" in entity and "omero:details" in entity, entity
        await session.send("GET", base + ICONS["project"])
        await session.send("GET", base + ICONS["orphaned"])
        project = projects[0]
        in_project = await session.paginated(
            f"{links['url:projects']}{project['@id']}/datasets/?normalize=true"
            f"&childCount=true{where}")
        await session.send("GET", base + ICONS["dataset"])
        in_dataset = await session.paginated(
            f"{links['url:datasets']}{in_project[0]['@id']}/images/?normalize=true"
            f"&childCount=true{where}")
        await session.send("GET", base + ICONS["image"])
        image = in_dataset[0]
        image_id = image["@id"]
        assert image["Pixels"]["Type"]["value"] == "uint16", image["Pixels"]
        await session.send("GET", f"{base}/webgateway/render_thumbnail/{image_id}/256/")

        # 3. OmeroImageServerBuilder / OmeroImageServer: reachability, metadata
        session.phase = PHASES[2]
        if show:
            await session.send("GET", f"{base}/webclient/?show=image-{image_id}")
        data = await session.json(f"{base}/webgateway/imgData/{image_id}/")
        assert data["meta"]["pixelsType"] == "uint16" and data["channels"], data

        # 4. the first screen, raw tiles through the pixel-buffer route
        session.phase = PHASES[3]
        level, tiles = first_screen(data, viewport)
        levels = int(data.get("levels", 1))
        limit = asyncio.Semaphore(concurrency)

        async def fetch(x: int, y: int, w: int, h: int, c: int) -> None:
            async with limit:
                got = await session.send(
                    "GET", f"{base}/tile/{image_id}/0/{c}/0?x={x}&y={y}&w={w}&h={h}"
                    f"&format=tif&resolution={levels - 1 - level}")
                assert got.headers["content-type"] == "image/tiff", got.headers

        await asyncio.gather(*(fetch(*tile, c) for tile in tiles
                               for c in range(len(data["channels"]))))
        seen.update(image_id=image_id, level=level, tiles=tiles, data=data,
                    channels=len(data["channels"]))
        # not timed: QuPath's close, POST /webclient/logout/
        await client.post(f"{base}/webclient/logout/", data={"csrfmiddlewaretoken": token},
                          headers={"X-CSRFToken": token, "Referer": f"{base}/webclient/logout/"})
    finally:
        await client.aclose()
    return session, seen


def phase_times(session: Session) -> dict[str, float]:
    """Wall time of each phase, from its first request's start to the next phase's first
    request (the last phase: to its last answer), and of the whole session."""
    starts: dict[str, float] = {}
    for call in session.calls:
        starts.setdefault(call.phase, call.start)
    end = max(call.end for call in session.calls)
    edges = [*(starts[p] for p in PHASES if p in starts), end]
    times = {p: edges[i + 1] - edges[i] for i, p in enumerate(p for p in PHASES if p in starts)}
    times["total"] = end - session.calls[0].start
    return times


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Load:
    label: str
    seconds: float
    latencies: list[float]
    size: int
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self) -> str:
        return (f"  {self.label:<54} {len(self.latencies):8d} {self.rate:8.0f} "
                f"{percentile(self.latencies, 50) * 1000:7.2f} "
                f"{percentile(self.latencies, 95) * 1000:7.2f} "
                f"{self.size / self.seconds / 1e6:7.1f} {self.server_cpu / self.seconds:7.2f} "
                f"{self.client_cpu / self.seconds:7.2f}")


def measured(label: str, server: int, run: Callable[[], tuple[float, list[float], int]]) -> Load:
    """One load, with the CPU the server process and this one spent meanwhile."""
    server_before, client_before = cpu_seconds(server), time.process_time()
    seconds, latencies, size = run()
    return Load(label, seconds, latencies, size, cpu_seconds(server) - server_before,
                time.process_time() - client_before)


async def http_load(base: str, cookies: httpx.Cookies, paths: list[str], concurrency: int,
                    media: str) -> tuple[float, list[float], int]:
    """GET each path, ``concurrency`` at a time over keep-alive connections."""
    latencies: list[float] = []
    size = 0
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
        queue = iter(paths)

        async def worker() -> None:
            nonlocal size
            for path in queue:
                start = time.perf_counter()
                answer = await client.get(path)
                latencies.append(time.perf_counter() - start)
                answer.raise_for_status()
                assert answer.headers["content-type"] == media, answer.headers
                size += len(answer.content)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return seconds, latencies, size


def pool_load(work: Callable[[Any], int], items: Sequence[Any],
              concurrency: int) -> tuple[float, list[float], int]:
    """``work`` on each item in this process, on ``concurrency`` threads."""
    def timed(item: Any) -> tuple[float, int]:
        start = time.perf_counter()
        size = work(item)
        return time.perf_counter() - start, size

    with ThreadPoolExecutor(concurrency) as pool:
        start = time.perf_counter()
        done = list(pool.map(timed, items))
        seconds = time.perf_counter() - start
    return seconds, [t for t, _ in done], sum(s for _, s in done)


def setup(work: Path, size: int) -> tuple[dict[str, str], int, Path]:
    """The repository, alice in group lab, project > dataset > the imported image with its
    pyramid; returns the server's environment, the image id and the pyramid's path."""
    clock = time.perf_counter()
    source = work / "cells.ome.tif"
    make_source(source, size)
    made = time.perf_counter() - clock
    env = init_home(work / "home")
    env.update(PIXELVAULT_SERVER_PORT=str(free_port()), PIXELVAULT_ROOT_PASSWORD="bench-root-1",
               PIXELVAULT_PIXELS_PYRAMID_WORKERS="0",
               # a pyramid at every --size, not only above OMERO's 3192x3192
               PIXELVAULT_PIXELS_PYRAMID_THRESHOLD=str(512 * 512))
    vault = open_vault(load_settings(env))
    try:
        root = vault.local_admin()
        group = principals.create_group(vault.catalog, root, "lab", Permissions.READ_ANNOTATE)
        principals.create_user(vault.catalog, root, USER, "Alice", "Liddell", [group],
                               password=PASSWORD)
        with vault.catalog.session() as session:
            alice = actor_for(session, USER)
        assert alice is not None
        project = containers.create(vault.catalog, alice, "project", "QuPath bench").id
        dataset = containers.create(vault.catalog, alice, "dataset", "slides").id
        containers.link(vault.catalog, alice, "project", project, dataset)
    finally:
        vault.close()
    clock = time.perf_counter()
    imported = json.loads(subprocess.run(
        [sys.executable, "-m", "pixelvault", "import", str(source), "--local", "--user", USER,
         "--dataset", str(dataset), "--quiet", "-o", "json"], env=env, check=True,
        capture_output=True, text=True).stdout)
    image_id = imported["imported"][0]["images"][0]
    source.unlink()
    imported_in = time.perf_counter() - clock
    clock = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pixelvault", "admin", "pyramids", "run"], env=env,
                   check=True, capture_output=True)
    built = time.perf_counter() - clock
    print(f"setup: source OME-TIFF made in {made:.0f} s, imported in {imported_in:.0f} s, "
          f"pyramid built in {built:.0f} s")
    pyramid = next((work / "home" / "OMERO" / "Pixels").rglob("*_pyramid"))
    return env, image_id, pyramid


def report_sessions(url: str, sessions: list[tuple[Session, dict[str, Any]]],
                    viewport: tuple[int, int], show: bool) -> None:
    first, seen = sessions[0]
    image_id, level, screen, data = seen["image_id"], seen["level"], seen["tiles"], seen["data"]
    tiles = [c.seconds for c in first.calls if c.phase == PHASES[3]]
    print("  the first session's requests, in order (ms from the session's start, duration):")
    for call in first.calls:
        if call.phase != PHASES[3]:
            note = "" if call.status == 200 else "  <- not served (QuPath shows no icon)"
            print(f"    {(call.start - first.calls[0].start) * 1000:7.1f} {call.method:<7} "
                  f"{call.url.removeprefix(url)[:80]:<80} {call.status} "
                  f"{call.seconds * 1000:6.1f} ms{note}")
    zoom, downsamples = fit_level(data, viewport)[1:]
    last = screen[-1]
    began = next(c.start for c in first.calls if c.phase == PHASES[3])
    print(f"    {(began - first.calls[0].start) * 1000:7.1f} GET     "
          f"/tile/{image_id}/0/{{c}}/0?x=&y=&w=&h=&format=tif&resolution="
          f"{data['levels'] - 1 - level}: {len(tiles)} requests = {len(screen)} tiles x "
          f"{seen['channels']} channels, p50 {percentile(tiles, 50) * 1000:.1f} ms, "
          f"p95 {percentile(tiles, 95) * 1000:.1f} ms")
    print(f"  first screen: a {viewport[0]}x{viewport[1]} viewport zoomed to fit (downsample "
          f"{zoom:.1f}) is painted from level {level} of {data['levels']} (downsample "
          f"{downsamples[level]:.0f}, {last[0] + last[2]}x{last[1] + last[3]} pixels)")
    if not show:
        print(f"  left out: GET /webclient/?show=image-{image_id} answers 404 here; QuPath needs "
              "200 from it before it opens an image (its reachability check)")
    failed = sorted({c.url.removeprefix(url) for s, _ in sessions for c in s.calls
                     if c.status != 200})
    if failed:
        print(f"  not served, in every session (QuPath goes on without them): "
              f"{', '.join(failed)}")
    rows = [phase_times(s) for s, _ in sessions]
    print(f"  {'':<28} {'first session':>14} {f'median of {len(rows)}':>13}  requests")
    for phase in (*PHASES, "total"):
        count = len(first.calls) if phase == "total" else sum(
            1 for c in first.calls if c.phase == phase)
        label = "login to first screen" if phase == "total" else phase
        print(f"  {label:<28} {rows[0].get(phase, 0) * 1000:11.0f} ms "
              f"{statistics.median(r.get(phase, 0) for r in rows) * 1000:10.0f} ms  {count:8d}")


def throughput(url: str, server: int, env: dict[str, str], image_id: int, pyramid: Path,
               size: int, count: int, concurrency: int) -> None:
    import zarr

    rng = np.random.default_rng(2)
    grid = size // 512
    picks = [(int(rng.integers(grid)), int(rng.integers(grid)), int(rng.integers(3)))
             for _ in range(count + WARM)]
    warm, picks = picks[:WARM], picks[WARM:]
    client = httpx.Client(base_url=url, timeout=30)
    token = client.get("/api/v0/token/").json()["data"]
    client.post("/api/v0/login/", content=login_form(), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": token}).raise_for_status()
    levels = client.get(f"/webgateway/imgData/{image_id}/").json()["levels"]

    def raw(x: int, y: int, c: int) -> str:
        return f"/tile/{image_id}/0/{c}/0?x={x * 512}&y={y * 512}&w=512&h=512&format=tif" \
               f"&resolution={levels - 1}"

    def jpeg(x: int, y: int, _: int) -> str:
        return f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,{x},{y},512,512&{RENDER}"

    level0: Any = zarr.open_array(pyramid / "0", mode="r")

    def stored(pick: tuple[int, int, int]) -> int:
        x, y, c = pick
        return int(level0[0, c, 0, y * 512:y * 512 + 512, x * 512:x * 512 + 512].nbytes)

    x, y, c = picks[0]
    np.testing.assert_array_equal(  # the route answers the stored pixels
        tifffile.imread(io.BytesIO(client.get(raw(x, y, c)).content)),
        level0[0, c, 0, y * 512:y * 512 + 512, x * 512:x * 512 + 512])

    def over_http(label: str, path: Callable[[int, int, int], str], media: str) -> Load:
        asyncio.run(http_load(url, client.cookies, [path(*p) for p in warm], concurrency, media))
        return measured(label, server, lambda: asyncio.run(http_load(
            url, client.cookies, [path(*p) for p in picks], concurrency, media)))

    def in_process(label: str, work: Callable[[Any], int]) -> Load:
        pool_load(work, warm, concurrency)
        return measured(label, server, lambda: pool_load(work, picks, concurrency))

    vault = open_vault(load_settings(env))
    try:
        with vault.catalog.session() as session:
            alice = actor_for(session, USER)
        assert alice is not None

        def route_raw(pick: tuple[int, int, int]) -> int:
            x, y, c = pick
            region = access.open_buffer(vault, alice, image_id).get_region(
                0, c, 0, x * 512, y * 512, 512, 512)
            return len(_encode(np.ascontiguousarray(region), "tif")[0])

        query = dict(part.split("=", 1) for part in RENDER.split("&"))

        def route_jpeg(pick: tuple[int, int, int]) -> int:
            asked = {**query, "tile": f"0,{pick[0]},{pick[1]},512,512"}
            return len(images.region(vault, alice, image_id, 0, 0, asked,
                                     vault.settings.max_region).data)

        raw_http = over_http("raw 16-bit TIFF, GET /tile (HTTP)", raw, "image/tiff")
        raw_here = in_process("  baseline: the route's read + TIFF encode, no HTTP",
                              route_raw)
        zarr_here = in_process("  baseline: zarr-python read of the stored level 0", stored)
        jpeg_http = over_http("rendered 3-channel JPEG, render_image_region (HTTP)", jpeg,
                              "image/jpeg")
        jpeg_here = in_process("  baseline: images.region in this process, no HTTP",
                               route_jpeg)
    finally:
        vault.close()
        client.close()
    print(f"{count} random 512x512 tiles at full resolution ({grid}x{grid} tiles; one random "
          f"channel per raw tile, three blended per JPEG), {concurrency} in flight, after "
          f"{WARM} to warm up; baselines run in this process while the server idles")
    print(f"  {'':<54} {'requests':>8} {'tiles/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'MB/s':>7} {'server':>7} {'client':>7}")
    for load in (raw_http, raw_here, zarr_here, jpeg_http, jpeg_here):
        print(load.line())
    print("  (server, client: CPU cores busy in the server process and in this one; the "
          "machine has 2)")
    print(f"  => 1/rate: a raw tile takes {1000 / raw_http.rate:.1f} ms over HTTP against "
          f"{1000 / raw_here.rate:.1f} ms in-process "
          f"({raw_http.rate / raw_here.rate:.0%} of the rate), a rendered one "
          f"{1000 / jpeg_http.rate:.1f} ms against {1000 / jpeg_here.rate:.1f} ms "
          f"({jpeg_http.rate / jpeg_here.rate:.0%}); a 3-channel screen tile is 3 raw requests "
          f"({raw_http.rate / 3:.0f} screen tiles/s) or 1 rendered ({jpeg_http.rate:.0f}/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--tiles", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--viewport", default="1920x1080", help="QuPath's viewer, WxH")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--http-parser", choices=("h11", "httptools"), default="httptools",
                        help="the server's server.http_parser (httptools: the default)")
    args = parser.parse_args()
    width, _, height = args.viewport.partition("x")
    viewport = (int(width), int(height))
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="pv-bench-qupath-", dir=args.dir))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env, image_id, pyramid = setup(work, args.size)
        env["PIXELVAULT_SERVER_HTTP_PARSER"] = args.http_parser
        print(f"server: one process, HTTP parsed by {args.http_parser}")
        url = f"http://127.0.0.1:{env['PIXELVAULT_SERVER_PORT']}"
        processes.append(serve(list(ONE_PROCESS), env,
                               url + "/health"))
        # QuPath's reachability check of an image: left out (and said) if not served
        show = httpx.get(f"{url}/webclient/?show=image-{image_id}").status_code != 404
        h2c = h2c_login_works(url)
        if not h2c:
            print("  so the sessions below POST it without them, as over https")
        print(f"{args.sessions} QuPath sessions (a new connection each, the first right after "
              f"the server's start) against a {args.size}x{args.size} 3-channel uint16 image "
              f"with a pyramid; one server process, loopback HTTP, at most {args.concurrency} "
              "tile requests in flight")
        sessions = [asyncio.run(qupath(url, viewport, args.concurrency, show, h2c))
                    for _ in range(args.sessions)]
        report_sessions(url, sessions, viewport, show)
        throughput(url, processes[0].pid, env, image_id, pyramid, args.size, args.tiles,
                   args.concurrency)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"(the whole run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
