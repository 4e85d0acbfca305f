"""The web application in a real browser: Debian's Chromium driven by Playwright,
against a real `pixelvault` server (started as a user starts it) on each catalog.

One server per catalog serves the whole module (a lab group with alice and bob,
xavier outside it, and alice's images); each test gets a fresh browser context,
so no cookie leaks from one to the next. Screenshots of the main views go to
``build/screenshots`` (``PIXELVAULT_SCREENSHOTS`` elsewhere), the run's artefacts.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PG_ADMIN_URL, Env, _base_env, _drop_database
from tests.server.omero_clients import timelapse
from tests.server.test_lifecycle import free_port

CHROMIUM = os.environ.get("PIXELVAULT_CHROMIUM", "/usr/bin/chromium")
FIREFOX = os.environ.get("PIXELVAULT_FIREFOX", "/usr/bin/firefox-esr")
BIDI_DRIVERS = Path(__file__).parents[2] / "build" / "playwright-bidi"
# Playwright sends this for every new Firefox page; Firefox ESR's WebDriver BiDi does not
# know it yet, and the page works without it (the system's colour scheme stays)
PATCH_VERSION = 1  # a change to the patch below makes a new copy
UNKNOWN_TO_ESR = "emulation.setMediaFeaturesOverride\", {"
SCREENSHOTS = Path(os.environ.get("PIXELVAULT_SCREENSHOTS",
                                  Path(__file__).parents[2] / "build" / "screenshots"))
SAMPLES = Path(__file__).parents[1] / "data" / "ome-model"
ROOT_PASSWORD = "root-secret-1"
PASSWORD = "correct horse battery"
# As root on a closed network: no sandbox, and none of Chromium's calls home.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked sqlite_only leave their PostgreSQL variant out."""
    dropped = [item for item in items if item.get_closest_marker("sqlite_only")
               and "[postgresql" in item.nodeid]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def _need(path: str, what: str) -> None:
    if Path(path).exists():
        return
    message = f"no {what} at {path}: run the suite with `make test`, which installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _bidi_driver() -> tuple[str, str]:
    """Playwright's driver, copied once into build/ with its calls of the one command
    Firefox ESR lacks made to tolerate a refusal (the installed package stays as pip
    installed it). A Playwright that no longer sends the command needs no copy."""
    from playwright._impl import _driver

    node, cli = _driver.compute_driver_executable()
    package = Path(cli).parent
    bundle = package / "lib" / "coreBundle.js"
    text = bundle.read_text()
    if UNKNOWN_TO_ESR not in text:
        return node, cli
    from playwright._repo_version import version

    target = BIDI_DRIVERS / f"{version}-{PATCH_VERSION}"
    if not (target / "cli.js").exists():
        scratch = target.with_name(f"{target.name}.{uuid.uuid4().hex}")
        shutil.copytree(package, scratch, symlinks=True)
        parts = text.split(UNKNOWN_TO_ESR)
        patched = parts[0]
        for part in parts[1:]:  # each call ends at the first "})" of a "});" after it
            end = part.index("});") + 2  # before its semicolon
            patched += UNKNOWN_TO_ESR + part[:end] + ".catch(() => {})" + part[end:]
        if patched.count(".catch(() => {})") - text.count(".catch(() => {})") != len(parts) - 1:
            raise RuntimeError("Playwright's driver changed shape: update _bidi_driver")
        (scratch / "lib" / "coreBundle.js").write_text(patched)
        try:
            scratch.rename(target)
        except OSError:  # another worker made it first
            shutil.rmtree(scratch, ignore_errors=True)
    return node, str(target / "cli.js")


def _need_chromium() -> None:
    _need(CHROMIUM, "Chromium")


@dataclass
class Site:
    url: str
    env: Env
    images: dict[str, int]
    users: dict[str, int]
    dataset: int
    project: int

    def api(self, user: str) -> httpx.Client:
        """An HTTP client signed in as ``user`` (Bearer: no cookies to mix up)."""
        password = ROOT_PASSWORD if user == "root" else PASSWORD
        token = httpx.post(f"{self.url}/api/v1/login",
                           json={"username": user, "password": password}).json()["token"]
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"},
                            timeout=60)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    _need_chromium()
    home = tmp_path_factory.mktemp("web") / "home"
    home.mkdir()
    variables = _base_env(home)
    database = None
    if request.param == "postgresql":
        if not PG_ADMIN_URL:
            pytest.skip("PostgreSQL not started: run the suite with `make test`")
        import psycopg

        database = f"pvtest_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        variables["PIXELVAULT_DB_URL"] = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}"
    env = Env(home, variables, request.param)
    env.cli("admin", "init", check=True)
    # visitors without a session browse as guest (OMERO.web's public user), made below
    env.set(server_port=str(free_port()), pixels_pyramid_threshold=str(300 * 300),
            server_public_user="guest")
    env.vars["PIXELVAULT_ROOT_PASSWORD"] = ROOT_PASSWORD
    env.cli("admin", "start", check=True)
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    try:
        yield _populate(env, url, home.parent)
    finally:
        env.cli("admin", "stop")
        if database is not None:
            _drop_database(database)


