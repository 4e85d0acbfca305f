"""`pixelvault import` as a user runs it: dry run, real run, JSON, partial failures."""

import json
from pathlib import Path

from tests.conftest import Env
from tests.formats.samples import ome_tiff, png_rgb


def test_dry_run_then_import_into_a_named_dataset(initialised: Env, tmp_path: Path) -> None:
    env = initialised
    source = tmp_path / "plate"
    source.mkdir()
    ome_tiff(source)
    png_rgb(source)
    dry = env.cli("import", str(source), "--dry-run", check=True)
    assert "would import 2 filesets" in dry.stdout and "60x50x4x3x2" in dry.stdout
    planned = json.loads(env.cli("import", str(source), "--dry-run", "-o", "json",
                                 check=True).stdout)
    assert [len(f["images"]) for f in planned["filesets"]] == [1, 1]
    assert not list((env.home / "OMERO" / "ManagedRepository").iterdir())  # nothing written

    done = env.cli("import", str(source), "--dataset", "Plate 1", "-j", "2", "-o", "json",
                   check=True)
    result = json.loads(done.stdout)
    assert len(result["imported"]) == 2 and result["failed"] == result["skipped"] == []
    assert all(r["timings"]["upload"] >= 0 for r in result["imported"])
    table = env.cli("import", str(source / "photo.png"), "--skip", "minmax", check=True)
    assert "imported 1 filesets" in table.stdout
    # --skip checksum is OMERO's: sizes compared (File-Size-64), nothing hashed.
    sized = json.loads(env.cli("import", str(source / "photo.png"), "--skip", "checksum",
                               "-o", "json", check=True).stdout)
    listed = json.loads(env.cli("fs", "ls", str(sized["imported"][0]["fileset"]), "-o",
                                "json", check=True).stdout)
    size = (source / "photo.png").stat().st_size
    assert [(f["hasher"], f["hash"]) for f in listed] == [
        ("File-Size-64", size.to_bytes(8, "little").hex())]


def test_skipped_and_refused(initialised: Env, tmp_path: Path) -> None:
    env = initialised
    tmp_path = tmp_path / "images"
    tmp_path.mkdir()
    png_rgb(tmp_path)
    (tmp_path / "readme.txt").write_text("not an image")
    partial = env.cli("import", str(tmp_path), "-o", "json")
    assert len(json.loads(partial.stdout)["skipped"]) == 1
    assert partial.returncode == 65
    assert "skipped" in partial.stderr and "readme.txt" in partial.stderr
    assert len(json.loads(partial.stdout)["imported"]) == 1
    for args, says in ((["--skip", "checksum", "--checksum-algorithm", "MD5-128"],
                        "contradict"),
                       (["--skip", "everything"], "--skip takes"),
                       (["--checksum-algorithm", "SHA-9"], "unknown checksum algorithm"),
                       (["--user", "nobody"], "no user 'nobody'"),
                       (["--dataset", "424242"], "no dataset")):
        refused = env.cli("import", str(tmp_path / "photo.png"), *args)
        assert refused.returncode != 0 and says in refused.stderr, (args, refused.stderr)
    missing = env.cli("import", str(tmp_path / "nope.tif"))
    assert missing.returncode == 65 and "no such file" in missing.stderr


