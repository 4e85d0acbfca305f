"""Raw pixels over HTTP: created images, reads at every level, 503 while a pyramid is
built, exports, and every bad request answered with a 4xx naming the valid range."""

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
import zarr

from pixelvault.formats.ngff_write import halve
from pixelvault.services.pixels import pyramids
from tests.conftest import Env
from tests.server.conftest import Api, World, serving


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    """A server that builds no pyramid by itself (the tests say when), with a low
    pyramid threshold so small test images get one."""
    initialised.set(pixels_pyramid_workers="0", pixels_pyramid_threshold=str(300 * 300))
    with serving(initialised) as made:
        yield made


def make_image(api: Api, headers: dict[str, str], data: np.ndarray[Any, Any],
               **extra: Any) -> int:
    size_c, size_y, size_x = data.shape
    from pixelvault.formats.base import pixel_type_of

    made = api.client.post("/api/v1/images", headers=headers, json={
        "name": "made", "size_x": size_x, "size_y": size_y, "size_c": size_c,
        "pixel_type": pixel_type_of(data.dtype, "test"), **extra})
    assert made.status_code == 201, made.text
    image_id = int(made.json()["id"])
    for c in range(size_c):
        sent = api.client.put(f"/api/v1/images/{image_id}/pixels?c={c}", headers=headers,
                              content=np.ascontiguousarray(data[c], dtype=data.dtype
                                                           .newbyteorder("<")).tobytes())
        assert sent.status_code == 200, sent.text
    assert api.client.post(f"/api/v1/images/{image_id}/pixels/finish",
                           headers=headers).status_code == 200
    return image_id


def npy(response: Any) -> np.ndarray[Any, Any]:
    assert response.status_code == 200, response.text
    loaded: np.ndarray[Any, Any] = np.load(io.BytesIO(response.content), allow_pickle=False)
    return loaded


def test_write_then_read_at_every_level(api: Api, world: World) -> None:
    alice = world.headers["alice"]
    rng = np.random.default_rng(1)
    data = rng.integers(0, 60000, (2, 620, 500), dtype=np.uint16)
    image_id = make_image(api, alice, data, channel_names=["DAPI", "GFP"])
    url = f"/api/v1/images/{image_id}/pixels"
    np.testing.assert_array_equal(npy(api.client.get(f"{url}?c=1", headers=alice)), data[1])
    region = npy(api.client.get(f"{url}?c=0&x=10&y=20&w=30&h=40", headers=alice))
    np.testing.assert_array_equal(region, data[0, 20:60, 10:40])
    raw = api.client.get(f"{url}?c=1&x=5&y=5&w=3&h=2&format=raw&order=big", headers=alice)
    assert raw.headers["X-Pixels-Shape"] == "2,3" and raw.headers["X-Pixels-Dtype"] == ">u2"
    np.testing.assert_array_equal(np.frombuffer(raw.content, ">u2").reshape(2, 3),
                                  data[1, 5:7, 5:8])

    # Level 1 is planned but not built yet: 503, Retry-After and progress, never a hang.
    info = api.client.get(f"{url}/info", headers=alice).json()
    assert info["levels"] == [[500, 620], [250, 310], [125, 155]] and info["levels_ready"] == 1
    assert info["pyramid"]["state"] == "pending"
    pending = api.client.get(f"{url}?level=1", headers=alice)
    assert pending.status_code == 503 and int(pending.headers["Retry-After"]) >= 1
    assert pending.json()["progress"] == 0.0 and "being built" in pending.json()["message"]
    (job,) = api.client.get("/api/v1/jobs", headers=alice).json()
    for who, job_id, status in (("bob", job["id"], 404), ("xavier", job["id"], 404),
                                ("alice", job["id"] + 1000, 404), ("alice", -1, 400),
                                ("alice", 2**63, 400)):
        refused = api.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=world.headers[who])
        assert refused.status_code == status, (who, job_id, refused.text)
    again = api.client.get(f"{url}/info", headers=alice).json()
    assert again["pyramid"]["state"] == "pending"  # nobody but its owner stops it
    assert pyramids.run_pending(api.vault) == 1
    np.testing.assert_array_equal(npy(api.client.get(f"{url}?level=1&c=1", headers=alice)),
                                  halve(data[1]))
    assert api.client.get(f"{url}/info", headers=alice).json()["levels_ready"] == 3

    # Others: bob sees nothing of alice's private group, and writes nothing.
    bob = world.headers["bob"]
    assert api.client.get(url, headers=bob).status_code == 404
    assert api.client.put(f"{url}?c=0", headers=bob, content=b"\x00" * 10).status_code == 404
    jobs = api.client.get("/api/v1/jobs", headers=alice).json()
    assert [(j["image"], j["state"]) for j in jobs] == [(image_id, "done")]
    assert api.client.get("/api/v1/jobs", headers=bob).json() == []
    refused = api.client.post(f"/api/v1/jobs/{jobs[0]['id']}/retry", headers=alice)
    assert refused.status_code == 403
    late = api.client.post(f"/api/v1/jobs/{jobs[0]['id']}/cancel", headers=alice)
    assert late.status_code == 400 and "done already" in late.json()["message"]