def _populate(env: Env, url: str, scratch: Path) -> Site:
    root = httpx.post(f"{url}/api/v1/login", json={"username": "root",
                                                   "password": ROOT_PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {root}"}
    lab = httpx.post(f"{url}/api/v1/groups", headers=headers,
                     json={"name": "lab", "type": "read-annotate"}).json()["id"]
    elsewhere = httpx.post(f"{url}/api/v1/groups", headers=headers,
                           json={"name": "elsewhere"}).json()["id"]
    showcase = httpx.post(f"{url}/api/v1/groups", headers=headers,
                          json={"name": "showcase", "type": "read-only"}).json()["id"]
    users = {}
    for name, group in (("alice", lab), ("bob", lab), ("xavier", elsewhere),
                        ("guest", showcase)):
        answer = httpx.post(f"{url}/api/v1/users", headers=headers, json={
            "username": name, "first_name": name.title(), "last_name": "Lab",
            "groups": [group], "password": PASSWORD})
        assert answer.status_code == 201, answer.text
        users[name] = answer.json()["id"]
    site = Site(url, env, {}, users, 0, 0)
    alice = site.api("alice")
    site.project = alice.post("/api/v1/projects", json={"name": "Mitosis"}).json()["id"]
    site.dataset = alice.post("/api/v1/datasets", json={"name": "Day 1"}).json()["id"]
    alice.post(f"/api/v1/projects/{site.project}/datasets", json={"child_id": site.dataset})
    folder = scratch / "images"
    folder.mkdir()
    for name in ("cells", "nuclei"):
        path = timelapse(folder, f"{name}.ome.tif")
        imported = json.loads(env.cli("import", str(path), "--local", "--user", "alice",
                                      "--dataset", str(site.dataset), "-o", "json",
                                      check=True).stdout)
        site.images[name] = imported["imported"][0]["images"][0]
    plate = SAMPLES / "one-screen-one-plate-four-wells.ome.xml"
    env.cli("import", str(plate), "--local", "--user", "alice", check=True)
    shown = timelapse(folder, "on-show.ome.tif")
    site.images["on-show"] = json.loads(env.cli(
        "import", str(shown), "--local", "--user", "guest", "-o", "json", check=True,
    ).stdout)["imported"][0]["images"][0]
    return site


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    """One Playwright driver for both browsers (a second could not start in this thread),
    the copy that tolerates Firefox ESR (the change touches only WebDriver BiDi)."""
    from playwright._impl import transport
    from playwright.sync_api import sync_playwright

    # transport imported the function by name: that name is what it calls
    original = transport.compute_driver_executable  # type: ignore[attr-defined]
    transport.compute_driver_executable = _bidi_driver  # type: ignore[attr-defined]
    try:
        manager = sync_playwright()
        playwright = manager.__enter__()
    finally:
        transport.compute_driver_executable = original  # type: ignore[attr-defined]
    try:
        yield playwright
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser(driver: Any) -> Iterator[Any]:
    _need_chromium()
    launched = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def firefox(driver: Any) -> Iterator[Any]:
    """Debian's Firefox ESR, driven over WebDriver BiDi (Playwright's own Firefox build is
    a download this machine cannot make)."""
    _need(FIREFOX, "Firefox ESR")
    launched = driver.firefox.launch(channel="moz-firefox", executable_path=FIREFOX,
                                     headless=True)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(base_url=site.url, viewport={"width": 1366, "height": 768})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("console", lambda message: problems.append(f"console: {message.text}")
              if message.type == "error" and "Content Security Policy" in message.text else None)
    opened.problems = problems
    yield opened
    context.close()
    assert not problems, problems


def log_in(page: Any, user: str, password: str = PASSWORD) -> None:
    page.goto("/?view=login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def copy_for_readme(path: Path) -> None:
    """The README shows the views from docs/screenshots; a run refreshes them there only
    when asked (PIXELVAULT_UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean."""
    if os.environ.get("PIXELVAULT_UPDATE_SCREENSHOTS"):
        target = Path(__file__).parents[2] / "docs" / "screenshots" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
