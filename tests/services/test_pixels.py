"""The pixel buffer over every backend: originals, created images, pyramids, OMERO raw."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from sqlalchemy import select, update

from pixelvault.catalog.models import JobState, Pixels, PyramidJob
from pixelvault.errors import InvalidInputError, PendingError
from pixelvault.formats.ngff_write import halve
from pixelvault.services import imports
from pixelvault.services.pixels import access, create, pyramids
from pixelvault.services.vault import Vault, open_vault
from tests.conftest import Env
from tests.formats.samples import ome_pyramid, ome_tiff

TYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float", "double", "bit"]


@pytest.fixture
def vault(initialised: Env) -> Iterator[Vault]:
    initialised.set(pixels_pyramid_threshold=str(300 * 300))
    opened = open_vault(initialised.settings())
    yield opened
    opened.close()


def random_of(pixel_type: str, shape: tuple[int, ...], seed: int = 3) -> np.ndarray[Any, Any]:
    from pixelvault.formats import PIXEL_TYPES

    rng = np.random.default_rng(seed)
    dtype = PIXEL_TYPES[pixel_type]
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 1000).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)


def import_one(vault: Vault, path: Path) -> int:
    outcome = imports.run(vault, vault.local_admin(), imports.plan([path]),
                          imports.ImportOptions())
    assert not outcome.failed, outcome.failed
    return outcome.imported[0].image_ids[0]


def test_imported_originals_through_the_buffer(vault: Vault, tmp_path: Path) -> None:
    sample = ome_tiff(tmp_path)
    image_id = import_one(vault, sample.path)
    buffer = access.open_buffer(vault, vault.local_admin(), image_id)
    truth = sample.truth[0]  # t c z y x
    assert (buffer.size_x, buffer.size_y, buffer.size_z, buffer.size_c, buffer.size_t) == \
        (60, 50, 4, 3, 2)
    assert buffer.pixel_type == "uint16" and buffer.byte_width == 2 and not buffer.is_float
    np.testing.assert_array_equal(buffer.get_plane(1, 2, 1), truth[1, 2, 1])
    np.testing.assert_array_equal(buffer.get_region(3, 0, 0, 5, 6, 20, 10),
                                  truth[0, 0, 3, 6:16, 5:25])
    np.testing.assert_array_equal(buffer.get_row(7, 0, 1, 0), truth[0, 1, 0, 7])
    np.testing.assert_array_equal(buffer.get_col(9, 0, 1, 0), truth[0, 1, 0, :, 9])
    np.testing.assert_array_equal(buffer.get_stack(1, 0), truth[0, 1])
    np.testing.assert_array_equal(buffer.get_timepoint(1), truth[1])
    np.testing.assert_array_equal(buffer.get_hypercube((5, 6, 1, 0, 0), (10, 8, 2, 2, 2)),
                                  truth[0:2, 0:2, 1:3, 6:14, 5:15])
    big = buffer.get_region(0, 0, 0, 0, 0, 60, 50, order="big")
    assert big.dtype.byteorder == ">" and np.array_equal(big, truth[0, 0, 0])
    for bad in ((0, 0, 0, 0, 0, 61, 1), (0, 0, 0, -1, 0, 1, 1), (4, 0, 0, 0, 0, 1, 1),
                (0, 3, 0, 0, 0, 1, 1), (0, 0, 2, 0, 0, 1, 1), (0, 0, 0, 0, 0, 0, 5)):
        with pytest.raises(InvalidInputError):
            buffer.get_region(*bad)
    with pytest.raises(InvalidInputError, match=r"level 1 is outside 0\.\.0"):
        buffer.get_plane(0, 0, 0, level=1)
    with pytest.raises(InvalidInputError, match="never changed"):
        buffer.set_plane(0, 0, 0, truth[0, 0, 0])
    # The same open reader serves the next request (a bounded, per-process cache).
    again = access.open_buffer(vault, vault.local_admin(), image_id)
    assert again.backend is buffer.backend


def test_an_original_pyramid_is_used_as_it_is(vault: Vault, tmp_path: Path) -> None:
    sample = ome_pyramid(tmp_path)
    image_id = import_one(vault, sample.path)
    buffer = access.open_buffer(vault, vault.local_admin(), image_id)
    assert buffer.resolution_levels == sample.levels and buffer.pending is None
    np.testing.assert_array_equal(buffer.get_plane(0, 0, 0, level=1),
                                  sample.truth[0][0, 0, 0, ::2, ::2])
    with vault.catalog.session() as session:
        assert session.scalar(select(PyramidJob)) is None  # it has levels of its own


@pytest.mark.parametrize("pixel_type", TYPES)
def test_created_images_get_pyramids_for_every_pixel_type(vault: Vault,
                                                          pixel_type: str) -> None:
    actor = vault.local_admin()
    data = random_of(pixel_type, (2, 1, 700, 333))  # c z y x
    image_id = create.create(vault, actor, create.NewImage(
        "made", size_x=333, size_y=700, size_c=2, pixel_type=pixel_type,
        channel_names=("a", "b")))
    for c in range(2):
        create.write(vault, actor, image_id, 0, c, 0, 0, 0, data[c, 0])
    assert create.finish(vault, actor, image_id) == {"image": image_id, "pyramid": "queued"}
    pending = access.open_buffer(vault, actor, image_id)
    assert pending.resolution_levels == 3  # 700 -> 350 -> 175
    np.testing.assert_array_equal(pending.get_plane(0, 1, 0), data[1, 0])
    with pytest.raises(PendingError) as raised:
        pending.get_plane(0, 0, 0, level=1)
    assert raised.value.retry_after >= 1 and "being built" in raised.value.message
    assert pyramids.run_pending(vault) == 1
    built = access.open_buffer(vault, actor, image_id)
    assert built.pending is None and [built.level_size(i) for i in range(3)] == \
        [(333, 700), (167, 350), (84, 175)]
    np.testing.assert_array_equal(built.get_plane(0, 1, 0), data[1, 0])
    np.testing.assert_array_equal(built.get_plane(0, 1, 0, level=1), halve(data[1, 0]))
    np.testing.assert_array_equal(built.get_plane(0, 0, 0, level=2),
                                  halve(halve(data[0, 0])))
    # The pyramid is OME-Zarr 0.5 that zarr-python reads, every level of it.
    group = zarr.open_group(str(vault.pixels.pyramid(pixels_id(vault, image_id))), mode="r")
    full: Any = group["0"]
    np.testing.assert_array_equal(full[0, :, 0], data[:, 0])
    ome: Any = group.attrs["ome"]
    assert ome["version"] == "0.5"


def pixels_id(vault: Vault, image_id: int) -> int:
    with vault.catalog.session() as session:
        found = session.scalar(select(Pixels.id).where(Pixels.image_id == image_id))
        assert found is not None
        return int(found)


def test_a_large_import_gets_its_pyramid_and_a_killed_build_starts_over(
        vault: Vault, tmp_path: Path) -> None:
    import tifffile

    data = random_of("uint16", (1, 2, 1, 640, 520))
    path = tmp_path / "big.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "TCZYX"})
    image_id = import_one(vault, path)
    with vault.catalog.session() as session:
        job = session.scalar(select(PyramidJob))
        assert job is not None and job.state == JobState.PENDING
    # A builder that died mid-way: its job says running, its lock is free, and a
    # half-written temporary directory is left; the next run starts over.
    job_id = pyramids.claim(vault)
    assert job_id is not None
    leftover = vault.pixels.new_temp(pixels_id(vault, image_id))
    leftover.mkdir()
    with vault.catalog.session() as session:
        session.execute(update(PyramidJob).values(worker="elsewhere:1"))
    assert pyramids.recover(vault) == 1
    assert pyramids.run_pending(vault) == 1
    buffer = access.open_buffer(vault, vault.local_admin(), image_id)
    assert buffer.resolution_levels == 3
    np.testing.assert_array_equal(buffer.get_plane(0, 1, 0, level=1), halve(data[0, 1, 0]))
    assert not vault.pixels.pyramid(pixels_id(vault, image_id)).with_name("x").exists()


def test_a_failed_pyramid_says_why_and_can_be_retried(vault: Vault, tmp_path: Path) -> None:
    import tifffile

    data = random_of("uint16", (1, 1, 1, 640, 520))
    path = tmp_path / "big.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "TCZYX"}, compression="zlib",
                     rowsperstrip=64)
    image_id = import_one(vault, path)
    stored = next(vault.managed.root.rglob("big.ome.tif"))
    stored.chmod(0o644)
    damaged = bytearray(stored.read_bytes())  # its pixel data damaged after import, the
    damaged[20_000:60_000] = b"\x5a" * 40_000  # directories intact: it opens, reads fail
    stored.write_bytes(bytes(damaged))
    access.cache_for(vault).clear()
    pyramids.run_pending(vault)
    (job,) = pyramids.list_jobs(vault, vault.local_admin())
    assert job.state == "failed" and "big.ome.tif" in job.reason
    with pytest.raises(PendingError, match="retry"):
        access.open_buffer(vault, vault.local_admin(), image_id).get_plane(0, 0, 0, level=1)
    stored.write_bytes(path.read_bytes())
    access.cache_for(vault).clear()
    pyramids.retry(vault, vault.local_admin(), job.id)
    assert pyramids.run_pending(vault) == 1
    (job,) = pyramids.list_jobs(vault, vault.local_admin())
    assert job.state == "done" and job.attempts == 2


def test_omero_raw_pixels_files_are_read(vault: Vault, tmp_path: Path) -> None:
    from pixelvault.formats.omero_raw import write_omero_raw

    actor = vault.local_admin()
    data = random_of("int16", (2, 3, 2, 20, 30))  # t c z y x
    source = tmp_path / "1234"
    write_omero_raw(source, data)
    new = create.NewImage("from OMERO", size_x=30, size_y=20, size_z=2, size_c=3, size_t=2,
                          pixel_type="int16")
    with pytest.raises(Exception, match="need"):
        create.adopt_omero_raw(vault, actor, source, create.NewImage(
            "wrong", size_x=31, size_y=20, pixel_type="int16"))
    image_id = create.adopt_omero_raw(vault, actor, source, new)
    buffer = access.open_buffer(vault, actor, image_id)
    np.testing.assert_array_equal(buffer.get_plane(1, 2, 1), data[1, 2, 1])
    assert buffer.digest() == __import__("hashlib").sha1(
        np.ascontiguousarray(data, dtype=">i2").tobytes()).hexdigest()
    raw = vault.pixels.path(pixels_id(vault, image_id))
    raw.write_bytes(raw.read_bytes()[:-2])
    access.cache_for(vault).clear()
    with pytest.raises(Exception, match="truncated"):
        access.open_buffer(vault, actor, image_id)


def test_cleanse_removes_what_dead_builds_and_deleted_images_leave(vault: Vault) -> None:
    import os

    from pixelvault.services.objects import deletion
    from pixelvault.services.operations.cleanse import cleanse

    actor = vault.local_admin()
    kept = create.create(vault, actor, create.NewImage("kept", size_x=10, size_y=10))
    gone = create.create(vault, actor, create.NewImage("gone", size_x=10, size_y=10))
    gone_pixels = pixels_id(vault, gone)
    store = vault.pixels.path(gone_pixels)
    deletion.delete_object(vault, actor, "image", gone)
    assert not store.exists()  # deleting the image removed its pixels
    # What a killed process leaves: an orphan store, a half pyramid, a stale lock.
    orphan = vault.pixels.path(4242)
    orphan.mkdir(parents=True)
    half = vault.pixels.new_temp(pixels_id(vault, kept))
    half.mkdir()
    lock = vault.pixels.lock_path(pixels_id(vault, kept))
    lock.write_text("")
    strange = vault.pixels.root / "notes.txt"
    strange.write_text("by hand")
    old = 1_000_000_000
    for path in (orphan, half, lock, strange):
        os.utime(path, (old, old))
    dry = cleanse(vault, dry_run=True)
    assert {r[2] for r in dry.removed} >= {"no catalog row", "unfinished pyramid or image",
                                           "lock of a finished build"}
    assert orphan.exists() and half.exists()
    report = cleanse(vault)
    assert not orphan.exists() and not half.exists() and not lock.exists()
    assert strange.exists() and any("by hand" in why for _, why in report.kept)
    assert vault.pixels.path(pixels_id(vault, kept)).is_dir()


def test_damage_fails_only_the_reads_that_touch_it(vault: Vault, tmp_path: Path) -> None:
    from pixelvault.errors import CorruptFileError
    from pixelvault.services.objects import filesets

    actor = vault.local_admin()
    data = random_of("uint16", (1, 1, 1100, 1100))
    image_id = create.create(vault, actor, create.NewImage("big", size_x=1100, size_y=1100))
    create.write(vault, actor, image_id, 0, 0, 0, 0, 0, data[0, 0])
    create.finish(vault, actor, image_id)
    pyramids.run_pending(vault)
    # One chunk of the pyramid's full-resolution shard is overwritten.
    level = vault.pixels.pyramid(pixels_id(vault, image_id)) / "0"
    shard = next(p for p in level.rglob("*") if p.is_file() and p.name != "zarr.json"
                 and set(p.relative_to(level).parts[1:]) == {"0"})  # the first chunk's
    # where the first chunk lies in its shard (chunks need not be stored in grid order)
    from pixelvault.formats.zarr_shards import ShardReader

    reader = ShardReader(level)
    fd, index = reader._index((0,) * len(reader.layout.per_shard))
    assert index is not None
    os.close(fd)
    start = int(index.reshape(-1, 2)[0][0])
    damaged = bytearray(shard.read_bytes())
    damaged[start + 100:start + 120] = b"\xff" * 20
    shard.write_bytes(bytes(damaged))
    access.cache_for(vault).clear()
    buffer = access.open_buffer(vault, actor, image_id)
    with pytest.raises(CorruptFileError, match="cannot be decoded"):
        buffer.get_region(0, 0, 0, 0, 0, 10, 10)  # the first chunk
    np.testing.assert_array_equal(buffer.get_region(0, 0, 0, 600, 600, 10, 10),
                                  data[0, 0, 600:610, 600:610])  # another chunk, fine
    # A truncated original: reads touching the lost part fail, `fs sets --check` says so.
    sample = ome_tiff(tmp_path)
    imported = import_one(vault, sample.path)
    stored = next(vault.managed.root.rglob("cells.ome.tif"))
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes()[: stored.stat().st_size // 2])
    problems = [p for f in filesets.list_filesets(vault.catalog, actor)
                for p in filesets.check(vault, actor, f)]
    assert problems and "cells.ome.tif" in problems[0]
    with pytest.raises(CorruptFileError, match="truncated"):
        access.open_buffer(vault, actor, imported).get_plane(3, 2, 1)
