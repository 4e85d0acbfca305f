"""OMERO.web's rendering grammar, good and bad (each bad one a clear message)."""

import pytest

from pixelvault.render.params import ParameterError, parse
from pixelvault.render.settings import ChannelSettings, Settings

BASE = Settings(channels=tuple(ChannelSettings(start=0, end=1000, color=c)
                               for c in ("FF0000", "00FF00", "0000FF")))


def test_channels_windows_colours_and_maps() -> None:
    found = parse({"c": "1|100:200$00FF00,-2,3|0:4095$fire.lut",
                   "maps": '[{"inverted": {"enabled": true}}, null, '
                           '{"reverse": {"enabled": false}}]',
                   "m": "c", "q": "0.5", "format": "png", "flip": "h"}, BASE, 5, 1)
    one, two, three = found.settings.channels
    assert (one.active, one.start, one.end, one.color, one.inverted) == \
        (True, 100, 200, "00FF00", True)
    assert not two.active and two.color == "00FF00"
    assert three.lut == "fire" and three.end == 4095 and not three.inverted
    assert (found.quality, found.fmt, found.flip) == (0.5, "png", "h")


def test_channels_left_out_are_not_shown() -> None:
    found = parse({"c": "2"}, BASE, 1, 1)
    assert [c.active for c in found.settings.channels] == [False, True, False]


def test_models_and_projections() -> None:
    found = parse({"m": "g", "p": "intmax|1:3"}, BASE, 5, 1)
    assert found.settings.model == "greyscale"
    assert (found.settings.projection, found.settings.projection_start,
            found.settings.projection_end) == ("intmax", 1, 3)


@pytest.mark.parametrize(("query", "says"), [
    ({"c": "0"}, "outside 1..3"), ({"c": "4"}, "outside 1..3"),
    ({"c": "1,1"}, "twice"), ({"c": "1|200:100"}, "above end"),
    ({"c": "1|a:b"}, "START:END"), ({"c": "1$GGGGGG"}, "RRGGBB"),
    ({"c": "1$nothing.lut"}, "not known"), ({"c": ",".join(str(i) for i in range(1, 61))},
                                            "names 60 channels"),
    ({"c": "x"}, "INDEX"), ({"maps": "[1]", "c": "1"}, "objects"),
    ({"maps": "{", "c": "1"}, "not JSON"),
    ({"maps": '[{"inverted": {"enabled": true}}]'}, "needs c="),
    ({"m": "x"}, "m="), ({"p": "intmedian"}, "intmax"), ({"p": "intmax|3:1"}, "z range"),
    ({"p": "intmax|0:9"}, "z range"), ({"q": "1.5"}, "outside 0..1"), ({"q": "x"}, "number"),
    ({"format": "gif"}, "jpeg, png or tif"), ({"flip": "x"}, "flip"),
    ({"c": "1" * 5000}, "longer than"), ({"c": "1|nan:1"}, "START:END"),
])
def test_bad_parameters(query: dict[str, str], says: str) -> None:
    with pytest.raises(ParameterError, match=says):
        parse(query, BASE, 5, 1)
