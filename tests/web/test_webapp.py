"""Using pixelvault in a browser as its users do: log in, browse to an image, see its
tiles, change and save its rendering, draw a ROI, search, annotate; and what a
stranger, an attacker or a signed-out user gets."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.server.omero_clients import timelapse
from tests.web.conftest import (
    PASSWORD,
    ROOT_PASSWORD,
    Site,
    copy_for_readme,
    log_in,
    screenshot,
)

# One worker runs them all, so each catalog's server is set up once (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("web")
# The journeys of a user run on both catalogs; the rest test the page itself, over
# routes tested on both catalogs in tests/server, and run on the embedded default.
# (deselected on PostgreSQL by conftest: a parametrization of its own would split the
# module's sites, each then built more than once)
SQLITE_ONLY = pytest.mark.sqlite_only


def canvas_pixels(page: Any) -> list[int]:
    """The viewer's canvas, read back: [pixels drawn, sum of red, sum of green]."""
    result: list[int] = page.evaluate("""() => {
        const canvas = document.querySelector('.map canvas');
        const context = canvas.getContext('2d', {willReadFrequently: true});
        const {data} = context.getImageData(0, 0, canvas.width, canvas.height);
        let drawn = 0, red = 0, green = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3]) { drawn += 1; red += data[i]; green += data[i + 1]; }
        }
        return [drawn, red, green];
    }""")
    return result


def open_image(page: Any, site: Site, name: str = "cells") -> list[Any]:
    """Open the image's address; the tile responses it loaded."""
    tiles: list[Any] = []
    page.on("response", lambda r: tiles.append(r) if "render_image_region" in r.url else None)
    page.goto(f"/?show=image-{site.images[name]}")
    page.locator(".map canvas").first.wait_for()
    page.wait_for_function("""() => {
        const c = document.querySelector('.map canvas');
        if (!c) return false;
        const d = c.getContext('2d').getImageData(c.width / 2 - 2, c.height / 2 - 2, 4, 4).data;
        return d.some((v, i) => i % 4 === 3 && v > 0);
    }""")
    page.wait_for_load_state("networkidle")
    return tiles


def test_log_in_browse_to_an_image_and_see_its_tiles(page: Any, site: Site) -> None:
    log_in(page, "alice")
    copy_for_readme(screenshot(page, f"home-{site.env.backend}"))
    page.get_by_role("link", name=re.compile("Mitosis")).first.click()
    page.get_by_role("link", name=re.compile("Day 1")).last.click()
    page.get_by_role("heading", name="Day 1").wait_for()
    assert "show=dataset-" in page.url
    page.locator("img[src^='data:image/jpeg']").first.wait_for()  # batched thumbnails
    copy_for_readme(screenshot(page, f"dataset-{site.env.backend}"))
    page.get_by_role("button", name="Table").click()
    assert page.get_by_role("cell", name="uint16").count() == 2
    page.get_by_role("link", name="cells.ome.tif").click()
    page.locator(".map canvas").first.wait_for()
    tiles = open_image(page, site)
    assert tiles and all(r.status == 200 for r in tiles)
    assert all(r.headers["content-type"] == "image/jpeg" for r in tiles)
    drawn, red, green = canvas_pixels(page)
    assert drawn > 1000 and red + green > 0
    copy_for_readme(screenshot(page, f"viewer-{site.env.backend}"))


def test_a_channels_window_changes_the_tiles_and_saving_changes_the_thumbnail(
        page: Any, site: Site) -> None:
    log_in(page, "alice")
    image = site.images["nuclei"]
    before_thumb = site.api("alice").get(f"/webgateway/render_thumbnail/{image}/").content
    open_image(page, site, "nuclei")
    before = canvas_pixels(page)
    with page.expect_response(lambda r: "render_image_region" in r.url and "1%7C0%3A50" in r.url):
        box = page.get_by_label(re.compile("DAPI window end$"))
        box.fill("50")
        box.dispatch_event("change")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    after = canvas_pixels(page)
    assert after != before
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Rendering settings saved").wait_for()
    after_thumb = site.api("alice").get(f"/webgateway/render_thumbnail/{image}/").content
    assert after_thumb != before_thumb


