"""One image's channel names and colours, the same in all four places a client reads
them: the metadata route, OMERO.web's JSON API (as omero-marshal encodes channels),
webgateway's imgData and the OME-Zarr view's ``omero`` block."""

from pathlib import Path

import numpy as np

from pixelvault.services import imports
from tests.formats.lif_files import write_lif
from tests.server.conftest import ROOT_PASSWORD, Api

OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06#"


def test_channel_names_and_colours_agree_everywhere(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "cells.lif"
    data = np.arange(3 * 2 * 16 * 20, dtype=np.uint16).reshape(1, 3, 2, 16, 20)
    # Leica's LUTs: Blue, Green, Red; emission 500, 550, 600 nm
    write_lif(path, [data], channels=[["DAPI", "GFP", "mCherry"]])
    (result,) = imports.run(api.vault, api.vault.local_admin(), imports.plan([path]),
                            imports.ImportOptions()).imported
    (image_id,) = result.image_ids
    root = api.login("root", ROOT_PASSWORD)
    names = ["DAPI", "GFP", "mCherry"]
    colours = ["0000FF", "00FF00", "FF0000"]

    metadata = api.client.get(f"/api/v1/images/{image_id}/metadata", headers=root).json()
    assert [c["name"] for c in metadata["channels"]] == names
    assert [c["color"] for c in metadata["channels"]] == colours

    web = api.client.get(f"/api/v0/m/images/{image_id}/", headers=root).json()["data"]
    channels = web["Pixels"]["Channels"]
    assert [c["@type"] for c in channels] == [OME + "Channel"] * 3
    assert [c["Name"] for c in channels] == names
    assert [f"{c['Red']:02X}{c['Green']:02X}{c['Blue']:02X}" for c in channels] == colours
    assert [c["Alpha"] for c in channels] == [255] * 3
    assert [c["EmissionWavelength"] for c in channels] == [
        {"@type": "TBD#LengthI", "Unit": "NANOMETER", "Symbol": "nm", "Value": value}
        for value in (500.0, 550.0, 600.0)]
    assert all(c["omero:LogicalChannelId"] == c["@id"] and isinstance(c["@id"], int)
               for c in channels)
    assert all(c["omero:details"]["owner"]["UserName"] == "root" for c in channels)
    listed = api.client.get("/api/v0/m/images/", headers=root).json()["data"]
    assert "Channels" not in listed[0]["Pixels"]  # as OMERO.web: only for one image

    img_data = api.client.get(f"/webgateway/imgData/{image_id}/", headers=root).json()
    assert [c["label"] for c in img_data["channels"]] == names
    assert [c["color"] for c in img_data["channels"]] == colours

    zarr = api.client.get(f"/zarr/image/{image_id}.zarr/zarr.json", headers=root).json()
    omero = zarr["attributes"]["ome"]["omero"]
    assert [c["label"] for c in omero["channels"]] == names
    assert [c["color"] for c in omero["channels"]] == colours
