"""Byte sizes as people write them ("5GiB", "500 MB", "10%")."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def parse_size(text: str) -> int:
    """Parse "1.5GiB" or "500MB" or "4096" into bytes; ValueError if malformed."""
    match = _SIZE.match(text)
    if not match or match.group(2).lower() not in _UNITS:
        raise ValueError(f"{text!r} is not a size (examples: 4096, 500MB, 5GiB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_size(n: float) -> str:
    """Human-readable binary size, as `df -h` would print it."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Threshold:
    """A free-space threshold: either absolute bytes or a percentage of the disk."""

    bytes: int | None = None
    percent: float | None = None

    @classmethod
    def parse(cls, text: str) -> Threshold:
        match = _PERCENT.match(text)
        if match:
            percent = float(match.group(1))
            if percent > 100:
                raise ValueError(f"{text!r} is more than 100%")
            return cls(percent=percent)
        try:
            return cls(bytes=parse_size(text))
        except ValueError:
            raise ValueError(
                f"{text!r} is neither a size nor a percentage (examples: 10%, 500MB, 5GiB)"
            ) from None

    def limit(self, total_bytes: int) -> int:
        """The threshold in bytes for a filesystem of ``total_bytes``."""
        if self.percent is not None:
            return int(total_bytes * self.percent / 100)
        return self.bytes or 0

    def __str__(self) -> str:
        if self.percent is not None:
            return f"{self.percent:g}%"
        return str(self.bytes)