def test_import_then_see_and_delete_through_the_server(running: Env, tmp_path: Path) -> None:
    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    env.cli("group", "add", "lab", "--type", "read-only", check=True)
    env.cli("user", "add", "alice", "Alice", "Lab", "--group-name", "lab", "-P",
            "alice-secret-1", check=True)
    source = tmp_path / "images"
    source.mkdir()
    ome_tiff(source)
    (source / "notes.txt").write_text("not an image")
    refused = env.cli("import", str(source), "--user", "alice")
    assert refused.returncode == 64 and "--local" in refused.stderr
    # An administrator whose files the server sees imports them in place through it.
    spare = tmp_path / "spare"
    spare.mkdir()
    linked = png_rgb(spare).path
    moved = ome_tiff(spare).path
    done = json.loads(env.cli("import", str(linked), "--transfer", "ln_s", "-o", "json",
                              check=True).stdout)
    listed = json.loads(env.cli("fs", "ls", str(done["imported"][0]["fileset"]), "-o", "json",
                                check=True).stdout)
    assert (env.home / "OMERO" / listed[0]["path"]).resolve() == linked
    json.loads(env.cli("import", str(moved), "--transfer", "cp_rm", "-o", "json",
                       check=True).stdout)
    assert not moved.exists() and linked.exists()
    env.cli("login", "-s", url, "-u", "alice", "-w", "alice-secret-1", check=True)
    not_admin = env.cli("import", str(linked), "--transfer", "ln_s")
    assert not_admin.returncode == 65 and "administrators" in not_admin.stderr
    # Logged in, the files go through the server, as alice.
    uploaded = env.cli("import", str(source), "--dataset", "Day 1", "-o", "json")
    assert uploaded.returncode == 65 and "notes.txt" in uploaded.stderr
    made = json.loads(uploaded.stdout)
    (fileset,) = made["imported"]
    assert [s["path"] for s in made["skipped"]] == [str(source / "notes.txt")]
    datasets = json.loads(env.cli("dataset", "list", "-o", "json", check=True).stdout)
    assert [d["name"] for d in datasets["data"]] == ["Day 1"]
    assert json.loads(env.cli("jobs", "list", "-o", "json", check=True).stdout) == []
    assert "0 imports under way" in env.cli("jobs", "list", check=True).stdout
    images = json.loads(env.cli("image", "list", "-o", "json", check=True).stdout)
    assert [i["id"] for i in images["data"]] == fileset["images"]
    shown = json.loads(env.cli("image", "show", str(fileset["images"][0]), "-o", "json",
                               check=True).stdout)
    assert [shown["pixels"][f"size_{a}"] for a in "xyzct"] == [60, 50, 4, 3, 2]
    assert [c["name"] for c in shown["channels"]] == ["DAPI", "GFP", "mCherry"]
    assert shown["datasets"][0]["name"] == "Day 1"
    table = env.cli("image", "show", str(fileset["images"][0]), check=True).stdout
    assert "60x50x4x3x2" in table and "0.65 µm x 0.65 µm x 2 µm" in table and "mCherry" in table
    hidden = env.cli("image", "show", "999999")
    assert hidden.returncode == 66 and "no image with id 999999" in hidden.stderr
    stored = env.home / "OMERO" / "ManagedRepository" / fileset["directory"]
    assert stored.is_dir()
    refused = env.cli("delete", "Image")
    assert refused.returncode == 64 and "Image:ID" in refused.stderr
    env.cli("delete", f"Image:{fileset['images'][0]}", check=True)
    assert not stored.exists()
    gone = env.cli("delete", f"Fileset:{fileset['fileset']}")
    assert gone.returncode == 66 and "no fileset" in gone.stderr


def test_fs_commands(initialised: Env, tmp_path: Path) -> None:
    env = initialised
    source = tmp_path / "images"
    source.mkdir()
    ome_tiff(source)
    png_rgb(source)
    made = json.loads(env.cli("import", str(source), "-o", "json", check=True).stdout)
    ids = [r["fileset"] for r in made["imported"]]
    sets = json.loads(env.cli("fs", "sets", "--check", "-o", "json", check=True).stdout)
    assert [s["id"] for s in sets] == ids
    assert all(s["files"] == 1 and s["images"] == 1 and not s["problems"] for s in sets)
    assert json.loads(env.cli("fs", "sets", "--without-images", "-o", "json",
                              check=True).stdout) == []
    files = json.loads(env.cli("fs", "ls", str(ids[0]), "-o", "json", check=True).stdout)
    assert files[0]["client_path"] == str(source / "cells.ome.tif")
    assert "cells.ome.tif" in env.cli("fs", "ls", str(ids[0]), check=True).stdout
    times = json.loads(env.cli("fs", "importtime", str(ids[0]), "-o", "json",
                               check=True).stdout)
    assert set(times) >= {"upload", "metadata", "minmax", "catalog"}
    usage = json.loads(env.cli("fs", "usage", "--sum-by", "user", "-o", "json",
                               check=True).stdout)
    assert [u["key"] for u in usage] == ["root"] and usage[0]["files"] == 2
    assert usage[0]["bytes"] >= sum(s["bytes"] for s in sets)
    assert "ManagedRepository" in env.cli("fs", "usage", "-H", check=True).stdout
    assert env.cli("fs", "ls", "999").returncode == 66

    # A damaged file is found by --check, which exits 65 naming it.
    stored = env.home / "OMERO" / files[0]["path"]
    stored.chmod(0o644)
    data = bytearray(stored.read_bytes())
    data[-1] ^= 0xFF
    stored.write_bytes(bytes(data))
    checked = env.cli("fs", "sets", "--check", "-o", "json")
    assert checked.returncode == 65 and "do not match" in checked.stderr
    problems = [p for s in json.loads(checked.stdout) for p in s["problems"]]
    assert len(problems) == 1 and "cells.ome.tif" in problems[0]


