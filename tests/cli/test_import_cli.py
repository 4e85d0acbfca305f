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

    done = env.cli("import", str(source), "--dataset", "Plate 1", "-o", "json", check=True)
    result = json.loads(done.stdout)
    assert len(result["imported"]) == 2 and result["failed"] == result["skipped"] == []
    assert all(r["timings"]["upload"] >= 0 for r in result["imported"])
    table = env.cli("import", str(source / "photo.png"), "--skip", "minmax", check=True)
    assert "imported 1 filesets" in table.stdout


def test_skipped_and_refused(initialised: Env, tmp_path: Path) -> None:
    env = initialised
    png_rgb(tmp_path)
    (tmp_path / "readme.txt").write_text("not an image")
    partial = env.cli("import", str(tmp_path), "-o", "json")
    assert partial.returncode == 65
    assert "skipped" in partial.stderr and "readme.txt" in partial.stderr
    assert len(json.loads(partial.stdout)["imported"]) == 1
    for args, says in ((["--skip", "checksum"], "always verified"),
                       (["--skip", "everything"], "--skip takes"),
                       (["--checksum-algorithm", "SHA-9"], "unknown checksum algorithm"),
                       (["--user", "nobody"], "no user 'nobody'"),
                       (["--dataset", "424242"], "no dataset")):
        refused = env.cli("import", str(tmp_path / "photo.png"), *args)
        assert refused.returncode != 0 and says in refused.stderr, (args, refused.stderr)
    missing = env.cli("import", str(tmp_path / "nope.tif"))
    assert missing.returncode == 65 and "no such file" in missing.stderr
