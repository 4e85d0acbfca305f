from pathlib import Path

import pytest

from pixelvault.errors import InvalidInputError
from pixelvault.repository import STORES, Layout, Store, id_to_relpath


@pytest.mark.parametrize(
    ("object_id", "expected"),
    [
        (0, "0"),
        (1, "1"),
        (999, "999"),
        (1000, "Dir-001/1000"),
        (123456, "Dir-123/123456"),
        (999001, "Dir-999/999001"),
        (999999, "Dir-999/999999"),
        (1000000, "Dir-001/Dir-000/1000000"),
        (1234567, "Dir-001/Dir-234/1234567"),
        (1234567890, "Dir-001/Dir-234/Dir-567/1234567890"),
    ],
)
def test_id_to_path_is_omeros(object_id: int, expected: str) -> None:
    assert id_to_relpath(object_id) == Path(expected)


def test_object_paths_sit_in_their_store(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    assert layout.object_path(Store.PIXELS, 123456) == tmp_path / "Pixels/Dir-123/123456"
    assert layout.object_path(Store.FILES, 999) == tmp_path / "Files/999"
    assert layout.object_path(Store.THUMBNAILS, 1000) == tmp_path / "Thumbnails/Dir-001/1000"


def test_the_six_stores_have_omeros_names() -> None:
    assert [s.value for s in STORES] == [
        "Pixels", "Files", "Thumbnails", "FullText", "ManagedRepository", "BioFormatsCache",
    ]


@pytest.mark.parametrize("bad", [-1, True, 1.5, "12"])
def test_ids_that_are_not_whole_numbers_are_refused(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="not a valid object id"):
        id_to_relpath(bad)  # type: ignore[arg-type]
