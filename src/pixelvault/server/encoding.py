"""Timestamps in API answers: always UTC with a ``Z``, whichever database gave them.

SQLite returns stored UTC timestamps without a zone, PostgreSQL with one; the
JSON must not depend on which catalog runs (``catalog/json_rows.py`` writes
listings the same way).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ZERO = timedelta(0)


def utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite: stored as UTC, returned without a zone
        return moment.isoformat(timespec="microseconds") + "Z"
    if moment.utcoffset() != ZERO:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
