"""Leica line scans (X-Z, X-T, X-Z-T: no Y axis) read as Bio-Formats reads them, with
the scanned second axis as Y, instead of failing the whole import."""

from pathlib import Path

import numpy as np
import pytest

from pixelvault.formats import open_reader
from tests.formats.lif_files import write_lif


@pytest.mark.parametrize(("shape", "expected", "size_y_um", "interval"), [
    ((1, 2, 5, 1, 7), (7, 5, 1, 2, 1), 1.0, None),   # X-Z: Z becomes Y
    ((4, 2, 1, 1, 7), (7, 4, 1, 2, 1), None, None),  # X-T: T becomes Y
    ((3, 2, 5, 1, 7), (7, 5, 1, 2, 3), 1.0, 2.0),    # X-Z-T: Z becomes Y, T stays T
], ids=["xz", "xt", "xzt"])
def test_line_scan_reads_its_second_axis_as_y(
        tmp_path: Path, shape: tuple[int, ...], expected: tuple[int, ...],
        size_y_um: float | None, interval: float | None) -> None:
    data = np.arange(np.prod(shape), dtype=np.uint16).reshape(shape)  # [t, c, z, 1, x]
    path = tmp_path / "scan.lif"
    write_lif(path, [data], channels=[["GFP", "RFP"]], line_scan=True)
    reader = open_reader(path)
    try:
        series = reader.metadata().series[0]
        assert (series.size_x, series.size_y, series.size_z, series.size_c,
                series.size_t) == expected
        assert series.physical_size_x == pytest.approx(0.25)
        assert series.physical_size_y == (pytest.approx(size_y_um) if size_y_um else None)
        assert series.physical_size_z is None
        assert series.time_increment == (pytest.approx(interval) if interval else None)
        assert [c.name for c in series.channels] == ["GFP", "RFP"]
        for c in range(2):
            for t in range(series.size_t):
                plane = reader.read(0, 0, 0, c, t, 0, 0, series.size_x, series.size_y)
                # Z is Y when there is a Z, else T is
                want = data[t, c, :, 0, :] if shape[2] > 1 else data[:, c, 0, 0, :]
                np.testing.assert_array_equal(plane, want)
        region = reader.read(0, 0, 0, 1, 0, 2, 1, 3, 2)
        np.testing.assert_array_equal(
            region, reader.read(0, 0, 0, 1, 0, 0, 0, series.size_x, series.size_y)[1:3, 2:5])
    finally:
        reader.close()
