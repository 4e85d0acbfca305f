"""Every image as OME-Zarr 0.5 over real HTTP: zarr-python opens it through fsspec,
ome-zarr-models validates it, ome-zarr-py and napari's OME-Zarr reader read it;
chunks come from a pyramid as stored, or from the originals on the fly."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import tifffile
import zarr

from pixelvault.formats.ngff_write import halve
from tests.conftest import Env
from tests.server.test_lifecycle import free_port


@pytest.fixture
def server(initialised: Env, tmp_path: Path) -> Iterator[tuple[Env, str]]:
    env = initialised
    # the public user is looked up per request: it may be made once the server runs
    env.set(server_port=str(free_port()), pixels_pyramid_threshold=str(300 * 300),
            server_public_user="pub")
    env.vars["PIXELVAULT_ROOT_PASSWORD"] = "root-secret-1"
    env.cli("admin", "start", check=True)
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    env.cli("group", "add", "web", "--type", "read-only", check=True)
    env.cli("user", "add", "pub", "Public", "Viewer", "--group-name", "web", "-P",
            "pub-secret-1", check=True)
    env.cli("logout", check=True)
    yield env, url
    env.cli("admin", "stop")


def token(url: str, user: str, password: str) -> str:
    answer = httpx.post(f"{url}/api/v1/login", json={"username": user, "password": password})
    found: str = answer.json()["token"]
    return found


def test_images_as_ome_zarr_over_http(server: tuple[Env, str], tmp_path: Path) -> None:
    from ome_zarr_models.v05.image import Image as OmeZarrImage

    env, url = server
    tmp_path = tmp_path / "images"
    tmp_path.mkdir()
    rng = np.random.default_rng(4)
    small = rng.integers(0, 4000, (2, 3, 70, 90), dtype=np.uint16)  # c z y x
    tifffile.imwrite(tmp_path / "small.ome.tif", small, ome=True,
                     metadata={"axes": "CZYX", "Channel": {"Name": ["DAPI", "GFP"]}})
    large = rng.integers(0, 250, (700, 600), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "large.ome.tif", large, ome=True)
    small_id, large_id = (json.loads(env.cli(
        "import", str(tmp_path / name), "--local", "--user", "pub", "-o", "json",
        check=True).stdout)["imported"][0]["images"][0]
        for name in ("small.ome.tif", "large.ome.tif"))
    headers = {"Authorization": f"Bearer {token(url, 'root', 'root-secret-1')}"}

    store = zarr.storage.FsspecStore.from_url(
        f"{url}/zarr/image/{small_id}.zarr", read_only=True,
        storage_options={"headers": headers})
    group: Any = zarr.open_group(store, mode="r")
    OmeZarrImage.from_zarr(group)  # valid OME-Zarr 0.5
    np.testing.assert_array_equal(group["0"][0], small)
    ome = group.attrs["ome"]
    assert [c["label"] for c in ome["omero"]["channels"]] == ["DAPI", "GFP"]
    assert [a["name"] for a in ome["multiscales"][0]["axes"]] == ["t", "c", "z", "y", "x"]

    # The large image: level 0 from the original now, every level once its pyramid is built.
    deadline = time.monotonic() + 60
    while httpx.get(f"{url}/api/v1/images/{large_id}/pixels/info",
                    headers=headers).json()["levels_ready"] < 3:
        assert time.monotonic() < deadline, "the pyramid was never built"
        time.sleep(0.2)
    store = zarr.storage.FsspecStore.from_url(
        f"{url}/zarr/image/{large_id}.zarr", read_only=True,
        storage_options={"headers": headers})
    group = zarr.open_group(store, mode="r")
    np.testing.assert_array_equal(group["0"][0, 0, 0], large)
    np.testing.assert_array_equal(group["1"][0, 0, 0], halve(large))
    assert len(group.attrs["ome"]["multiscales"][0]["datasets"]) == 3

    # ome-zarr-py, which napari's OME-Zarr reader uses, reads it as a visitor (public user).
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    location = parse_url(f"{url}/zarr/image/{small_id}.zarr")
    assert location is not None
    nodes = list(Reader(location)())
    assert np.asarray(nodes[0].data[0]).shape == (1, 2, 3, 70, 90)

    # napari's own plugin (napari-ome-zarr): one layer per channel, named and windowed.
    from napari_ome_zarr import napari_get_reader

    read = napari_get_reader(f"{url}/zarr/image/{small_id}.zarr")
    assert read is not None
    [(levels, layer, kind)] = read()
    assert kind == "image" and layer["channel_axis"] == 1
    assert [name.split(": ")[-1] for name in layer["name"]] == ["DAPI", "GFP"]
    assert len(layer["contrast_limits"]) == 2
    np.testing.assert_array_equal(np.asarray(levels[0][0]), small)

    # Caching and permissions.
    first = httpx.get(f"{url}/zarr/image/{small_id}.zarr/0/c/0/1/2/0/0", headers=headers)
    assert first.status_code == 200 and first.headers["etag"]
    again = httpx.get(f"{url}/zarr/image/{small_id}.zarr/0/c/0/1/2/0/0",
                      headers={**headers, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert httpx.get(f"{url}/zarr/image/{small_id}.zarr/0/c/0/5/0/0/0",
                     headers=headers).status_code == 404  # outside: a fill chunk
    assert httpx.get(f"{url}/zarr/image/{small_id}.zarr/7/zarr.json",
                     headers=headers).status_code == 404
    assert httpx.get(f"{url}/zarr/image/999999.zarr/zarr.json").status_code == 404


def test_a_plate_as_ome_zarr_over_http(server: tuple[Env, str], tmp_path: Path) -> None:
    """An OME-Zarr 0.5 plate imported, then served back in the plate layout: ome-zarr-models
    validates it and zarr-python reads every field's pixels as they were."""
    from ome_zarr_models.v05.hcs import HCS

    from tests.formats.samples import ome_zarr_plate

    env, url = server
    sample = ome_zarr_plate("0.5")(tmp_path)
    env.cli("import", str(sample.path), "--local", "--user", "pub", check=True)
    headers = {"Authorization": f"Bearer {token(url, 'root', 'root-secret-1')}"}
    [plate] = httpx.get(f"{url}/api/v0/m/plates/", headers=headers).json()["data"]
    store = zarr.storage.FsspecStore.from_url(
        f"{url}/zarr/plate/{plate['@id']}.zarr", read_only=True,
        storage_options={"headers": headers})
    group: Any = zarr.open_group(store, mode="r")
    HCS.from_zarr(group)  # a valid OME-Zarr 0.5 plate
    described = group.attrs["ome"]["plate"]
    assert [w["path"] for w in described["wells"]] == ["B/3", "B/4"]
    assert described["field_count"] == 2
    assert group["B/3"].attrs["ome"]["well"]["images"] == [{"path": "0"}, {"path": "1"}]
    for path, truth in zip(("B/3/0", "B/3/1", "B/4/0"), sample.truth, strict=True):
        np.testing.assert_array_equal(group[f"{path}/0"][...], truth)
    missing = httpx.get(f"{url}/zarr/plate/{plate['@id']}.zarr/A/1/zarr.json", headers=headers)
    assert missing.status_code == 404
    # the same plate exported to a directory, through the server
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    out = tmp_path / "exported.ome.zarr"
    env.cli("export", f"Plate:{plate['@id']}", "--format", "ome-zarr", "-o", str(out),
            check=True)
    exported: Any = zarr.open_group(str(out), mode="r")
    HCS.from_zarr(exported)
    for path, truth in zip(("B/3/0", "B/3/1", "B/4/0"), sample.truth, strict=True):
        np.testing.assert_array_equal(exported[f"{path}/0"][...], truth)
    refused = env.cli("export", f"Plate:{plate['@id']}", "-o", str(tmp_path / "x.tif"))
    assert refused.returncode != 0 and "--format ome-zarr" in refused.stderr