def test_a_rectangle_drawn_with_the_mouse_is_an_roi(page: Any, site: Site) -> None:
    log_in(page, "alice")
    open_image(page, site)
    page.get_by_role("button", name="Rectangle").click()
    box = page.locator(".map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x - 60, y - 40)
    page.mouse.click(x + 60, y + 40)
    page.get_by_text("Rectangle saved.").wait_for()
    rois = site.api("alice").get(f"/api/v0/m/rois/?image={site.images['cells']}").json()
    [shape] = [s for r in rois["data"] for s in r["shapes"]]
    assert shape["@type"].endswith("#Rectangle") and shape["Width"] > 5 and shape["Height"] > 5
    page.locator(".roi-list li").first.wait_for()
    copy_for_readme(screenshot(page, f"rois-{site.env.backend}"))
    # chosen in the list, it moves with the mouse, and the move is saved
    page.get_by_role("button", name="Rectangle", exact=True).click()  # drawing off
    page.locator(".roi-list li button.link").first.click()
    box = page.locator(".map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 10, steps=5)
    page.mouse.move(x + 60, y + 20, steps=5)
    page.mouse.up()
    page.get_by_text("Shape saved.").wait_for()
    rois = site.api("alice").get(f"/api/v0/m/rois/?image={site.images['cells']}").json()
    [moved] = [s for r in rois["data"] for s in r["shapes"]]
    assert moved["@id"] == shape["@id"] and moved["X"] > shape["X"] + 1
    assert moved["Width"] == pytest.approx(shape["Width"])


def test_search_finds_an_image_and_opens_it(page: Any, site: Site) -> None:
    site.api("alice").post(f"/api/v1/images/{site.images['nuclei']}/annotations",
                           json={"type": "tag", "text": "prophase"})
    log_in(page, "alice")
    search = page.get_by_role("combobox", name="Search")
    for _ in range(30):  # the index follows the catalog within a moment
        search.fill("tag:prophase")
        search.press("Enter")
        page.get_by_role("heading", name=re.compile("results? for")).wait_for()
        if page.get_by_role("link", name="nuclei.ome.tif").count():
            break
        page.wait_for_timeout(500)
    copy_for_readme(screenshot(page, f"search-{site.env.backend}"))
    page.get_by_role("link", name="nuclei.ome.tif").click()
    page.locator(".map canvas").first.wait_for()
    assert f"show=image-{site.images['nuclei']}" in page.url


@SQLITE_ONLY
def test_markup_in_users_fields_is_shown_as_text(page: Any, site: Site) -> None:
    """OMERO.web's worst advisory was a stored XSS: every field a user writes comes back
    as text, and nothing in it runs."""
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    alice = site.api("alice")
    image = site.images["cells"]
    alice.patch(f"/api/v1/images/{image}", json={"description": attack})
    for kind in ("tag", "comment"):
        alice.post(f"/api/v1/images/{image}/annotations", json={"type": kind, "text": attack})
    alice.post(f"/api/v1/images/{image}/annotations",
               json={"type": "map", "values": [[attack, attack]]})
    dataset = alice.post("/api/v1/datasets", json={"name": attack}).json()["id"]
    log_in(page, "alice")
    page.goto(f"/?show=dataset-{dataset}")
    page.get_by_role("heading", name=attack).wait_for()
    page.goto(f"/?show=image-{image}")
    page.get_by_text(attack).first.wait_for()
    assert page.get_by_text(attack).count() >= 3  # description, tag, comment
    pair = page.locator(".map-editor input")  # the owner's key-value table, editable
    assert pair.nth(0).input_value() == attack and pair.nth(1).input_value() == attack
    page.goto(f"/?view=search&q={attack}")
    page.get_by_role("heading", name=re.compile("results? for")).wait_for()
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img[src=x]").count() == 0


def test_another_users_image_is_not_found_and_shows_nothing(page: Any, site: Site) -> None:
    log_in(page, "xavier")
    tiles: list[Any] = []
    page.on("response", lambda r: tiles.append(r) if "render_image_region" in r.url else None)
    page.goto(f"/?show=image-{site.images['cells']}")
    page.get_by_role("heading", name="Not found").wait_for()
    assert page.locator(".map").count() == 0 and not tiles
    assert "cells.ome.tif" not in page.content()


def test_after_logging_out_the_back_button_shows_nothing(page: Any, site: Site) -> None:
    log_in(page, "alice")
    page.goto(f"/?show=image-{site.images['cells']}")
    page.locator(".map canvas").first.wait_for()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for()
    page.go_back()
    page.get_by_role("button", name="Log in").wait_for()
    assert page.locator(".map").count() == 0
    assert "cells.ome.tif" not in page.content()
    cookies = {c["name"] for c in page.context.cookies()}
    assert "pixelvault_session" not in cookies


@SQLITE_ONLY
def test_the_page_cannot_be_framed_and_runs_no_inline_script(page: Any, site: Site) -> None:
    answer = page.request.get("/")
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert "<script>" not in answer.text()


def test_a_file_dropped_on_a_dataset_is_imported_with_its_thumbnail(
        page: Any, site: Site, tmp_path: Path) -> None:
    data = timelapse(tmp_path, "dropped.ome.tif").read_bytes()
    log_in(page, "alice")
    page.goto(f"/?show=dataset-{site.dataset}")
    zone = page.get_by_role("button", name=re.compile("Import files into this dataset"))
    dropped = page.evaluate_handle("""([name, b64]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: "image/tiff"}));
        return transfer;
    }""", ["dropped.ome.tif", base64.b64encode(data).decode()])
    zone.dispatch_event("drop", {"dataTransfer": dropped})
    page.get_by_text(re.compile("^1 image: ")).wait_for()
    assert page.locator(".uploads progress").evaluate("p => p.value") == 1
    page.get_by_role("link", name="dropped.ome.tif").wait_for()
    page.locator("figure:has-text('dropped.ome.tif') img[src^='data:image/jpeg']").wait_for()
    copy_for_readme(screenshot(page, f"import-{site.env.backend}"))
    found = site.api("alice").get(f"/api/v0/m/datasets/{site.dataset}/images/").json()
    assert "dropped.ome.tif" in {i["Name"] for i in found["data"]}


def test_a_screens_plate_shows_its_wells_and_opens_a_field(page: Any, site: Site) -> None:
    log_in(page, "alice")
    page.locator(".tree a:has(.icon-screen)").first.click()
    page.locator(".content .card").first.click()
    page.locator("table.plate img[src^='data:image/jpeg']").first.wait_for()
    cells = page.locator("table.plate td a")
    assert cells.count() == 4
    copy_for_readme(screenshot(page, f"plate-{site.env.backend}"))
    cells.first.click()
    page.locator(".map canvas").first.wait_for()
    assert "show=image-" in page.url


@SQLITE_ONLY
def test_a_session_that_ends_while_viewing_goes_back_to_the_login(page: Any, site: Site) -> None:
    log_in(page, "bob")
    page.goto(f"/?show=image-{site.images['cells']}")
    page.locator(".map canvas").first.wait_for()
    bob = site.api("bob")
    for session in bob.get("/api/v1/sessions").json():
        if not session["current"]:
            assert bob.delete(f"/api/v1/sessions/{session['id']}").status_code == 204
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("button", name="Log in").wait_for()
    page.get_by_text("Your session has ended").wait_for()
    assert page.locator(".map").count() == 0


@SQLITE_ONLY
def test_an_image_deleted_while_open_shows_failed_tiles_not_broken_ones(
        page: Any, site: Site, tmp_path: Path) -> None:
    image = json.loads(site.env.cli(
        "import", str(timelapse(tmp_path, "doomed.ome.tif")), "--local", "--user", "alice",
        "-o", "json", check=True).stdout)["imported"][0]["images"][0]
    log_in(page, "alice")
    page.goto(f"/?show=image-{image}")
    page.locator(".map canvas").first.wait_for()
    assert site.api("alice").delete(f"/api/v1/images/{image}").status_code == 204
    page.get_by_label("Show GFP").uncheck()
    page.get_by_text(re.compile("tile\\(s\\) failed to load")).wait_for()
    page.get_by_role("button", name="Retry").wait_for()


@SQLITE_ONLY
def test_a_file_larger_than_the_free_space_is_refused_before_it_is_sent(
        page: Any, site: Site) -> None:
    log_in(page, "alice")
    page.goto(f"/?show=dataset-{site.dataset}")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "PUT" else None)
    huge = page.evaluate_handle("""() => {
        // an 8 TiB file, as far as the page can tell (no disk here holds one)
        const size = Object.getOwnPropertyDescriptor(Blob.prototype, "size").get;
        Object.defineProperty(Blob.prototype, "size", {get() {
            return this.name === "huge.ome.tif" ? 2 ** 43 : size.call(this);
        }});
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(8)], "huge.ome.tif"));
        return transfer;
    }""")
    zone = page.get_by_role("button", name=re.compile("Import files into this dataset"))
    zone.dispatch_event("drop", {"dataTransfer": huge})
    page.get_by_text(re.compile("do not fit in")).wait_for()
    assert not sent


@SQLITE_ONLY
def test_logging_in_never_leaves_for_another_site(page: Any, site: Site) -> None:
    page.goto("/?view=login&next=https://example.org/&show=https://example.org/")
    log_in_here(page, "alice")
    assert page.url.startswith(site.url)


def log_in_here(page: Any, user: str) -> None:
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


@SQLITE_ONLY
def test_administrators_see_health_users_groups_jobs_and_usage(page: Any, site: Site) -> None:
    log_in(page, "root", ROOT_PASSWORD)
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("heading", name=re.compile("^Health")).wait_for()
    page.get_by_role("cell", name="search index").wait_for()
    assert page.get_by_role("cell", name="alice", exact=True).count() >= 1
    page.get_by_label("New group's name").fill("imaging-core")
    page.get_by_label("Permissions").select_option("read-only")
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("cell", name="imaging-core", exact=True).wait_for()
    page.get_by_label("Group to add to").select_option(label="imaging-core")
    row = page.get_by_role("row").filter(has_text="xavier")
    row.get_by_role("button", name="add to the group chosen below").click()
    page.get_by_role("button", name="Remove xavier from imaging-core").wait_for()
    page.get_by_role("button", name="Remove xavier from imaging-core").click()
    page.get_by_text("xavier left imaging-core.").wait_for()
    copy_for_readme(screenshot(page, f"admin-{site.env.backend}"))
    page.get_by_role("button", name="Log out").click()
    log_in(page, "bob")
    page.goto("/?view=admin")
    page.get_by_role("heading", name="Administrators only").wait_for()


@SQLITE_ONLY
def test_a_user_changes_their_password(page: Any, site: Site) -> None:
    root = site.api("root")
    made = root.post("/api/v1/users", json={"username": "carol", "groups": ["lab"],
                                            "password": PASSWORD})
    assert made.status_code == 201, made.text
    log_in(page, "carol")
    page.get_by_role("link", name="carol").click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a much longer secret")
    page.get_by_label("New password again").fill("a much longer secret")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Password changed").wait_for()
    answer = httpx.post(f"{site.url}/api/v1/login", json={"username": "carol",
                                                          "password": "a much longer secret"})
    assert answer.status_code == 200


@SQLITE_ONLY
def test_the_viewer_answers_the_keyboard(page: Any, site: Site) -> None:
    log_in(page, "alice")
    open_image(page, site)
    z = page.get_by_label("Z plane")
    start = int(z.input_value())
    page.locator(".map").focus()
    with page.expect_response(lambda r: "render_image_region" in r.url and
                              f"/{site.images['cells']}/{1 - start}/" in r.url):
        page.keyboard.press("PageDown" if start == 0 else "PageUp")
    assert int(z.input_value()) == 1 - start
    page.keyboard.press("2")
    assert not page.get_by_label("Show GFP").is_checked()
    # the stored value under the pointer: DAPI is 1000 over the left half
    box = page.locator(".map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2 - 40, box["y"] + box["height"] / 2)
    page.get_by_text(re.compile(r"x \d+, y \d+, DAPI 1000")).wait_for()


@SQLITE_ONLY
def test_dark_theme_and_a_4k_screen(browser: Any, site: Site) -> None:
    context = browser.new_context(base_url=site.url, viewport={"width": 3840, "height": 2160},
                                  color_scheme="dark")
    page = context.new_page()
    try:
        log_in(page, "alice")
        page.goto(f"/?show=dataset-{site.dataset}")
        page.locator("img[src^='data:image/jpeg']").first.wait_for()
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(20, 23, 28)"
        copy_for_readme(screenshot(page, f"dark-4k-{site.env.backend}"))
    finally:
        context.close()


@SQLITE_ONLY
def test_visitors_browse_the_public_users_data_without_logging_in(page: Any, site: Site) -> None:
    page.goto(f"/?show=image-{site.images['on-show']}")
    page.locator(".map canvas").first.wait_for()
    # a visitor reads: nothing to save, draw or annotate
    for name in ("Save settings", "Rectangle", "Add", "Delete image"):
        assert page.get_by_role("button", name=name, exact=True).count() == 0, name
    assert page.get_by_role("button", name="Log out").count() == 0
    page.goto(f"/?show=image-{site.images['cells']}")
    page.get_by_role("heading", name="Not found").wait_for()
    page.get_by_role("button", name="Log in").click()
    log_in_here(page, "alice")
    page.get_by_role("link", name=re.compile("Mitosis")).first.wait_for()


@SQLITE_ONLY
def test_settings_copied_from_one_image_are_pasted_on_another(page: Any, site: Site) -> None:
    log_in(page, "alice")
    open_image(page, site, "nuclei")
    page.locator("canvas.histogram").first.wait_for()
    page.get_by_label("DAPI lookup table").select_option("fire.lut")
    box = page.get_by_label(re.compile("GFP window end$"))
    box.fill("777")
    box.dispatch_event("change")
    page.get_by_role("button", name="Copy").click()
    page.get_by_text("Rendering settings copied").wait_for()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Rendering settings saved").wait_for()
    open_image(page, site, "nuclei")  # saved lookup tables come back as such
    assert page.get_by_label("DAPI lookup table").input_value() == "fire.lut"
    open_image(page, site, "cells")
    with page.expect_response(lambda r: "render_image_region" in r.url and
                              "fire.lut" in r.url and "0%3A777" in r.url):
        page.get_by_role("button", name="Paste").click()
    assert page.get_by_label(re.compile("GFP window end$")).input_value() == "777"
    with page.expect_response(lambda r: "render_image_region" in r.url and "p=intmax" in r.url):
        page.get_by_label("Z-projection").select_option("intmax")


def _imported(site: Site, path: Path, *extra: str) -> int:
    found: int = json.loads(site.env.cli(
        "import", str(path), "--local", "--user", "alice", "-o", "json", *extra, check=True,
    ).stdout)["imported"][0]["images"][0]
    return found


@SQLITE_ONLY
def test_an_image_dragged_onto_a_dataset_moves_there(page: Any, site: Site,
                                                     tmp_path: Path) -> None:
    image = _imported(site, timelapse(tmp_path, "dragged.ome.tif"), "--dataset",
                      str(site.dataset))
    alice = site.api("alice")
    target = alice.post("/api/v1/datasets", json={"name": "Day 2"}).json()["id"]
    log_in(page, "alice")
    page.goto(f"/?show=dataset-{site.dataset}")
    thumb = page.locator("a:has(figcaption:text-is('dragged.ome.tif'))")
    thumb.drag_to(page.locator(".tree").get_by_role("link", name=re.compile("^Day 2")))
    page.get_by_text("Image moved to").wait_for()
    page.get_by_role("heading", name="Day 2").wait_for()
    in_target = alice.get(f"/api/v0/m/datasets/{target}/images/").json()["data"]
    in_source = alice.get(f"/api/v0/m/datasets/{site.dataset}/images/").json()["data"]
    assert image in {i["@id"] for i in in_target}
    assert image not in {i["@id"] for i in in_source}


@SQLITE_ONLY
def test_an_image_moves_to_another_group_after_a_dry_run(page: Any, site: Site,
                                                         tmp_path: Path) -> None:
    image = _imported(site, timelapse(tmp_path, "mover.ome.tif"))
    root = site.api("root")
    second = root.post("/api/v1/groups", json={"name": "second", "type": "read-only"}).json()
    assert root.post(f"/api/v1/groups/{second['id']}/members",
                     json={"user_id": site.users["alice"]}).status_code == 204
    log_in(page, "alice")
    page.goto(f"/?show=image-{image}")
    page.get_by_label("Group to move to").select_option(label="second")
    dialogs: list[str] = []

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Move to group").click()
    page.get_by_text("Moved to second.").wait_for()
    assert dialogs and "1 image" in dialogs[0] and "second" in dialogs[0]
    facts = site.api("alice").get(f"/api/v1/images/{image}/metadata").json()
    assert facts["group"]["name"] == "second"


@SQLITE_ONLY
def test_the_tree_shows_the_current_groups_data_by_owner(page: Any, site: Site) -> None:
    site.api("bob").post("/api/v1/projects", json={"name": "Bob's screen"})
    log_in(page, "alice")
    tree = page.locator(".tree")
    tree.get_by_role("link", name=re.compile("^Bob's screen")).wait_for()
    page.get_by_label("Owner").select_option(label="alice (me)")
    page.wait_for_url(re.compile(f"owner={site.users['alice']}"))
    tree.get_by_role("link", name=re.compile("^Bob's screen")).wait_for(state="detached")
    tree.get_by_role("link", name=re.compile("^Mitosis")).wait_for()
    page.get_by_label("Owner").select_option(label="bob")
    tree.get_by_role("link", name=re.compile("^Mitosis")).wait_for(state="detached")
    tree.get_by_role("link", name=re.compile("^Bob's screen")).wait_for()


@SQLITE_ONLY
def test_a_drop_from_another_page_moves_nothing(page: Any, site: Site) -> None:
    """Another site may start a drag of the type the tree takes, with any payload: only
    drags this page started count."""
    log_in(page, "alice")
    page.goto(f"/?show=dataset-{site.dataset}")
    changes: list[str] = []
    page.on("request", lambda r: changes.append(r.url) if r.method != "GET" else None)
    forged = page.evaluate_handle("""([image]) => {
        const transfer = new DataTransfer();
        transfer.setData("application/x-pixelvault-image",
                         JSON.stringify({image, from: "../groups/1/members/2?x="}));
        return transfer;
    }""", [site.images["cells"]])
    target = page.locator(".tree").get_by_role("link", name=re.compile("^Day 1"))
    if not target.count():
        page.locator(".tree summary").first.click()
    target.first.dispatch_event("drop", {"dataTransfer": forged})
    page.wait_for_timeout(500)
    assert not changes


def map_pixels(page: Any, index: int) -> int:
    """The sum of every channel of the ``index``-th map's canvas."""
    total: int = page.evaluate("""(index) => {
        const canvas = document.querySelectorAll('.map canvas')[index];
        const {data} = canvas.getContext('2d', {willReadFrequently: true})
            .getImageData(0, 0, canvas.width, canvas.height);
        let sum = 0;
        for (let i = 0; i < data.length; i += 1) sum += data[i];
        return sum;
    }""", index)
    return total


def test_two_images_side_by_side_move_together(page: Any, site: Site) -> None:
    log_in(page, "alice")
    page.goto(f"/?show=dataset-{site.dataset}")
    page.get_by_label("Choose cells.ome.tif to compare").check()
    page.get_by_label("Choose nuclei.ome.tif to compare").check()
    page.get_by_role("button", name="Compare 2").click()
    page.get_by_role("heading", name="2 images side by side").wait_for()
    assert re.search(r"show=image-\d+(\||%7C)image-\d+", page.url)
    page.wait_for_function("() => document.querySelectorAll('.map canvas').length === 2")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("(i) => { const c = document.querySelectorAll('.map canvas')[1];"
                           " return c.getContext('2d').getImageData(0, 0, c.width, c.height)"
                           ".data.some((v, n) => n % 4 === 3 && v > 0); }", arg=1)
    before = map_pixels(page, 1)
    page.locator(".ol-zoom-in").first.click()  # zoom into the first: the second follows
    page.wait_for_timeout(800)
    page.wait_for_load_state("networkidle")
    assert map_pixels(page, 1) != before
    copy_for_readme(screenshot(page, f"compare-{site.env.backend}"))
    # without synchronising, the second stays where it is
    page.get_by_label("Synchronise navigation").uncheck()
    settled = map_pixels(page, 1)
    page.locator(".ol-zoom-out").first.click()
    page.wait_for_timeout(800)
    assert map_pixels(page, 1) == settled


@SQLITE_ONLY
def test_a_file_is_given_away_and_deleted_after_saying_what_goes(page: Any, site: Site,
                                                                 tmp_path: Path) -> None:
    image = _imported(site, timelapse(tmp_path, "spare.ome.tif"))
    files = site.api("alice").get(f"/api/v1/images/{image}/metadata").json()
    (original,) = site.api("alice").get(
        f"/api/v1/filesets/{files['fileset']['id']}/files").json()
    log_in(page, "root", ROOT_PASSWORD)
    page.goto(f"/?show=image-{image}")
    page.get_by_text("Original files (1,").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="spare.ome.tif").click()
    assert Path(download.value.path()).stat().st_size == original["size"]

    dialogs: list[str] = []
    refuse = True

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.message)
        if refuse:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", answer)
    page.get_by_label("New owner").select_option(label="bob")
    page.get_by_role("button", name="Give to").click()
    page.wait_for_timeout(300)
    assert dialogs and "1 image" in dialogs[-1] and "bob" in dialogs[-1]
    assert site.api("alice").get(f"/api/v1/images/{image}/metadata").json()["owner"][
        "username"] == "alice"  # refused: nothing changed
    refuse = False
    page.get_by_role("button", name="Give to").click()
    page.get_by_text("Given to bob.").wait_for()
    assert site.api("bob").get(f"/api/v1/images/{image}/metadata").json()["owner"][
        "username"] == "bob"

    refuse = True
    page.get_by_role("button", name="Delete image").click()
    page.wait_for_timeout(300)
    said = dialogs[-1]
    assert "1 image" in said and "1 original file" in said and "annotation" in said, said
    assert site.api("bob").get(f"/api/v1/images/{image}/metadata").status_code == 200
    refuse = False
    page.get_by_role("button", name="Delete image").click()
    page.get_by_text("Deleted 1 image").wait_for()
    assert site.api("bob").get(f"/api/v1/images/{image}/metadata").status_code == 404
    assert site.api("root").get(f"/api/v1/files/{original['id']}").status_code == 404


