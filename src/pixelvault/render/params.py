"""OMERO.web's rendering parameters, parsed exactly: ``c=``, ``m=``, ``p=``, ``q=``,
``maps=``, ``format=``, ``flip=``, ``tile=`` and ``region=``.

``c=`` is a comma list of ``[-]<index>[|<start>:<end>][$<RRGGBB or name.lut>]`` with
1-based indices; a leading ``-`` shows the channel inactive, and channels the list
leaves out are not shown (OMERO's setActiveChannels). ``maps=`` is a JSON list,
one entry per ``c=`` entry, such as ``[{"inverted": {"enabled": true}}]``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

from pixelvault.errors import InvalidInputError
from pixelvault.render import luts
from pixelvault.render.encode import FORMATS
from pixelvault.render.settings import PROJECTIONS, ChannelSettings, Settings, SettingsError

_ENTRY = re.compile(r"^(-?)(\d+)(?:\|([^$]*))?(?:\$(.+))?$")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_WINDOW = re.compile(rf"^({_NUMBER}):({_NUMBER})$")
MAX_TEXT = 4096


class ParameterError(InvalidInputError):
    """A rendering parameter that cannot be understood; the message says how to write it
    (an HTTP 400, a usage error on the command line)."""


@dataclass(frozen=True)
class Rendering:
    """What a rendered-image request asks for, beyond the stored settings."""

    settings: Settings
    quality: float = 0.9
    fmt: str = "jpeg"
    flip: str = ""


def _channels(text: str, settings: Settings, maps: list[Any]) -> Settings:
    entries = [e for e in text.split(",") if e.strip()] if text else []
    count = len(settings.channels)
    if len(entries) > count:
        raise ParameterError(f"c= names {len(entries)} channels; the image has {count}")
    if maps and len(maps) > len(entries):
        raise ParameterError(f"maps= has {len(maps)} entries for {len(entries)} channels "
                             "in c=")
    seen: set[int] = set()
    updated = [replace(c, active=False) for c in settings.channels]
    for position, entry in enumerate(entries):
        match = _ENTRY.match(entry.strip())
        if match is None:
            raise ParameterError(f"c= entry {entry!r}: write [-]INDEX[|START:END][$RRGGBB], "
                                 "INDEX from 1")
        inactive, number, window, colour = match.groups()
        index = int(number) - 1
        if not 0 <= index < count:
            raise ParameterError(f"c= channel {number} is outside 1..{count}")
        if index in seen:
            raise ParameterError(f"c= names channel {number} twice")
        seen.add(index)
        channel = replace(updated[index], active=not inactive)
        if window:
            found = _WINDOW.match(window)
            if found is None:
                raise ParameterError(f"c= window {window!r} of channel {number}: write "
                                     "START:END with two numbers")
            start, end = float(found[1]), float(found[2])
            if not (math.isfinite(start) and math.isfinite(end)):
                raise ParameterError(f"c= window {window!r} of channel {number} is not finite")
            if start > end:
                raise ParameterError(f"c= window of channel {number}: start {start:g} is "
                                     f"above end {end:g}")
            channel = replace(channel, start=start, end=end)
        if colour:
            if colour.lower().endswith(".lut") or luts.canonical(colour):
                name = luts.canonical(colour)
                if name is None:
                    raise ParameterError(f"c= lookup table {colour!r} is not known; use one "
                                         f"of {', '.join(luts.names())}")
                channel = replace(channel, lut=name)
            elif re.fullmatch(r"[0-9A-Fa-f]{6}", colour):
                channel = replace(channel, color=colour.upper(), lut="")
            else:
                raise ParameterError(f"c= colour {colour!r} of channel {number}: write "
                                     "RRGGBB (hex) or a NAME.lut")
        if position < len(maps):
            channel = replace(channel, inverted=_inverted(maps[position], channel.inverted))
        updated[index] = channel
    return replace(settings, channels=tuple(updated))


def to_save(query: dict[str, str], settings: Settings, size_z: int, size_t: int) -> Settings:
    """``settings`` changed as OMERO.web's ``saveImgRDef`` changes them before saving:
    ``c=`` must give every channel, in order, a window and a colour or LUT (its
    ``-`` marks an inactive one); ``m=`` is required; ``z=`` and ``t=`` count from 1
    here; ``maps=`` sets inversion. A projection in ``p=`` is not saved, as in OMERO."""
    for key, value in query.items():
        if len(value) > MAX_TEXT:
            raise ParameterError(f"{key}= is longer than {MAX_TEXT} characters")
    if not query.get("c"):
        raise ParameterError("rendering settings must name the channels in c=")
    entries = [e.strip() for e in query["c"].split(",")]
    count = len(settings.channels)
    if len(entries) != count:
        raise ParameterError(f"c= gives {len(entries)} channels; give all {count}, in order")
    for position, entry in enumerate(entries):
        match = _ENTRY.match(entry)
        if match is None or not match[3] or not match[4]:
            raise ParameterError(f"c= entry {entry!r}: each channel needs "
                                 "[-]INDEX|START:END$COLOUR when saving")
        if len(match[2]) > 6 or int(match[2]) != position + 1:
            raise ParameterError(f"c= entry {entry!r} is in place {position + 1}: list the "
                                 "channels in order")
    model = query.get("m", "").lower()
    if model not in ("g", "c"):
        raise ParameterError('m= must be present, g (greyscale) or c (colour)')
    rendering = parse({key: query[key] for key in ("c", "maps", "m") if key in query},
                      settings, size_z, size_t).settings
    changes: dict[str, Any] = {}
    for key, field in (("z", "default_z"), ("t", "default_t")):
        if query.get(key):
            limit = size_z if key == "z" else size_t
            if not re.fullmatch(r"[0-9]{1,9}", query[key]) or not 1 <= int(query[key]) <= limit:
                raise ParameterError(f"{key}={query[key]!r}: a plane from 1 to {limit}")
            changes[field] = int(query[key]) - 1
    return replace(rendering, **changes)


def _inverted(entry: Any, current: bool) -> bool:
    if entry is None:
        return current
    if not isinstance(entry, dict):
        raise ParameterError("maps= entries are objects such as "
                             '{"inverted": {"enabled": true}}')
    for key in ("inverted", "reverse"):
        if key in entry:
            flag = entry[key]
            if not isinstance(flag, dict) or not isinstance(flag.get("enabled"), bool):
                raise ParameterError(f'maps= {key} is written {{"enabled": true}} or false')
            return bool(flag["enabled"])
    return current


def _projection(text: str, settings: Settings, size_z: int) -> Settings:
    method, _, bounds = text.partition("|")
    method = method.strip().lower()
    if method not in PROJECTIONS:
        raise ParameterError(f"p={text!r}: use {', '.join(PROJECTIONS)}, optionally "
                             "|START:END (z, from 0)")
    start = end = None
    if bounds:
        found = re.fullmatch(r"(\d+):(\d+)", bounds.strip())
        if found is None:
            raise ParameterError(f"p={text!r}: the z range is START:END, two whole numbers")
        start, end = int(found[1]), int(found[2])
        if not start <= end < size_z:
            raise ParameterError(f"p={text!r}: the z range must lie in 0..{size_z - 1}, "
                                 "start before end")
    return replace(settings, projection=method, projection_start=start, projection_end=end)


def parse(query: dict[str, str], settings: Settings, size_z: int, size_t: int) -> Rendering:
    """The request's rendering: ``settings`` changed by what the query says."""
    for key, value in query.items():
        if len(value) > MAX_TEXT:
            raise ParameterError(f"{key}= is longer than {MAX_TEXT} characters")
    maps: list[Any] = []
    if query.get("maps"):
        try:
            maps = json.loads(query["maps"])
        except (ValueError, RecursionError):  # 4096 characters of [ outnest the parser
            raise ParameterError("maps= is not JSON; write a list such as "
                                 '[{"inverted": {"enabled": true}}]') from None
        if not isinstance(maps, list):
            raise ParameterError("maps= is a JSON list, one entry per c= channel")
    if "c" in query:
        settings = _channels(query["c"], settings, maps)
    elif maps:
        raise ParameterError("maps= needs c= naming the channels it applies to")
    model = query.get("m", "").lower()
    if model:
        if model not in ("g", "c"):
            raise ParameterError(f"m={model!r}: use g (greyscale) or c (colour)")
        settings = replace(settings, model="greyscale" if model == "g" else "color")
    if query.get("p"):
        settings = _projection(query["p"], settings, size_z)
    quality = 0.9
    if query.get("q"):
        try:
            quality = float(query["q"])
        except ValueError:
            raise ParameterError(f"q={query['q']!r} is not a number from 0 to 1") from None
        if not 0 <= quality <= 1:
            raise ParameterError(f"q={quality:g} is outside 0..1")
    fmt = query.get("format", "jpeg").lower()
    if fmt not in FORMATS:
        raise ParameterError(f"format={fmt!r}: use jpeg, png or tif")
    flip = query.get("flip", "").lower()
    if (flip and set(flip) - {"h", "v"}) or len(flip) > 2:
        raise ParameterError(f"flip={flip!r}: use h, v or hv")
    try:
        settings.check(size_z, size_t)
    except SettingsError as exc:
        raise ParameterError(str(exc)) from None
    return Rendering(settings, quality, fmt, flip)


def integers(text: str, count: tuple[int, ...], what: str, syntax: str) -> list[int]:
    """``count`` comma-separated whole numbers (any of the allowed counts)."""
    parts = text.split(",")
    if len(parts) not in count or not all(re.fullmatch(r"-?\d{1,10}", p.strip())
                                          for p in parts):
        raise ParameterError(f"{what}={text!r}: write {syntax}")
    return [int(p) for p in parts]


def channels_text(settings: Settings) -> str:
    """``settings``' channels written as ``c=`` (every channel, inactive ones with ``-``),
    the form OMERO.web hands back a copied rendering in."""
    parts = []
    for index, channel in enumerate(settings.channels):
        colour = f"{channel.lut}.lut" if channel.lut else channel.color
        parts.append(f"{'' if channel.active else '-'}{index + 1}|{channel.start:.12g}:"
                     f"{channel.end:.12g}${colour}")
    return ",".join(parts)


__all__ = ["ChannelSettings", "ParameterError", "Rendering", "Settings", "channels_text",
           "integers", "parse", "to_save"]
