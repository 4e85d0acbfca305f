"""The share holding the repository vanishes under a running server: deletes that would
remove bytes change nothing and answer 503, reads say the repository is unavailable
(not that a file is missing), and all is as before once the share is back."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy import select

from pixelvault.catalog.models import OriginalFile
from tests.formats.samples import ome_tiff
from tests.server.conftest import ROOT_PASSWORD, Api
from tests.server.test_api_imported import import_as
from tests.server.test_api_pixels import make_image

UNAVAILABLE = "the repository is unavailable"


@contextmanager
def dismounted(api: Api) -> Iterator[None]:
    """The share goes away, leaving its empty mount point, then comes back."""
    root = api.vault.layout.root
    parked = root.with_name(root.name + "-parked")
    root.rename(parked)
    root.mkdir()
    try:
        yield
    finally:
        assert os.listdir(root) == [], "something was written into the bare mount point"
        root.rmdir()
        parked.rename(root)


def test_a_vanished_repository_refuses_deletes_and_reads_with_503(api: Api,
                                                                  tmp_path: Path) -> None:
    root = api.login("root", ROOT_PASSWORD)
    me = api.client.get("/api/v1/whoami", headers=root).json()
    project = api.client.post("/api/v1/projects", headers=root, json={"name": "p"}).json()["id"]
    attached = api.client.post(f"/api/v1/projects/{project}/attachments?name=notes.txt",
                               headers=root, content=b"notes")
    assert attached.status_code == 201, attached.text
    attachment, attachment_file = attached.json()["id"], attached.json()["file"]["id"]
    imported = import_as(api, "root", me["group_id"], ome_tiff(tmp_path).path)
    [imported_image] = imported.image_ids
    made = make_image(api, root, np.arange(2 * 8 * 8, dtype=np.uint16).reshape(2, 8, 8))
    empty = api.client.post("/api/v1/datasets", headers=root, json={"name": "d"}).json()["id"]
    with api.vault.catalog.session() as session:
        original = session.scalar(select(OriginalFile.id).where(
            OriginalFile.store == "ManagedRepository", OriginalFile.name == "cells.ome.tif"))

    reads = {"attachment": f"/api/v1/files/{attachment_file}",
             "original file": f"/api/v1/files/{original}",
             "created pixels": f"/api/v1/images/{made}/pixels",
             "imported pixels": f"/api/v1/images/{imported_image}/pixels?z=0&t=0",
             "rendered": f"/api/v1/images/{imported_image}/render?format=png",
             "thumbnail": f"/webgateway/render_thumbnail/{made}/"}
    deletes = {"imported image": f"/api/v1/filesets/{imported.fileset_id}",
               "created image": f"/api/v1/images/{made}",
               "attachment": f"/api/v1/annotations/{attachment}",
               "project with an attachment": f"/api/v1/projects/{project}"}
    before = {name: api.client.get(path, headers=root) for name, path in reads.items()}
    assert {name: a.status_code for name, a in before.items()} == dict.fromkeys(reads, 200)

    with dismounted(api):
        for name, path in deletes.items():
            answer = api.client.delete(path, headers=root)
            assert answer.status_code == 503, (name, answer.text)
            assert answer.json()["message"].startswith(
                f"{UNAVAILABLE}, nothing was deleted: "), answer.text
            assert "mount it" in answer.json()["message"]
        for name, path in reads.items():
            answer = api.client.get(path, headers=root)
            assert answer.status_code == 503, (name, answer.text)
            assert answer.json()["message"].startswith(UNAVAILABLE), (name, answer.text)
        # What only the catalog holds still changes.
        assert api.client.delete(f"/api/v1/datasets/{empty}", headers=root).status_code == 204

    for name, path in reads.items():  # nothing was lost
        answer = api.client.get(path, headers=root)
        assert answer.status_code == 200 and answer.content == before[name].content, name
    for name, path in deletes.items():
        assert api.client.delete(path, headers=root).status_code == 204, name
