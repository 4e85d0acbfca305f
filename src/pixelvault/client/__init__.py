"""HTTP client for pixelvault servers (httpx); used by the CLI and by Python users.

    from pixelvault.client import connect
    conn = connect("http://127.0.0.1:4080", "alice", "secret")
    conn.projects.create("Mitosis")
"""

from pixelvault.client.connection import Connection, connect
from pixelvault.client.health import HealthAnswer, fetch_health

__all__ = ["Connection", "HealthAnswer", "connect", "fetch_health"]