def test_bad_requests_name_the_valid_range(api: Api, world: World) -> None:
    alice = world.headers["alice"]
    data = np.arange(2 * 30 * 40, dtype=np.uint8).reshape(2, 30, 40)
    image_id = make_image(api, alice, data)
    url = f"/api/v1/images/{image_id}/pixels"
    for query, says in (("z=1", "z=1 is outside 0..0"), ("c=2", "c=2 is outside 0..1"),
                        ("t=5", "t=5 is outside 0..0"), ("level=3", "level 3 is outside"),
                        ("x=30&w=11", "leaves the 40x30 plane"),
                        ("y=29&h=2", "leaves the 40x30 plane"),
                        ("w=0", "at least 1"), ("x=-1", "x"), ("format=jpeg", "format"),
                        ("order=middle", "order"), ("z=abc", "z")):
        answer = api.client.get(f"{url}?{query}", headers=alice)
        assert answer.status_code == 400, (query, answer.status_code, answer.text)
        assert says in answer.json()["message"], (query, answer.json())
    too_big = api.client.put(f"{url}?c=0", headers=alice, content=b"\x00" * 10)
    assert too_big.status_code == 400 and "1200 bytes" in too_big.json()["message"]
    for body, says in (({"name": "x", "size_x": 0, "size_y": 1}, "size_x"),
                       ({"name": "x", "size_x": 1, "size_y": 1, "pixel_type": "complex"},
                        "pixel type"),
                       ({"name": "", "size_x": 1, "size_y": 1}, "name")):
        refused = api.client.post("/api/v1/images", headers=alice, json=body)
        assert refused.status_code == 400 and says in refused.json()["message"], refused.text
    assert api.client.get("/api/v1/images/999999/pixels", headers=alice).status_code == 404


def test_requests_beyond_the_configured_limit_are_refused(initialised: Env,
                                                          tmp_path: Path) -> None:
    initialised.set(pixels_max_request="1MiB", pixels_pyramid_workers="0")
    with serving(initialised) as api:
        root = api.login("root", "root-secret-1")
        made = api.client.post("/api/v1/images", headers=root, json={
            "name": "big", "size_x": 1024, "size_y": 1024, "pixel_type": "uint16"}).json()
        answer = api.client.get(f"/api/v1/images/{made['id']}/pixels", headers=root)
        assert answer.status_code == 400 and "pixels.max_request" in answer.json()["message"]
        half = api.client.get(f"/api/v1/images/{made['id']}/pixels?h=256", headers=root)
        assert npy(half).shape == (256, 1024)


def test_exports_over_http(api: Api, world: World, tmp_path: Path) -> None:
    from ome_zarr_models.v05.image import Image as OmeZarrImage

    alice = world.headers["alice"]
    rng = np.random.default_rng(2)
    data = rng.standard_normal((2, 400, 350)).astype(np.float32)
    image_id = make_image(api, alice, data, channel_names=["a", "b"], physical_size_x=0.25,
                          physical_size_y=0.25)
    tiff = api.client.get(f"/api/v1/images/{image_id}/export?format=ome-tiff", headers=alice)
    assert tiff.status_code == 200 and tiff.headers["content-type"] == "image/tiff"
    (tmp_path / "x.ome.tif").write_bytes(tiff.content)
    with tifffile.TiffFile(tmp_path / "x.ome.tif") as tif:
        series = tif.series[0]
        assert len(series.levels) == 2 and tif.is_ome
        np.testing.assert_array_equal(series.asarray().reshape(2, 400, 350), data)
        assert 'PhysicalSizeX="0.25"' in (tif.ome_metadata or "")
    archive = api.client.get(f"/api/v1/images/{image_id}/export?format=ome-zarr",
                             headers=alice)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        zipped.extractall(tmp_path / "x.ome.zarr")
    group = zarr.open_group(str(tmp_path / "x.ome.zarr"), mode="r")
    OmeZarrImage.from_zarr(group)  # validates OME-Zarr 0.5
    full: Any = group["0"]
    np.testing.assert_array_equal(full[0, :, 0], data)
    assert api.client.get(f"/api/v1/images/{image_id}/export?format=png",
                          headers=alice).status_code == 400
    assert api.client.get(f"/api/v1/images/{image_id}/export",
                          headers=world.headers["bob"]).status_code == 404
