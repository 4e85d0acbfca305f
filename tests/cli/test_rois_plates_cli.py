"""`pixelvault roi`, `screen` and `plate` against a real server: a user lists, exports,
imports and removes an image's ROIs, browses and deletes a plate; a bad or oversized
file is refused with a message and a failing status."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Env
from tests.server.test_lifecycle import free_port

SAMPLE = Path(__file__).parents[1] / "data" / "ome-model" / "ROI.ome.xml"


@pytest.fixture
def running(sqlite_env: Env) -> Iterator[Env]:
    """One catalog is enough here: the commands only speak HTTP (the routes behind them
    are tested on both catalogs)."""
    env = sqlite_env
    env.cli("admin", "init", check=True)
    env.set(server_port=str(free_port()))
    env.vars["PIXELVAULT_ROOT_PASSWORD"] = "root-secret-1"
    env.cli("admin", "start", check=True)
    yield env
    env.cli("admin", "stop")


def test_roi_commands(running: Env) -> None:
    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    imported = json.loads(env.cli("import", str(SAMPLE), "--output", "json",
                                  check=True).stdout)
    image = imported["imported"][0]["images"][0]
    listed = json.loads(env.cli("roi", "list", str(image), "-o", "json", check=True).stdout)
    assert len(listed) == 5
    table = env.cli("roi", "list", f"Image:{image}", check=True).stdout
    assert "5 ROI(s)" in table and "Mask" in table
    out = env.home / "shapes.geojson"
    env.cli("roi", "export", str(image), "-o", str(out), check=True)
    assert len(json.loads(out.read_text())["features"]) == 5
    again = env.cli("roi", "export", str(image), "-o", str(out))
    assert again.returncode != 0 and "exists" in again.stderr
    ids = [str(r["id"]) for r in listed]
    assert "removed 5 ROI(s)" in env.cli("roi", "delete", *ids, check=True).stdout
    added = env.cli("roi", "import", str(image), str(out), check=True).stdout
    assert re.search(r"added 5 ROI\(s\), 7 shape\(s\)", added)
    # a bad file: refused whole, with what is wrong and a failing status
    bad = env.home / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"geometry": {"type": "Circle"}}]}')
    refused = env.cli("roi", "import", str(image), str(bad))
    assert refused.returncode != 0 and "geometry type 'Circle'" in refused.stderr
    huge = env.home / "huge.geojson"
    with huge.open("wb") as handle:
        handle.truncate((1 << 30) + 1)  # sparse: nothing is written or sent
    refused = env.cli("roi", "import", str(image), str(huge))
    assert refused.returncode != 0 and "at most 1024 MiB" in refused.stderr
    assert len(json.loads(env.cli("roi", "list", str(image), "-o", "json",
                                  check=True).stdout)) == 5


def test_screen_and_plate_commands(running: Env) -> None:
    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    sample = SAMPLE.with_name("one-screen-one-plate-four-wells.ome.xml")
    env.cli("import", str(sample), check=True)
    [screen] = json.loads(env.cli("screen", "list", "-o", "json", check=True).stdout)
    assert screen["omero:childCount"] == 1
    assert "1 screen(s)" in env.cli("screen", "list", check=True).stdout
    [plate] = json.loads(env.cli("plate", "list", "--screen", str(screen["@id"]), "-o",
                                 "json", check=True).stdout)
    shown = env.cli("plate", "show", str(plate["@id"]), check=True).stdout
    assert "4 well(s), 2 run(s)" in shown and "C2" in shown
    detail = json.loads(env.cli("plate", "show", str(plate["@id"]), "-o", "json",
                                check=True).stdout)
    assert sum(len(w["WellSamples"]) for w in detail["wells"]) == 11
    missing = env.cli("plate", "show", "999999")
    assert missing.returncode != 0 and "no plate with id 999999" in missing.stderr
    gone = env.cli("delete", f"Plate:{plate['@id']}")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(env.cli("plate", "list", "-o", "json", check=True).stdout) == []
