"""Pixels to RGB: pure functions over numpy arrays.

Each active channel's values are mapped through its window (``start`` to black,
``end`` to full intensity, linear between, clipped) to its colour or lookup
table, and the channels are added and clipped (OMERO's additive blending).
For 8- and 16-bit integers one table of every possible value per channel does
the whole mapping in one gather; wider integers and floats are mapped
arithmetically, with the window's exact semantics (no rounding of the window
itself). The greyscale model shows the first active channel in grey.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from pixelvault.render import luts
from pixelvault.render.settings import ChannelSettings, Settings

_TABLED = {np.dtype(np.uint8): 0, np.dtype(np.int8): -128, np.dtype(np.uint16): 0,
           np.dtype(np.int16): -32768}  # type -> smallest value (the table's offset)
_CACHE: OrderedDict[tuple[Any, ...], np.ndarray[Any, Any]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64  # a 16-bit table is 192 KiB


def _scaled(value: int) -> np.ndarray[Any, Any]:
    """intensity 0..255 -> intensity * value / 255 (a colour component), as a table."""
    return (np.arange(256, dtype=np.uint16) * value // 255).astype(np.uint8)


def _window(values: np.ndarray[Any, Any], start: float, end: float,
            inverted: bool) -> np.ndarray[Any, Any]:
    """0..255 intensities of ``values`` in the window (exact for any type)."""
    data = values.astype(np.float64) if values.dtype.itemsize > 4 or values.dtype.kind != "f" \
        else values
    if end <= start:
        scaled = np.where(data >= end, 255.0, 0.0)
    else:
        scaled = (data - start) * 255.0 / (end - start)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    found = np.clip(np.floor(scaled + 0.5), 0, 255).astype(np.uint8)
    return 255 - found if inverted else found


def _table(dtype: np.dtype[Any], channel: ChannelSettings) -> np.ndarray[Any, Any]:
    """Every value of an 8/16-bit type -> its intensity, cached."""
    key = (dtype.str, channel.start, channel.end, channel.inverted)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    low = _TABLED[dtype]
    values = np.arange(low, low + (1 << (8 * dtype.itemsize)), dtype=np.int64)
    made = _window(values, channel.start, channel.end, channel.inverted)
    made.setflags(write=False)
    with _CACHE_LOCK:
        _CACHE[key] = made
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return made


def intensity(plane: np.ndarray[Any, Any], channel: ChannelSettings) -> np.ndarray[Any, Any]:
    """(h, w) uint8: the channel's window (and inversion) applied."""
    if plane.dtype == np.bool_:
        plane = plane.astype(np.uint8)
    dtype = plane.dtype.newbyteorder("=")
    if dtype in _TABLED:
        index: np.ndarray[Any, Any] = plane.astype(dtype, copy=False)
        if _TABLED[dtype]:  # two's complement -> offset from the type's smallest value
            unsigned = np.uint8 if dtype.itemsize == 1 else np.uint16
            index = np.bitwise_xor(index.view(unsigned), unsigned(1 << (8 * dtype.itemsize - 1)))
        found: np.ndarray[Any, Any] = np.take(_table(dtype, channel), index)
        return found
    return _window(plane, channel.start, channel.end, channel.inverted)


def _colour(channel: ChannelSettings) -> tuple[int, int, int]:
    return (int(channel.color[0:2], 16), int(channel.color[2:4], 16),
            int(channel.color[4:6], 16))


def render(planes: dict[int, np.ndarray[Any, Any]], settings: Settings) -> np.ndarray[Any, Any]:
    """(h, w, 3) uint8 from the planes of the active channels (index -> (h, w))."""
    if not planes:
        raise ValueError("no planes to render")
    shape = next(iter(planes.values())).shape
    out = np.zeros((*shape, 3), np.uint8)
    active = [i for i, c in enumerate(settings.channels) if c.active and i in planes]
    if not active:
        return out
    if settings.model == "greyscale":
        grey = intensity(planes[active[0]], settings.channels[active[0]])
        for component in range(3):
            out[..., component] = grey
        return out
    # What each colour component receives: (intensity, scale table or None for "as is").
    parts: list[list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]]] = \
        [[], [], []]
    looked_up: list[np.ndarray[Any, Any]] = []
    for index in active:
        channel = settings.channels[index]
        shown = intensity(planes[index], channel)
        name = luts.canonical(channel.lut) if channel.lut else None
        if name is not None:
            looked_up.append(np.take(luts.table(name), shown, axis=0))
            continue
        for component, value in enumerate(_colour(channel)):
            if value:
                parts[component].append((shown, None if value == 255 else _scaled(value)))
    if not looked_up and all(len(p) <= 1 for p in parts):
        for component, found in enumerate(parts):  # each component from one channel
            if found:
                shown, scale = found[0]
                out[..., component] = shown if scale is None else np.take(scale, shown)
        return out
    total = np.zeros((*shape, 3), np.uint16)
    for component, found in enumerate(parts):
        for shown, scale in found:
            total[..., component] += shown if scale is None else np.take(scale, shown)
    for rgb in looked_up:
        total += rgb
    np.minimum(total, 255, out=total)
    out[...] = total
    return out


def project(stack: np.ndarray[Any, Any], method: str) -> np.ndarray[Any, Any]:
    """A z-projection of a (z, h, w) stack: intmax keeps the type; intmean and intsum are
    computed in floating point (their windows apply to those values)."""
    if method == "intmax":
        found: np.ndarray[Any, Any] = stack.max(axis=0)
    elif method == "intmean":
        found = stack.astype(np.float64).mean(axis=0)
    elif method == "intsum":
        found = stack.astype(np.float64).sum(axis=0)
    else:
        raise ValueError(f"projection {method!r}")
    return found


def flip(rgb: np.ndarray[Any, Any], how: str) -> np.ndarray[Any, Any]:
    if "h" in how:
        rgb = rgb[:, ::-1]
    if "v" in how:
        rgb = rgb[::-1]
    return rgb
