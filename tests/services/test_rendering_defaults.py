"""Default rendering settings from what import learned of the channels."""

from pixelvault.services.rendering.settings import ChannelFacts, default_settings


def test_colours_from_metadata_wavelengths_or_place() -> None:
    red, green = -16776961, 16711935  # RGBA as OME-XML writes them
    given = default_settings("uint16", 2, 5, [ChannelFacts(10, 900, green, None),
                                              ChannelFacts(0, 100, red, None)])
    assert [c.color for c in given.channels] == ["00FF00", "FF0000"]
    assert [(c.start, c.end) for c in given.channels] == [(10, 900), (0, 100)]
    assert given.default_z == 2 and all(c.active for c in given.channels)
    # OME's default white on every channel says nothing: wavelengths, then the place.
    white = default_settings("uint8", 3, 1, [ChannelFacts(None, None, -1, 461.0),
                                             ChannelFacts(None, None, -1, None),
                                             ChannelFacts(None, None, -1, 610.0)])
    assert [c.color for c in white.channels] == ["0000FF", "00FF00", "FF0000"]
    assert (white.channels[0].start, white.channels[0].end) == (0, 255)
    single = default_settings("float", 1, 1, [ChannelFacts(None, None, red, None)])
    assert single.channels[0].color == "FFFFFF" and single.channels[0].end == 1.0