@SQLITE_ONLY
def test_the_search_box_completes_fields_and_keys(page: Any, site: Site) -> None:
    alice = site.api("alice")
    alice.post(f"/api/v1/images/{site.images['cells']}/annotations",
               json={"type": "map", "values": [["Stain", "DAPI"]]})
    log_in(page, "alice")
    box = page.get_by_role("combobox", name="Search")
    box.click()
    box.press_sequentially("mitosis sta")
    option = page.get_by_role("option", name=re.compile("^stain:"))
    option.wait_for()
    box.press("ArrowDown")
    box.press("Enter")
    assert box.input_value() == "mitosis stain:"
    box.press_sequentially("dapi")
    box.press("Enter")
    page.get_by_role("heading", name=re.compile("result")).wait_for()
    assert "q=mitosis+stain%3Adapi" in page.url or "q=mitosis%20stain%3Adapi" in page.url
    # keys of others' data stay unknown: xavier is offered the index's fields only
    xavier = site.api("xavier")
    own = xavier.post("/api/v1/datasets", json={"name": "strains"}).json()["id"]
    xavier.post(f"/api/v1/datasets/{own}/annotations",
                json={"type": "map", "values": [["Strain", "K12"]]})
    page.get_by_role("button", name="Log out").click()
    log_in(page, "xavier")
    box = page.get_by_role("combobox", name="Search")
    box.press_sequentially("st")
    page.get_by_role("option", name=re.compile("^strain:")).wait_for()
    assert page.get_by_role("option", name=re.compile("^stain:")).count() == 0


