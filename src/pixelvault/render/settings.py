"""Rendering settings, as OMERO's rendering definitions hold them: per channel whether it
is shown, its window, its colour or lookup table and whether it is inverted; the
colour or greyscale model; the default z and t; a z-projection."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

PROJECTIONS = ("normal", "intmax", "intmean", "intsum")
MODELS = ("color", "greyscale")
HEX = re.compile(r"^[0-9A-Fa-f]{6}$")


class SettingsError(ValueError):
    """Rendering settings that cannot be used; the message says which part and why."""


@dataclass(frozen=True)
class ChannelSettings:
    active: bool = True
    start: float = 0.0
    end: float = 255.0
    color: str = "FFFFFF"  # RRGGBB, used when ``lut`` is empty
    lut: str = ""  # a named lookup table (see render.luts), replaces the colour
    inverted: bool = False

    def check(self, index: int) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise SettingsError(f"channel {index + 1}: window {self.start}:{self.end} is not "
                                "two finite numbers")
        if self.start > self.end:
            raise SettingsError(f"channel {index + 1}: window start {self.start:g} is above "
                                f"its end {self.end:g}")
        if not HEX.match(self.color):  # kept with a LUT too: shown when the LUT is unset
            raise SettingsError(f"channel {index + 1}: colour {self.color!r} is not RRGGBB")
        if self.lut:
            from pixelvault.render import luts

            if luts.canonical(self.lut) is None:
                raise SettingsError(f"channel {index + 1}: lookup table {self.lut!r} is not "
                                    f"known; use one of {', '.join(luts.names())}")


@dataclass(frozen=True)
class Settings:
    channels: tuple[ChannelSettings, ...]
    model: str = "color"
    default_z: int = 0
    default_t: int = 0
    projection: str = "normal"
    projection_start: int | None = None
    projection_end: int | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def check(self, size_z: int, size_t: int) -> None:
        if self.model not in MODELS:
            raise SettingsError(f"model {self.model!r}: use color or greyscale")
        if self.projection not in PROJECTIONS:
            raise SettingsError(f"projection {self.projection!r}: use one of "
                                f"{', '.join(PROJECTIONS)}")
        if not 0 <= self.default_z < size_z:
            raise SettingsError(f"default z {self.default_z} is outside 0..{size_z - 1}")
        if not 0 <= self.default_t < size_t:
            raise SettingsError(f"default t {self.default_t} is outside 0..{size_t - 1}")
        start, end = self.z_range(size_z)
        if not 0 <= start <= end < size_z:
            raise SettingsError(f"projection range {start}:{end} is outside 0..{size_z - 1}")
        for index, channel in enumerate(self.channels):
            channel.check(index)

    def z_range(self, size_z: int) -> tuple[int, int]:
        start = 0 if self.projection_start is None else self.projection_start
        end = size_z - 1 if self.projection_end is None else self.projection_end
        return start, end

    def with_channel(self, index: int, **changes: object) -> Settings:
        channels = list(self.channels)
        channels[index] = replace(channels[index], **changes)  # type: ignore[arg-type]
        return replace(self, channels=tuple(channels))

    @property
    def key(self) -> str:
        """A compact text of everything that changes the rendered pixels (for ETags)."""
        parts = [self.model, str(self.default_z), str(self.default_t), self.projection,
                 str(self.projection_start), str(self.projection_end)]
        for c in self.channels:
            parts.append(f"{int(c.active)}|{c.start!r}:{c.end!r}${c.lut or c.color}"
                         f"{'-' if c.inverted else ''}")
        return ",".join(parts)


# Colours for channels that say nothing of theirs, by number of channels (OMERO's habit:
# one channel grey; otherwise red, green, blue, then the rest).
DEFAULT_COLOURS = ("FF0000", "00FF00", "0000FF", "FF00FF", "FFFF00", "00FFFF", "FFFFFF")


def default_colour(index: int, count: int) -> str:
    if count == 1:
        return "FFFFFF"
    return DEFAULT_COLOURS[index % len(DEFAULT_COLOURS)]


def colour_from_emission(nanometres: float | None) -> str | None:
    """A channel colour from its emission wavelength, as OMERO chooses one."""
    if nanometres is None or nanometres <= 0:
        return None
    if nanometres < 500:
        return "0000FF"
    if nanometres < 560:
        return "00FF00"
    return "FF0000"


def rgba_to_hex(rgba: int | None) -> str | None:
    """OME-XML's signed 32-bit RGBA colour as RRGGBB (None when not given)."""
    if rgba is None:
        return None
    return f"{(rgba & 0xFFFFFFFF) >> 8:06X}"
