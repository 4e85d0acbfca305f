"""Search from the command line and the Python client, with the server's own indexer."""

import json
import time
from pathlib import Path

import httpx

from pixelvault.client import connect
from tests.conftest import Env
from tests.formats.samples import ome_tiff


def test_search_an_imported_image_by_its_fields(running: Env, tmp_path: Path) -> None:
    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    source = tmp_path / "exp42" / "GFP-H2B_1"
    source.mkdir(parents=True)
    ome_tiff(source)
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    made = json.loads(env.cli("import", str(source), "-o", "json", check=True).stdout)
    image_id = made["imported"][0]["images"][0]
    env.cli("annotate", f"Image:{image_id}", "--tag", "prophase", check=True)
    env.cli("annotate", f"Image:{image_id}", "--map", "Cell line=U2OS", check=True)
    deadline = time.monotonic() + 30
    with connect(url, "root", "root-secret-1") as conn:
        while True:  # the server's indexer catches up by itself
            hits = conn.search("prophase AND cell_line:u2os")
            if hits:
                break
            assert time.monotonic() < deadline, "the index never caught up"
            time.sleep(0.2)
        assert [(h["type"], h["id"]) for h in hits] == [("image", image_id)]
        for query in ("channel:gfp", "path:exp42", "file:cells", "h2b", "mcherry"):
            assert ("image", image_id) in [(h["type"], h["id"]) for h in conn.search(
                query, types=["image"])], query
    found = json.loads(env.cli("search", "prophase", "--type", "image", "-o", "json",
                               check=True).stdout)
    assert found[0]["id"] == image_id and {"type", "id", "name", "score"} <= set(found[0])
    table = env.cli("search", "prophase", check=True).stdout
    assert "cells.ome.tif" in table
    bad = env.cli("search", '"open')
    assert bad.returncode == 64 and "closing quote" in bad.stderr
    health = httpx.get(f"{url}/health").json()
    assert health["search"]["state"] == "ok" and health["search"]["lag"] == 0
    assert "search" in env.cli("admin", "status", check=True).stdout
    status = json.loads(env.cli("admin", "search", "status", "-o", "json", check=True).stdout)
    assert status["state"] == "ok" and status["documents"] >= 3
    rebuilt = json.loads(env.cli("admin", "reindex", "-o", "json", check=True).stdout)
    assert rebuilt["documents_written"] == status["documents"]
    assert json.loads(env.cli("search", "prophase", "-o", "json", check=True).stdout)
    refreshed = json.loads(env.cli("admin", "reindex", "--type", "image", "-o", "json",
                                   check=True).stdout)
    assert refreshed["documents_written"] == 1
