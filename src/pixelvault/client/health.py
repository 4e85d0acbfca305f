"""Reading a server's /health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class HealthAnswer:
    status_code: int
    body: dict[str, Any]


def fetch_health(base_url: str, timeout: float = 2.0) -> HealthAnswer | None:
    """The server's health, or None when nothing answers at ``base_url``."""
    try:
        response = httpx.get(f"{base_url}/health", timeout=timeout)
    except httpx.HTTPError:
        return None
    try:
        body = response.json()
    except ValueError:
        body = {"status": "unknown", "raw": response.text[:200]}
    return HealthAnswer(response.status_code, body)
