"""Raw tiles through the pixel-buffer microservice's route, as QuPath reads them
(docs/clients/qupath-omero-extension.md, 4.3b): an ``OPTIONS /tile`` probe that must
answer 200 (``pixelapis/mspixelbuffer/MsPixelBufferApi.java``), then one
``GET /tile/{image}/{z}/{c}/{t}?x&y&w&h&format=tif&resolution=`` per channel, with
``resolution`` counted from the smallest level (``MsPixelBufferReader.java``), read
as a single-channel TIFF in the image's own type, with the session cookie only."""

from __future__ import annotations

import io
from collections.abc import Iterator

import imagecodecs
import numpy as np
import pytest
import tifffile
from fastapi.testclient import TestClient

from pixelvault.formats.ngff_write import halve
from pixelvault.services.pixels import pyramids
from tests.conftest import Env
from tests.server.conftest import Api, World, serving
from tests.server.test_api_omero_web import web_login
from tests.server.test_api_pixels import make_image


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0", pixels_pyramid_threshold=str(300 * 300))
    with serving(initialised) as made:
        yield made


def _tiff(answer: object) -> np.ndarray:
    assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == "image/tiff"  # type: ignore[attr-defined]
    with tifffile.TiffFile(io.BytesIO(answer.content)) as tif:  # type: ignore[attr-defined]
        assert len(tif.pages) == 1 and tif.pages.first.samplesperpixel == 1
        return tif.asarray()


@pytest.mark.parametrize("dtype", [np.uint16, np.float32, np.int16, np.uint8])
def test_qupath_reads_every_channel_at_every_level(api: Api, world: World,
                                                   dtype: type) -> None:
    rng = np.random.default_rng(3)
    data: np.ndarray = (rng.random((3, 620, 500)) * 200).astype(dtype)
    image_id = make_image(api, world.headers["alice"], data)
    assert pyramids.run_pending(api.vault) == 1
    quPath = web_login(api, "alice")  # noqa: N806 (the client's own name)
    assert quPath.options("/tile").status_code == 200
    for c in range(3):
        full = _tiff(quPath.get(f"/tile/{image_id}/0/{c}/0?x=100&y=200&w=256&h=256"
                                "&format=tif&resolution=2"))
        assert full.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(full, data[c, 200:456, 100:356])
    smallest = _tiff(quPath.get(f"/tile/{image_id}/0/1/0?x=0&y=0&w=125&h=155&format=tif"
                                "&resolution=0"))
    np.testing.assert_array_equal(smallest, halve(halve(data[1])))
    raw = quPath.get(f"/tile/{image_id}/0/2/0?x=0&y=0&w=4&h=3&resolution=2")
    np.testing.assert_array_equal(np.frombuffer(raw.content, dtype).reshape(3, 4),
                                  data[2, :3, :4])
    if dtype in (np.uint8, np.uint16):
        png = quPath.get(f"/tile/{image_id}/0/0/0?x=0&y=0&w=8&h=8&format=png&resolution=2")
        np.testing.assert_array_equal(imagecodecs.png_decode(png.content), data[0, :8, :8])


def test_the_tile_route_refuses_what_the_service_would(api: Api, world: World) -> None:
    image_id = make_image(api, world.headers["alice"], np.zeros((1, 400, 400), np.float32))
    alice = web_login(api, "alice")
    assert alice.get(f"/tile/{image_id}/0/0/0?x=0&y=0&w=8&h=8&format=png").status_code == 400
    assert alice.get(f"/tile/{image_id}/0/5/0?x=0&y=0&w=8&h=8").status_code == 400
    assert alice.get(f"/tile/{image_id}/0/0/0?x=0&y=0&w=8&h=8&resolution=9").status_code \
        == 400
    assert alice.get(f"/tile/{image_id}/0/0/0?x=390&y=0&w=20&h=8").status_code == 400
    assert TestClient(api.client.app).get(f"/tile/{image_id}/0/0/0").status_code == 401
    assert web_login(api, "bob").get(f"/tile/{image_id}/0/0/0?w=8&h=8").status_code == 404
