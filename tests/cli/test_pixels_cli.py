"""Pixels through a running server from Python and the CLI: an image created from an
array, its pyramid built by the server's workers, exports, and the jobs listing."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
import zarr

from pixelvault.client import connect
from pixelvault.errors import PendingError
from pixelvault.formats.ngff_write import halve
from tests.conftest import Env
from tests.server.test_lifecycle import free_port


@pytest.fixture
def server(initialised: Env) -> Iterator[Env]:
    initialised.set(server_port=str(free_port()), pixels_pyramid_threshold=str(300 * 300))
    initialised.vars["PIXELVAULT_ROOT_PASSWORD"] = "root-secret-1"
    initialised.cli("admin", "start", check=True)
    yield initialised
    initialised.cli("admin", "stop")


def test_an_array_becomes_an_image_with_a_pyramid(server: Env, tmp_path: Path) -> None:
    env = server
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    rng = np.random.default_rng(5)
    data = rng.integers(0, 4095, (3, 700, 520), dtype=np.uint16)
    with connect(url, "root", "root-secret-1") as conn:
        image_id = conn.create_image(data, dims="CYX", name="from numpy",
                                     channel_names=["DAPI", "GFP", "RFP"],
                                     physical_size_x=0.1, physical_size_y=0.1)
        np.testing.assert_array_equal(conn.pixels(image_id, c=2), data[2])
        np.testing.assert_array_equal(conn.pixels(image_id, c=1, x=10, y=20, w=5, h=4),
                                      data[1, 20:24, 10:15])
        deadline = time.monotonic() + 60
        while True:  # the server's workers build the pyramid meanwhile
            try:
                low: Any = conn.pixels(image_id, c=0, level=1)
                break
            except PendingError as pending:
                assert pending.retry_after >= 1
                assert time.monotonic() < deadline, "the pyramid was never built"
                time.sleep(0.2)
        np.testing.assert_array_equal(low, halve(data[0]))
        assert conn.pixels_info(image_id)["levels_ready"] == 3
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    listed = json.loads(env.cli("jobs", "list", "--all", "-o", "json", check=True).stdout)
    assert [(j["kind"], j["image"], j["state"]) for j in listed] == [
        ("pyramid", image_id, "done")]
    late = env.cli("jobs", "cancel", str(listed[0]["id"]))  # nothing left to stop
    assert late.returncode == 64 and "is done already" in late.stderr, late.stderr

    tiff = tmp_path / "made.ome.tif"
    done = env.cli("export", str(image_id), "--format", "ome-tiff", "-o", str(tiff),
                   check=True)
    assert "wrote image" in done.stdout
    with tifffile.TiffFile(tiff) as tif:
        assert len(tif.series[0].levels) == 3
        np.testing.assert_array_equal(tif.series[0].asarray().reshape(data.shape), data)
    again = env.cli("export", f"Image:{image_id}", "-o", str(tiff))
    assert again.returncode == 64 and "--force" in again.stderr
    folder = tmp_path / "made.ome.zarr"
    env.cli("export", str(image_id), "--format", "ome-zarr", "-o", str(folder), check=True)
    group: Any = zarr.open_group(str(folder), mode="r")
    np.testing.assert_array_equal(group["1"][0, :, 0], np.stack([halve(p) for p in data]))
    local = tmp_path / "local.ome.tif"
    env.cli("export", str(image_id), "--local", "-o", str(local), check=True)
    assert local.stat().st_size > data.nbytes // 4
    failed = env.cli("export", "999999", "-o", str(tmp_path / "none.tif"))
    assert failed.returncode == 66
    jobs = json.loads(env.cli("admin", "pyramids", "list", "-o", "json", check=True).stdout)
    assert [j["state"] for j in jobs] == ["done"]


def test_render_settings_from_the_command_line(server: Env) -> None:
    env = server
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    data = np.zeros((2, 40, 30), np.uint16)
    data[0, :, :15] = 1000
    data[1, :, 15:] = 3000
    with connect(url, "root", "root-secret-1") as conn:
        first = conn.create_image(data, dims="CYX", name="a", channel_names=["x", "y"])
        second = conn.create_image(data, dims="CYX", name="b")
        before = conn.thumbnail(first)
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    shown = json.loads(env.cli("render", "show", str(first), "-o", "json", check=True).stdout)
    assert [(c["start"], c["end"]) for c in shown["channels"]] == [(0.0, 1000.0),
                                                                 (0.0, 3000.0)]
    done = json.loads(env.cli("render", "set", str(first), "--c", "2|0:1500$FF00FF",
                              "--model", "color", "--invert", "2", "-o", "json",
                              check=True).stdout)
    assert [c["active"] for c in done["channels"]] == [False, True]
    assert done["channels"][1] | {} == {"active": True, "start": 0.0, "end": 1500.0,
                                        "color": "FF00FF", "lut": "", "inverted": True}
    bad = env.cli("render", "set", str(first), "--c", "3")
    assert bad.returncode == 64 and "outside 1..2" in bad.stderr
    env.cli("render", "copy", str(first), str(second), check=True)
    copied = json.loads(env.cli("render", "show", str(second), "-o", "json",
                                check=True).stdout)
    assert copied["channels"][1]["color"] == "FF00FF"
    with connect(url, "root", "root-secret-1") as conn:
        assert conn.thumbnail(first) != before  # the thumbnail followed the settings
    reset = json.loads(env.cli("render", "reset", str(first), "-o", "json",
                               check=True).stdout)
    assert all(c["active"] for c in reset["channels"])
    assert "image" in env.cli("render", "show", str(first), check=True).stdout
