import pytest

from pixelvault.server.ranges import UnsatisfiableRangeError, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None), ("", None), ("bytes=0-99", (0, 100)), ("bytes=10-", (10, 1000)),
        ("bytes=-100", (900, 1000)), ("bytes=-5000", (0, 1000)), ("bytes=990-5000", (990, 1000)),
        ("bytes=0-0", (0, 1)), ("bytes=5-2", None), ("bytes=0-1,5-6", None), ("items=0-1", None),
        ("bytes=-", None), ("bytes=abc-", None),
    ],
)
def test_single_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(UnsatisfiableRangeError):
        parse_range(header, 1000)
