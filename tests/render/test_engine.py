"""The rendering engine: windows, colours, lookup tables, blending, models, projections
and encoders, for every pixel type."""

from typing import Any

import numpy as np
import pytest

from pixelvault.render import luts
from pixelvault.render.encode import encode
from pixelvault.render.engine import flip, intensity, project, render
from pixelvault.render.settings import ChannelSettings, Settings

TYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.float32,
         np.float64]


@pytest.mark.parametrize("dtype", TYPES)
def test_window_semantics_are_exact_for_every_type(dtype: Any) -> None:
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    low, high = (info.min, info.max) if info else (-1e6, 1e6)
    values = np.array([[low, 10, 20, 30, high]], dtype=dtype)
    shown = intensity(values, ChannelSettings(start=10, end=30))
    assert shown.tolist() == [[0, 0, 128, 255, 255]]
    inverted = intensity(values, ChannelSettings(start=10, end=30, inverted=True))
    assert inverted.tolist() == [[255, 255, 127, 0, 0]]


def test_float_windows_are_not_rounded_and_nan_is_black() -> None:
    values = np.array([[0.5, 0.75, 1.0, np.nan, np.inf]], np.float32)
    shown = intensity(values, ChannelSettings(start=0.5, end=1.0))
    assert shown.tolist() == [[0, 128, 255, 0, 255]]


def test_bits_and_a_flat_window() -> None:
    bits = np.array([[False, True]])
    assert intensity(bits, ChannelSettings(start=0, end=1)).tolist() == [[0, 255]]
    flat = intensity(np.array([[4, 5, 6]], np.uint16), ChannelSettings(start=5, end=5))
    assert flat.tolist() == [[0, 255, 255]]


def test_colours_add_and_clip() -> None:
    plane = np.full((2, 2), 200, np.uint8)
    red = ChannelSettings(start=0, end=200, color="FF0000")
    yellowish = ChannelSettings(start=0, end=200, color="808000")
    rgb = render({0: plane, 1: plane}, Settings(channels=(red, yellowish)))
    assert rgb[0, 0].tolist() == [255, 128, 0]  # 255 + 128 clipped, 0 + 128, 0
    only_red = render({0: plane, 1: plane}, Settings(
        channels=(red, ChannelSettings(active=False))))
    assert only_red[0, 0].tolist() == [255, 0, 0]
    grey = render({0: plane, 1: plane}, Settings(channels=(
        ChannelSettings(active=False), ChannelSettings(start=0, end=400, color="FF0000")),
        model="greyscale"))
    assert grey[0, 0].tolist() == [128, 128, 128]
    nothing = render({0: plane}, Settings(channels=(ChannelSettings(active=False),)))
    assert not nothing.any()


def test_lookup_tables() -> None:
    ramp = np.arange(256, dtype=np.uint8)[None, :]
    rgb = render({0: ramp}, Settings(channels=(ChannelSettings(start=0, end=255, lut="fire"),)))
    np.testing.assert_array_equal(rgb[0], luts.table("fire"))
    inverted = render({0: ramp}, Settings(channels=(
        ChannelSettings(start=0, end=255, lut="fire", inverted=True),)))
    np.testing.assert_array_equal(inverted[0], luts.table("fire")[::-1])
    assert luts.canonical("Fire.LUT") == "fire" and luts.canonical("nope") is None


def test_projections_and_flips() -> None:
    stack = np.array([[[1, 8]], [[5, 2]], [[3, 3]]], np.uint16)
    assert project(stack, "intmax").tolist() == [[5, 8]]
    assert project(stack, "intmean").tolist() == [[3.0, 13 / 3]]
    assert project(stack, "intsum").tolist() == [[9.0, 13.0]]
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    np.testing.assert_array_equal(flip(image, "h"), image[:, ::-1])
    np.testing.assert_array_equal(flip(image, "hv"), image[::-1, ::-1])


@pytest.mark.parametrize("fmt", ["jpeg", "png", "tif"])
def test_encoders(fmt: str) -> None:
    import io

    from PIL import Image

    rgb = np.zeros((40, 50, 3), np.uint8)
    rgb[:, :25, 0] = 255
    data = encode(rgb, fmt, 0.8)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert decoded.shape == (40, 50, 3)
    assert abs(int(decoded[20, 5, 0]) - 255) < 8 and decoded[20, 45].max() < 8
