"""OMERO.web's rendered-image URLs: tiles, regions, planes, thumbnails (stored, and made
again when the settings change), imgData, histograms, ETags; every bad request a 4xx."""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from PIL import Image

from pixelvault.services import imports
from tests.conftest import Env
from tests.server.conftest import ROOT_PASSWORD, Api, World, serving


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0", pixels_pyramid_threshold=str(300 * 300),
                    render_max_region=str(300 * 300))
    with serving(initialised) as made:
        yield made


def picture(response: Any, size: tuple[int, int] | None = None) -> np.ndarray[Any, Any]:
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    if size is not None:
        assert image.size == size
    return np.asarray(image.convert("RGB")).astype(int)


def import_as(api: Api, owner: str, path: Path, group_id: int | None = None) -> int:
    """``owner`` imports ``path``, into their default group or ``group_id``."""
    from dataclasses import replace

    from pixelvault.catalog.principals import actor_for

    with api.vault.catalog.session() as session:
        actor = actor_for(session, owner)
    assert actor is not None
    if group_id is not None:
        actor = replace(actor, group_id=group_id)
    outcome = imports.run(api.vault, actor, imports.plan([path]), imports.ImportOptions())
    assert not outcome.failed, outcome.failed
    return outcome.imported[0].image_ids[0]


def two_channels(tmp_path: Path, size: tuple[int, int] = (50, 60)) -> Path:
    """Channel 1 bright on the left half, channel 2 on the right half."""
    data = np.zeros((2, *size), np.uint16)
    data[0, :, : size[1] // 2] = 4000
    data[1, :, size[1] // 2:] = 4000
    data[0, 0, 0] = data[1, 0, 0] = 10  # a minimum above zero in each channel
    path = tmp_path / "halves.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": "CYX", "Channel": {"Name": ["DAPI", "GFP"], "Color": [-16776961, 16711935]}})
    return path


