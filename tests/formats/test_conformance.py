"""Every reader, on every sample, tells the same truth through the same protocol."""

from pathlib import Path

import numpy as np
import pytest

from pixelvault.formats import open_reader
from tests.formats.samples import MAKERS, Sample


@pytest.fixture(params=MAKERS, ids=lambda make: make.__name__ if hasattr(make, "__name__")
                else str(make))
def sample(request: pytest.FixtureRequest, tmp_path: Path) -> Sample:
    made: Sample = request.param(tmp_path)
    return made


def test_reader_reads_what_was_written(sample: Sample) -> None:
    reader = open_reader(sample.path)
    try:
        used = reader.used_files()
        assert sample.path in used or all(sample.path in p.parents for p in used)
        metadata = reader.metadata()
        assert len(metadata.series) == len(sample.truth)
        for index, truth in enumerate(sample.truth):
            series = metadata.series[index]
            size_t, size_c, size_z, size_y, size_x = truth.shape
            assert (series.size_x, series.size_y, series.size_z, series.size_c,
                    series.size_t) == (size_x, size_y, size_z, size_c, size_t)
            assert series.pixel_type == sample.pixel_type
            assert series.levels[0] == (size_x, size_y)
            assert len(series.levels) == sample.levels
            assert len(series.channels) == size_c
            for t in range(size_t):
                for c in range(size_c):
                    for z in range(size_z):
                        plane = reader.read(index, 0, z, c, t, 0, 0, size_x, size_y)
                        assert plane.dtype == series.dtype and plane.shape == (size_y, size_x)
                        expected = truth[t, c, z]
                        if sample.exact:
                            np.testing.assert_array_equal(plane, expected)
                        else:
                            assert np.abs(plane.astype(int) - expected).max() <= 8
            # A region is the same as the slice of the plane.
            x, y, w, h = size_x // 3, size_y // 4, size_x // 2, size_y // 2
            region = reader.read(index, 0, size_z - 1, size_c - 1, size_t - 1, x, y, w, h)
            if sample.exact:
                np.testing.assert_array_equal(
                    region, truth[size_t - 1, size_c - 1, size_z - 1, y:y + h, x:x + w])
            for level in range(1, len(series.levels)):
                level_x, level_y = series.levels[level]
                step = 2 ** level
                assert (level_x, level_y) == (-(-size_x // step), -(-size_y // step))
                low = reader.read(index, level, 0, 0, 0, 0, 0, level_x, level_y)
                np.testing.assert_array_equal(low, truth[0, 0, 0, ::step, ::step])
            for bad in ((0, size_z, 0, 0, 0, 0, 1, 1), (0, 0, 0, 0, size_x, 0, 1, 1),
                        (0, 0, 0, 0, 0, 0, size_x + 1, 1), (len(series.levels), 0, 0, 0, 0,
                                                            0, 1, 1)):
                level, z, c, t, x, y, w, h = bad
                with pytest.raises(IndexError):
                    reader.read(index, level, z, c, t, x, y, w, h)
    finally:
        reader.close()


def test_calibration_and_channel_names(sample: Sample) -> None:
    reader = open_reader(sample.path)
    try:
        series = reader.metadata().series[0]
        if sample.channel_names:
            assert [c.name for c in series.channels] == sample.channel_names
        if sample.physical_size_x is not None:
            assert series.physical_size_x == pytest.approx(sample.physical_size_x)
        if sample.physical_size_z is not None:
            assert series.physical_size_z == pytest.approx(sample.physical_size_z)
        assert all(isinstance(k, str) and isinstance(v, str)
                   for k, v in reader.metadata().original.items())
    finally:
        reader.close()