@SQLITE_ONLY
def test_administrators_edit_users_change_a_groups_level_and_read_in_place_import(
        page: Any, site: Site) -> None:
    root = site.api("root")
    group = root.post("/api/v1/groups", json={"name": "core-facility", "type": "private"}).json()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "root", ROOT_PASSWORD)
    page.goto("/?view=admin")
    page.get_by_role("button", name="Edit bob").click()
    page.get_by_label("bob's first name").fill("Robert")
    page.get_by_label("bob's email").fill("bob@lab.example")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("bob saved.").wait_for()
    bob = root.get(f"/api/v1/users/{site.users['bob']}").json()
    assert (bob["first_name"], bob["email"]) == ("Robert", "bob@lab.example")
    page.get_by_label("Permission level of core-facility").select_option("read-annotate")
    page.get_by_text("core-facility is read-annotate now.").wait_for()
    levels = {g["name"]: g["permissions"] for g in root.get("/api/v1/groups").json()}
    assert levels["core-facility"] == "rwra--" and group["permissions"] == "rw----"
    page.get_by_role("heading", name="In-place import").wait_for()
    assert "--transfer ln_s" in page.locator("pre.commands").inner_text()
    assert page.get_by_label("Permission level of system").is_disabled()


@SQLITE_ONLY
def test_a_tree_of_more_than_a_page_shows_the_rest_on_asking(page: Any, site: Site) -> None:
    xavier = site.api("xavier")
    me = xavier.get("/api/v1/whoami").json()
    # 501 datasets written into the catalog at once (501 requests would take longer)
    from pixelvault.catalog.models import Dataset
    from pixelvault.services.vault import open_catalog

    catalog = open_catalog(site.env.settings())
    try:
        with catalog.session() as session:
            session.add_all(Dataset(name=f"run {number:03d}", owner_id=me["user_id"],
                                    group_id=me["group_id"]) for number in range(501))
    finally:
        catalog.dispose()
    total = xavier.get("/api/v0/m/datasets/?limit=1").json()["meta"]["totalCount"]
    assert total >= 501
    log_in(page, "xavier")
    tree = page.locator(".tree")
    more = tree.get_by_role("button", name=f"Show more ({total - 500} left)")
    more.wait_for()
    assert tree.locator("a[href*='show=dataset-']").count() == 500
    more.click()
    tree.get_by_role("link", name=re.compile("^run 500")).wait_for()
    assert tree.locator("a[href*='show=dataset-']").count() == total
    assert more.count() == 0