def test_tiles_regions_planes_and_their_etags(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    image_id = import_as(api, "alice", two_channels(tmp_path))
    base = f"/webgateway/render_image_region/{image_id}/0/0/"
    rgb = picture(api.client.get(f"{base}?tile=0,0,0&format=png", headers=alice), (60, 50))
    assert rgb[25, 5].tolist() == [255, 0, 0] and rgb[25, 55].tolist() == [0, 255, 0]
    # c=: only channel 2, white, window halved: 4000 is full, greyscale ignores colour.
    rgb = picture(api.client.get(f"{base}?region=0,0,60,50&c=2|0:2000$FFFFFF&format=png",
                                 headers=alice), (60, 50))
    assert rgb[25, 5].tolist() == [0, 0, 0] and rgb[25, 55].tolist() == [255, 255, 255]
    inverted = picture(api.client.get(
        f"{base}?region=30,0,30,50&c=2|0:4000$00FF00&maps=[{{\"inverted\":{{\"enabled\":true}}}}]"
        "&format=png", headers=alice))
    assert inverted[10, 10].tolist() == [0, 0, 0]
    flipped = picture(api.client.get(f"{base}?tile=0,0,0&flip=h&format=png", headers=alice))
    assert flipped[25, 5].tolist() == [0, 255, 0]
    grey = picture(api.client.get(f"{base}?tile=0,0,0&m=g&format=png", headers=alice))
    assert grey[25, 5].tolist() == [255, 255, 255]
    jpeg = api.client.get(f"{base}?tile=0,0,0,32,32&q=0.5", headers=alice)
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(jpeg.content)).size == (32, 32)
    edge = picture(api.client.get(f"{base}?tile=0,1,1,32,32&format=png", headers=alice))
    assert edge.shape == (18, 28, 3)  # the edge tile, clipped as OMERO's
    # The same request again with its ETag: 304, no body.
    etag = jpeg.headers["etag"]
    again = api.client.get(f"{base}?tile=0,0,0,32,32&q=0.5",
                           headers={**alice, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    tiff = api.client.get(f"/webgateway/render_image/{image_id}/?format=tif", headers=alice)
    assert tiff.headers["content-type"] == "image/tiff"
    native = api.client.get(f"/api/v1/images/{image_id}/render?region=0,0,10,10&format=png",
                            headers=alice)
    assert picture(native).shape == (10, 10, 3)


@pytest.mark.parametrize(("query", "says"), [
    ("tile=0,2,0", "outside the 1x1 tiles"), ("tile=1,0,0", "level 1 is outside"),
    ("tile=0,1,0,2000,10", "outside the 1x5 tiles"), ("tile=a,b", "LEVEL,TX,TY"),
    ("region=60,0,20,10", "starts outside the 60x50"), ("region=0,0,-5,10", "positive"),
    ("region=0,0,400,400", "render.max_region"), ("c=3", "outside 1..2"),
    ("tile=0,0,0&c=1|9:1", "above end"), ("tile=0,0,0&c=1$XYZ", "RRGGBB"),
    ("tile=0,0,0&q=2", "outside 0..1"), ("tile=0,0,0&format=bmp", "jpeg, png or tif"),
    ("tile=0,0,0&p=intmax|0:5", "z range"), ("", "tile=LEVEL,TX,TY"),
    ("tile=0,0,0&c=1&maps=" + "[" * 4000, "maps= is not JSON"),
])
def test_bad_rendering_requests(api: Api, world: World, tmp_path: Path, query: str,
                                says: str) -> None:
    alice = world.headers["alice"]
    image_id = import_as(api, "alice", two_channels(tmp_path))
    answer = api.client.get(f"/webgateway/render_image_region/{image_id}/0/0/?{query}",
                            headers=alice)
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["message"]


def test_others_pixels_are_never_shown(api: Api, world: World, tmp_path: Path) -> None:
    image_id = import_as(api, "alice", two_channels(tmp_path))
    bob = world.headers["bob"]  # alice's default group is private
    for url in (f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,0,0",
                f"/webgateway/render_image/{image_id}/",
                f"/webgateway/render_thumbnail/{image_id}/",
                f"/webgateway/imgData/{image_id}/",
                f"/webgateway/histogram_json/{image_id}/channel/0/",
                f"/api/v1/images/{image_id}/rendering"):
        assert api.client.get(url, headers=bob).status_code == 404, url
    batch = api.client.get(f"/webgateway/get_thumbnails/?id={image_id}", headers=bob).json()
    assert batch == {str(image_id): None}


def test_thumbnails_are_stored_and_follow_the_settings(api: Api, world: World,
                                                       tmp_path: Path) -> None:
    alice = world.headers["alice"]
    image_id = import_as(api, "alice", two_channels(tmp_path))
    stored = [p for p in api.vault.thumbnails.root.rglob("*") if p.is_file()]
    assert len(stored) == 1  # made at import
    first = api.client.get(f"/webgateway/render_thumbnail/{image_id}/", headers=alice)
    assert first.content == stored[0].read_bytes()  # served from the store
    assert Image.open(io.BytesIO(first.content)).size == (96, 80)
    sized = picture(api.client.get(f"/webgateway/render_thumbnail/{image_id}/40/",
                                   headers=alice), (40, 33))
    assert sized[16, 5, 0] > 200 and sized[16, 5, 1] < 60
    exact = api.client.get(f"/webgateway/render_thumbnail/{image_id}/30/20/", headers=alice)
    assert Image.open(io.BytesIO(exact.content)).size == (30, 20)
    # New settings: channel 1 off. The thumbnail is made again, in the same row.
    settings = api.client.get(f"/api/v1/images/{image_id}/rendering", headers=alice).json()
    assert [c["color"] for c in settings["channels"]] == ["FF0000", "00FF00"]
    settings["channels"][0]["active"] = False
    saved = api.client.put(f"/api/v1/images/{image_id}/rendering", headers=alice,
                           json=settings)
    assert saved.status_code == 200 and saved.json()["version"] == 1
    changed = picture(api.client.get(f"/webgateway/render_thumbnail/{image_id}/",
                                     headers=alice))
    assert changed[40, 10].max() < 40 and changed[40, 85, 1] > 200
    from sqlalchemy import select

    from pixelvault.catalog.models import Thumbnail

    with api.vault.catalog.session() as session:
        versions = {(r.size_x, r.version) for r in session.scalars(select(Thumbnail))}
    assert (96, 2) in versions
    reset = api.client.delete(f"/api/v1/images/{image_id}/rendering", headers=alice).json()
    assert all(c["active"] for c in reset["channels"])
    bad = api.client.put(f"/api/v1/images/{image_id}/rendering", headers=alice,
                         json={"channels": [{"start": 9, "end": 1}, {}]})
    assert bad.status_code == 400 and "above its end" in bad.json()["message"]
    for body, says in ((b'{"projection_start": ""}', "a whole number or null"),
                       (b'{"default_z": Infinity}', "infinity")):
        bad = api.client.put(f"/api/v1/images/{image_id}/rendering", content=body,
                             headers={**alice, "Content-Type": "application/json"})
        assert bad.status_code == 400 and says in bad.json()["message"], bad.text
    batch = api.client.get(f"/webgateway/get_thumbnails/?id={image_id}&id=999999",
                           headers=alice).json()
    assert batch[str(image_id)].startswith("data:image/jpeg;base64,")
    assert batch["999999"] is None


def test_copy_settings_to_many_images(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    ids = []
    for i in range(3):
        (tmp_path / str(i)).mkdir()
        ids.append(import_as(api, "alice", two_channels(tmp_path / str(i))))
    api.client.put(f"/api/v1/images/{ids[0]}/rendering", headers=alice,
                   json={"model": "greyscale"})
    copied = api.client.post("/api/v1/rendering/copy", headers=alice,
                             json={"source": ids[0], "targets": ids[1:]})
    assert copied.json()["targets"] == ids[1:]
    for image_id in ids[1:]:
        got = api.client.get(f"/api/v1/images/{image_id}/rendering", headers=alice).json()
        assert got["model"] == "greyscale"


def test_img_data_and_histogram(api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    image_id = import_as(api, "alice", two_channels(tmp_path))
    data = api.client.get(f"/webgateway/imgData/{image_id}/", headers=alice).json()
    assert data["size"] == {"width": 60, "height": 50, "z": 1, "t": 1, "c": 2}
    assert data["pixel_range"] == [0, 65535] and data["levels"] == 1
    assert [c["label"] for c in data["channels"]] == ["DAPI", "GFP"]
    assert data["channels"][0]["window"] == {"start": 0.0, "end": 4000.0, "min": 0.0,
                                             "max": 4000.0}
    assert data["meta"]["imageName"] == "halves.ome.tif" and data["perms"]["canEdit"]
    histogram = api.client.get(f"/webgateway/histogram_json/{image_id}/channel/1/?bins=4",
                               headers=alice).json()
    assert sum(histogram["data"]) == 3000 and histogram["data"][-1] == 1500


def test_a_pending_pyramid_still_gives_thumbnails_and_full_resolution(
        api: Api, world: World, tmp_path: Path) -> None:
    alice = world.headers["alice"]
    data = np.zeros((600, 500), np.uint16)
    data[:, 250:] = 1000
    path = tmp_path / "large.ome.tif"
    tifffile.imwrite(path, data, ome=True)
    image_id = import_as(api, "alice", path)
    info = api.client.get(f"/webgateway/imgData/{image_id}/", headers=alice).json()
    assert info["levels"] == 3 and info["levels_ready"] == 1
    thumb = picture(api.client.get(f"/webgateway/render_thumbnail/{image_id}/",
                                   headers=alice), (80, 96))
    assert thumb[50, 70].max() > 200 and thumb[50, 5].max() < 30
    base = f"/webgateway/render_image_region/{image_id}/0/0/"
    assert api.client.get(f"{base}?tile=0,0,0", headers=alice).status_code == 200
    pending = api.client.get(f"{base}?tile=1,0,0", headers=alice)
    assert pending.status_code == 503 and "Retry-After" in pending.headers
    # The whole plane exceeds render.max_region: it comes sub-sampled, never an error.
    whole = picture(api.client.get(f"/webgateway/render_image/{image_id}/?format=png",
                                   headers=alice))
    assert whole.shape[:2] == (300, 250) and whole[10, 200].max() > 200


def test_deleting_an_image_removes_its_thumbnails_and_cleanse_the_strays(
        api: Api, world: World, tmp_path: Path) -> None:
    import os

    from pixelvault.services.operations.cleanse import cleanse

    alice = world.headers["alice"]
    image_id = import_as(api, "alice", two_channels(tmp_path))
    api.client.get(f"/webgateway/render_thumbnail/{image_id}/40/", headers=alice)
    assert len([p for p in api.vault.thumbnails.root.rglob("*") if p.is_file()]) == 2
    assert api.client.delete(f"/api/v1/images/{image_id}", headers=alice).status_code == 204
    assert [p for p in api.vault.thumbnails.root.rglob("*") if p.is_file()] == []
    stray = api.vault.thumbnails.path(777)
    stray.write_bytes(b"\xff\xd8 not a thumbnail anyone has")
    os.utime(stray, (1_000_000_000, 1_000_000_000))
    report = cleanse(api.vault)
    assert not stray.exists() and any(r[0].endswith("777") for r in report.removed)


def test_repeated_tiles_come_from_the_cache_and_never_stale(api: Api, world: World,
                                                          tmp_path: Path,
                                                          initialised: Env) -> None:
    alice, bob = world.headers["alice"], world.headers["bob"]
    image_id = import_as(api, "alice", two_channels(tmp_path))
    url = f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,0,0&format=png"
    first = api.client.get(url, headers=alice)
    again = api.client.get(url, headers=alice)
    assert first.headers["x-pixelvault-cache"] == "miss"
    assert again.headers["x-pixelvault-cache"] == "hit"
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert picture(again)[25, 5].tolist() == [255, 0, 0]
    # A cached tile is no way around the permission check.
    assert api.client.get(url, headers=bob).status_code == 404
    # New settings (channel 1 off) make a new answer at once, never the kept one.
    settings = api.client.get(f"/api/v1/images/{image_id}/rendering", headers=alice).json()
    settings["channels"][0]["active"] = False
    assert api.client.put(f"/api/v1/images/{image_id}/rendering", headers=alice,
                          json=settings).status_code == 200
    changed = api.client.get(url, headers=alice)
    assert changed.headers["x-pixelvault-cache"] == "miss"
    assert picture(changed)[25, 5].tolist() == [0, 0, 0]
    # Whole planes too.
    plane = f"/webgateway/render_image/{image_id}/?format=png"
    assert api.client.get(plane, headers=alice).headers["x-pixelvault-cache"] == "miss"
    assert api.client.get(plane, headers=alice).headers["x-pixelvault-cache"] == "hit"

    # Another repository in the same process, its image with the same id, version and
    # settings but other pixels (the halves swapped): its own picture, not ours.
    home = tmp_path / "other-home"
    home.mkdir()
    other_env = Env(home, {**initialised.vars, "PIXELVAULT_HOME": str(home)},
                    initialised.backend)
    other_env.vars.pop("PIXELVAULT_DB_URL", None)
    other_env.cli("admin", "init", check=True)
    other_env.set(pixels_pyramid_workers="0")
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    data = tifffile.imread(two_channels(tmp_path))
    tifffile.imwrite(swapped / "halves.ome.tif", data[:, :, ::-1].copy(), ome=True,
                     metadata={"axes": "CYX"})
    with serving(other_env) as other:
        root = other.login("root", ROOT_PASSWORD)
        theirs = import_as(other, "root", swapped / "halves.ome.tif")
        query = "tile=0,0,0&format=png&c=1|0:4000$FF0000,2|0:4000$00FF00&m=c"
        ours = api.client.get(f"/webgateway/render_image_region/{image_id}/0/0/?{query}",
                              headers=alice)
        seen = other.client.get(f"/webgateway/render_image_region/{theirs}/0/0/?{query}",
                                headers=root)
        assert theirs == image_id and seen.headers["x-pixelvault-cache"] == "miss"
        assert picture(ours)[25, 5].tolist() == [255, 0, 0]
        assert picture(seen)[25, 5].tolist() == [0, 255, 0]


def test_a_new_image_with_a_deleted_one_s_id_is_never_shown_its_tiles(
        api: Api, world: World, tmp_path: Path) -> None:
    """On SQLite the next image takes a deleted one's id (and version): its tiles are
    its own, from the cache as from a browser's If-None-Match."""
    alice = world.headers["alice"]
    query = "tile=0,0,0&format=png&c=1|0:4000$FF0000,2|0:4000$00FF00&m=c"
    first = import_as(api, "alice", two_channels(tmp_path))
    url = f"/webgateway/render_image_region/{first}/0/0/?{query}"
    before = api.client.get(url, headers=alice)
    assert picture(before)[25, 5].tolist() == [255, 0, 0]
    assert api.client.delete(f"/api/v1/images/{first}", headers=alice).status_code in (200,
                                                                                      204)
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    data = tifffile.imread(two_channels(tmp_path))
    tifffile.imwrite(swapped / "halves.ome.tif", data[:, :, ::-1].copy(), ome=True,
                     metadata={"axes": "CYX"})
    second = import_as(api, "alice", swapped / "halves.ome.tif")
    url = f"/webgateway/render_image_region/{second}/0/0/?{query}"
    after = api.client.get(url, headers={**alice, "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["x-pixelvault-cache"] == "miss"
    assert picture(after)[25, 5].tolist() == [0, 255, 0]
    if api.vault.catalog.engine.dialect.name == "sqlite":
        assert second == first  # the case this guards against


def test_the_tile_cache_keeps_to_its_budget() -> None:
    from pixelvault.services.rendering.tile_cache import TileCache

    cache = TileCache()
    for index in range(10):
        cache.put("repo", f"tile {index}", bytes(100), budget=450)
    assert cache.size <= 450
    assert cache.get("repo", "tile 9") is not None and cache.get("repo", "tile 0") is None
    cache.put("repo", "huge", bytes(200), budget=450)  # over a quarter: not kept
    assert cache.get("repo", "huge") is None
    cache.put("repo", "any", bytes(10), budget=0)  # turned off
    assert cache.get("repo", "any") is None
    cache.put("one repository", "same etag", b"theirs", budget=450)
    assert cache.get("another repository", "same etag") is None


def test_a_turned_off_tile_cache_renders_every_time(initialised: Env,
                                                    tmp_path: Path) -> None:
    initialised.set(pixels_pyramid_workers="0", render_tile_cache="0")
    with serving(initialised) as api:
        root = api.login("root", ROOT_PASSWORD)
        image_id = import_as(api, "root", two_channels(tmp_path))
        url = f"/webgateway/render_image_region/{image_id}/0/0/?tile=0,0,0"
        seen = [api.client.get(url, headers=root).headers["x-pixelvault-cache"]
                for _ in range(2)]
        assert seen == ["miss", "miss"]
