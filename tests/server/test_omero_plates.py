"""A plate seen the way OMERO's clients browse one: screens, plates, runs and wells through
OMERO.web's JSON API (QuPath's requests, some without the trailing slash), the plate grid,
iviewer's well images and imgData's well, each filtered by who may see it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pixelvault.services import imports
from tests.conftest import Env
from tests.server.conftest import Api, World, serving
from tests.server.omero_clients import Browser

OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06#"
SAMPLE = Path(__file__).parents[1] / "data" / "ome-model" / \
    "one-screen-one-plate-four-wells.ome.xml"


@pytest.fixture
def api(initialised: Env) -> Iterator[Api]:
    initialised.set(pixels_pyramid_workers="0")
    with serving(initialised) as made:
        yield made


def _imported(api: Api) -> list[int]:
    from pixelvault.catalog.principals import actor_for

    with api.vault.catalog.session() as session:
        actor = actor_for(session, "alice")
    assert actor is not None
    outcome = imports.run(api.vault, actor, imports.plan([SAMPLE]), imports.ImportOptions())
    assert not outcome.failed
    return outcome.imported[0].image_ids


def test_browsing_a_plate(api: Api, world: World) -> None:
    images = _imported(api)
    browser = Browser(api, "alice")
    screens = browser.json("/api/v0/m/screens/?childCount=true&normalize=true")
    [screen] = screens["data"]
    assert screen["@type"] == OME + "Screen" and screen["omero:childCount"] == 1
    assert screens["experimenters"][0]["UserName"] == "alice"
    plates = browser.json(f"/api/v0/m/screens/{screen['@id']}/plates/?normalize=true")
    [plate] = plates["data"]
    assert (plate["Rows"], plate["Columns"], plate["RowNamingConvention"]) == (3, 3, "letter")
    assert plate["url:wells"].endswith(f"/m/plates/{plate['@id']}/wells/")
    one = browser.json(f"/api/v0/m/plates/{plate['@id']}/")["data"]
    assert one["omero:wellsampleIndex"] == [0, 4] and len(one["url:wellsampleindex_wells"]) == 5
    assert browser.json("/api/v0/m/plates/?orphaned=true")["meta"]["totalCount"] == 0
    # wells: column by column, each with its fields and their images
    wells = browser.json(f"/api/v0/m/plates/{plate['@id']}/wells/")["data"]
    assert [(w["Row"], w["Column"]) for w in wells] == [(1, 1), (2, 1), (1, 2), (2, 2)]
    assert [len(w["WellSamples"]) for w in wells] == [2, 5, 2, 2]
    first = wells[0]["WellSamples"][0]
    assert first["@type"] == OME + "WellSample" and first["Image"]["@id"] in images
    assert first["PlateAcquisition"]["@type"] == OME + "PlateAcquisition"
    at_four = browser.json(f"/api/v0/m/plates/{plate['@id']}/wellsampleindex/4/wells/")
    assert at_four["meta"]["totalCount"] == 1 and len(at_four["data"][0]["WellSamples"]) == 1
    # runs: QuPath asks for one without the trailing slash
    runs = browser.json(f"/api/v0/m/plates/{plate['@id']}/plateacquisitions/")["data"]
    assert len(runs) == 2 and isinstance(runs[0]["StartTime"], int)
    run = browser.json(f"/api/v0/m/plateacquisitions/{runs[0]['@id']}")["data"]
    assert run["omero:wellsampleIndex"] == [0, 0]
    in_run = browser.json(f"/api/v0/m/plateacquisitions/{runs[0]['@id']}/wells/")
    assert in_run["meta"]["totalCount"] == 4
    assert all(len(w["WellSamples"]) == 1 for w in in_run["data"])
    well = browser.json(f"/api/v0/m/wells/{wells[1]['@id']}")["data"]
    assert len(well["WellSamples"]) == 5 and "Pixels" in well["WellSamples"][0]["Image"]
    assert browser.json(f"/api/v0/m/wells/{wells[1]['@id']}/plates/")["data"][0][
        "@id"] == plate["@id"]
    # OMERO.web's plate grid: 8x12 by default, letters and numbers, null where no well
    grid = browser.json(f"/webgateway/plate/{plate['@id']}/")
    assert len(grid["grid"]) == 8 and len(grid["grid"][0]) == 12
    assert grid["rowlabels"][:3] == ["A", "B", "C"] and grid["collabels"][:3] == [1, 2, 3]
    cell = grid["grid"][1][1]
    assert cell["wellId"] == wells[0]["@id"] and cell["field"] == 0
    assert cell["thumb_url"] == f"/webgateway/render_thumbnail/{cell['id']}/"
    assert grid["grid"][0][0] is None and grid["image_sizes"][0]["x"] == 6
    trimmed = browser.json(f"/webgateway/plate/{plate['@id']}/4/?layout=trim&size=64")
    assert len(trimmed["grid"]) == 3 and trimmed["grid"][2][1]["thumb_url"].endswith("/64/")
    assert trimmed["grid"][1][1] is None  # B2 has two fields only
    # iviewer's well browser and imgData's parent well
    listed = browser.json(f"/iviewer/well_images/?id={wells[1]['@id']}&offset=1&limit=2")
    assert listed["meta"]["totalCount"] == 5 and len(listed["data"]) == 2
    assert browser.json(f"/webgateway/imgData/{cell['id']}/")["meta"]["wellId"] == \
        wells[0]["@id"]
    # OMERO.web refuses to delete a plate or a well through this API
    assert browser.client.delete(f"/api/v0/m/plates/{plate['@id']}/").status_code == 405


def test_a_plate_is_visible_only_to_who_may_read_it(api: Api, world: World) -> None:
    _imported(api)
    alice = Browser(api, "alice")
    plate: dict[str, Any] = alice.json("/api/v0/m/plates/")["data"][0]
    outsider = Browser(api, "xavier")
    for url in ("/api/v0/m/screens/", "/api/v0/m/plates/", "/api/v0/m/wells/"):
        assert outsider.json(url)["data"] == []
    for url in (f"/api/v0/m/plates/{plate['@id']}/", f"/webgateway/plate/{plate['@id']}/"):
        assert outsider.get(url).status_code == 404
    assert outsider.json(f"/api/v0/m/plates/{plate['@id']}/wells/")["data"] == []
