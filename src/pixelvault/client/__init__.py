"""HTTP client for pixelvault servers (httpx); used by the CLI and by Python users."""

from pixelvault.client.health import HealthAnswer, fetch_health

__all__ = ["HealthAnswer", "fetch_health"]
