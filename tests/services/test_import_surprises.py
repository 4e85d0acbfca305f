"""A reader that raises something nobody expected (a library's plain exception) fails
its own file, with its name and a one-line reason; the other files are imported."""

import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelvault.services import imports
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env
from tests.formats.samples import png_rgb


def bomb_png(path: Path) -> Path:
    """A PNG declaring 20000 x 10000 pixels, which Pillow refuses to decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 10000, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


def test_the_command_imports_the_good_file_and_names_the_bad_one(initialised: Env,
                                                                 tmp_path: Path) -> None:
    good = png_rgb(tmp_path).path
    bad = bomb_png(tmp_path / "huge.png")
    done = initialised.cli("import", str(good), str(bad), "-o", "json")
    assert done.returncode == 65, done.stderr
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert len(result["imported"]) == 1
    (skipped,) = result["skipped"]
    assert skipped["path"].endswith("huge.png")
    assert skipped["reason"].startswith("huge.png: ")
    assert "decompression bomb" in skipped["reason"] and "\n" not in skipped["reason"]
    assert f"skipped {bad}: huge.png: " in done.stderr


@pytest.fixture
def vault(initialised: Env) -> Iterator[Vault]:
    opened = open_vault(initialised.settings())
    yield opened
    opened.close()


def test_a_reader_surprise_during_the_import_fails_that_fileset_alone(
        vault: Vault, tmp_path: Path) -> None:
    first = png_rgb(tmp_path).path
    other = tmp_path / "other"
    other.mkdir()
    second = png_rgb(other).path
    plan = imports.plan([first, second])
    assert len(plan.filesets) == 2
    # Between the plan and the import the first file becomes one its reader chokes on.
    bomb_png(first)
    os.utime(first, ns=(1, 1))
    outcome = imports.run(vault, vault.local_admin(), plan, imports.ImportOptions())
    assert [f.fileset.files[0] for f in outcome.failed] == [first]
    assert outcome.failed[0].reason.startswith("photo.png: ")
    assert "decompression bomb" in outcome.failed[0].reason
    assert len(outcome.imported) == 1


def test_an_exception_no_reader_expected_fails_its_file_with_its_type(tmp_path: Path) -> None:
    """An OME-Zarr whose scale holds an object where a number belongs: the reader's
    float() raises a TypeError nobody wrapped; the file is skipped with a one-line reason
    naming the exception, and the file beside it is planned."""
    from tests.formats.samples import ome_zarr

    sample = ome_zarr("0.5")(tmp_path / "odd")
    meta = json.loads((sample.path / "zarr.json").read_text())
    scales = meta["attributes"]["ome"]["multiscales"][0]["datasets"][0][
        "coordinateTransformations"]
    scales[0]["scale"] = [{"odd": 1}] * len(scales[0]["scale"])
    (sample.path / "zarr.json").write_text(json.dumps(meta))
    good = png_rgb(tmp_path).path
    plan = imports.plan([sample.path, good])
    assert [f.files[0] for f in plan.filesets] == [good]
    (skipped,) = plan.skipped
    assert skipped.reason.startswith(f"{sample.path.name}: cannot be read (TypeError: ")
    assert "\n" not in skipped.reason
