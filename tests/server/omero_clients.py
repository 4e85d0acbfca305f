"""What the OMERO client test suites share: a browser-like session (cookies, the CSRF
header on every POST, jQuery's ``_=`` cache-buster on every GET, as both OMERO.iviewer
and OMERO.figure send it) and an image with what those viewers show: two channels,
three time points, calibrated pixels."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from fastapi.testclient import TestClient

from tests.server.conftest import Api
from tests.server.test_api_omero_web import web_login

_TICKS = itertools.count(1_700_000_000_000)


class Browser:
    """A logged-in browser tab of an OMERO web app."""

    def __init__(self, api: Api, username: str, password: str | None = None) -> None:
        self.client: TestClient = web_login(api, username, *(password,) if password else ())

    def get(self, url: str, **kwargs: Any) -> Any:
        """jQuery's ``$.ajaxSetup({cache: false})``: every GET carries ``_=<ms>``."""
        joiner = "&" if "?" in url else "?"
        return self.client.get(f"{url}{joiner}_={next(_TICKS)}", **kwargs)

    def json(self, url: str) -> Any:
        answer = self.get(url)
        assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:300]}"
        return answer.json()

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, **kwargs)


def timelapse(tmp_path: Path, name: str = "timelapse.ome.tif") -> Path:
    """Two 64x48 uint16 channels (DAPI, GFP) over three time points, 0.1625 µm pixels,
    1.5 µm z steps over two planes, 2.5 s between time points."""
    data = np.zeros((3, 2, 2, 48, 64), np.uint16)  # T, Z, C, Y, X
    data[:, :, 0, :, :32] = 1000
    data[:, :, 1, :, 32:] = 3000
    for t in range(3):
        data[t, :, :, 0, 0] = 10 + t
    path = tmp_path / name
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": "TZCYX", "PhysicalSizeX": 0.1625, "PhysicalSizeY": 0.1625,
        "PhysicalSizeZ": 1.5, "TimeIncrement": 2.5,
        "Channel": {"Name": ["DAPI", "GFP"], "Color": [65535, 16711935]}})
    return path