def test_an_ome_zarr_through_the_server(running: Env, tmp_path: Path) -> None:
    from tests.formats.samples import ome_zarr

    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    env.cli("login", "-s", url, "-u", "root", "-w", "root-secret-1", check=True)
    source = tmp_path / "zarrs"
    source.mkdir()
    ome_zarr("0.4")(source)
    made = json.loads(env.cli("import", str(source), "-o", "json", check=True).stdout)
    (fileset,) = made["imported"]
    assert fileset["files"] > 10 and len(fileset["images"]) == 1
    image = json.loads(env.cli("image", "list", "-o", "json", check=True).stdout)["data"][0]
    assert image["name"] == "image-0.4.ome.zarr"


def test_a_server_killed_mid_upload_resumes_it_after_restart(running: Env,
                                                             tmp_path: Path) -> None:
    import os
    import signal
    import time

    from pixelvault.client import connect
    from pixelvault.repository.checksums import digest_bytes

    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    data = ome_tiff(tmp_path).path.read_bytes()
    announced = {"files": [{"client_path": "/data/cells.ome.tif", "size": len(data),
                            "checksum": digest_bytes("SHA1-160", data)}]}
    with connect(url, "root", "root-secret-1") as conn:
        upload = conn.request("POST", "/api/v1/imports", json=announced)
        abandoned = conn.request("POST", "/api/v1/imports", json=announced)
        conn.request("PUT", f"/api/v1/imports/{upload['id']}/files/0",
                     params={"offset": 0}, content=data[:1000])
    pid = int(env.settings().pid_file.read_text())
    os.kill(pid, signal.SIGKILL)  # kill -9 of the server mid-import
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    env.cli("admin", "start", check=True)
    with connect(url, "root", "root-secret-1") as conn:
        status = conn.import_status(upload["id"])
        assert status["files"][0]["received"] == 1000  # resumes where the disk copy ends
        conn.request("PUT", f"/api/v1/imports/{upload['id']}/files/0",
                     params={"offset": 1000}, content=data[1000:])
        done = conn.request("POST", f"/api/v1/imports/{upload['id']}/finish")
        assert len(done["images"]) == 1
    # The abandoned one has no images anyone sees, and `admin cleanse` removes it.
    listed = json.loads(env.cli("fs", "sets", "-o", "json", check=True).stdout)
    assert {s["id"]: s["state"] for s in listed} == {done["fileset"]: "ready",
                                                     abandoned["id"]: "importing"}
    env.cli("admin", "cleanse", "--older-than", "0", "--dry-run", check=True)
    assert len(json.loads(env.cli("fs", "sets", "-o", "json", check=True).stdout)) == 2
    env.cli("admin", "cleanse", "--older-than", "0", check=True)
    listed = json.loads(env.cli("fs", "sets", "-o", "json", check=True).stdout)
    assert [s["id"] for s in listed] == [done["fileset"]]
    with connect(url, "root", "root-secret-1") as conn:
        assert [j["id"] for j in conn.imports()] == []