@SQLITE_ONLY
def test_firefox_browses_views_and_renders_an_image(firefox: Any, site: Site) -> None:
    """The same page in Firefox: log in, browse to an image, its tiles on the canvas, a
    channel's window changing them, and the keyboard's plane shortcut."""
    context = firefox.new_context(base_url=site.url, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(page, "alice")
        page.goto(f"/?show=dataset-{site.dataset}")
        page.locator("img[src^='data:image/jpeg']").first.wait_for()
        page.get_by_role("link", name="nuclei.ome.tif").click()
        tiles = open_image(page, site, "nuclei")
        assert tiles and all(r.status == 200 for r in tiles)
        before = canvas_pixels(page)
        assert before[0] > 1000
        box = page.get_by_label(re.compile("DAPI window end$"))
        # another test may have saved 50 already: a value the image does not have now
        end = "60" if box.input_value() == "50" else "50"
        with page.expect_response(lambda r: "render_image_region" in r.url
                                  and f"1|0:{end}$" in unquote(r.url)):
            # Firefox's BiDi fill() adds to a number box rather than replacing its text
            box.evaluate("(element, end) => { element.value = end; }", end)
            box.dispatch_event("change")
        page.wait_for_load_state("networkidle")
        for _ in range(50):  # drawn on a later frame: a loaded machine takes its time
            if canvas_pixels(page) != before:
                break
            page.wait_for_timeout(200)
        assert canvas_pixels(page) != before
        page.locator(".map").first.focus()
        with page.expect_response(lambda r: "render_image_region" in r.url
                                  and re.search(r"/\d+/0/0/", r.url) is not None):
            page.keyboard.press("PageUp")  # from the middle plane to the first
        assert not errors, errors
        # last: a screenshot over BiDi adds a <style> that the page's CSP rightly refuses,
        # and Firefox reports the refusal as the page's error
        screenshot(page, "viewer-firefox")
    finally:
        context.close()


@SQLITE_ONLY
def test_key_value_pairs_are_edited_as_a_table_and_files_sized_in_the_listing(
        page: Any, site: Site, tmp_path: Path) -> None:
    alice = site.api("alice")
    dataset = alice.post("/api/v1/datasets", json={"name": "Sizes"}).json()["id"]
    image = _imported(site, timelapse(tmp_path, "pairs.ome.tif"), "--dataset", str(dataset))
    made = alice.post(f"/api/v1/images/{image}/annotations",
                      json={"type": "map", "values": [["Stain", "DAPI"], ["Objective", "40x"]]})
    log_in(page, "alice")
    page.goto(f"/?show=image-{image}")
    page.get_by_label("Value of Stain").fill("Hoechst")
    page.get_by_role("button", name="Remove the pair Objective").click()
    page.get_by_role("button", name="Add a row").click()
    page.locator(".map-editor input[aria-label=Key]").last.fill("Binning")
    page.get_by_label("Value of new key").fill("2x2")
    page.get_by_role("button", name="Save pairs").click()
    page.get_by_text("Key-value pairs saved.").wait_for()
    values = alice.get(f"/api/v1/annotations/{made.json()['id']}").json()["values"]
    assert values == [["Stain", "Hoechst"], ["Binning", "2x2"]]
    # the dataset's table says how many bytes each image came from
    page.goto(f"/?show=dataset-{dataset}&layout=table")
    page.get_by_role("columnheader", name="Files").wait_for()
    found = next((site.env.data_dir / "ManagedRepository").rglob("pairs.ome.tif"))
    size, unit = float(found.stat().st_size), 0
    while size >= 1024:
        size, unit = size / 1024, unit + 1
    expected = f"{size:.{1 if unit else 0}f} {['B', 'KiB', 'MiB', 'GiB'][unit]}"
    row = page.get_by_role("row").filter(has_text="pairs.ome.tif")
    row.get_by_role("cell", name=expected, exact=True).wait_for()
