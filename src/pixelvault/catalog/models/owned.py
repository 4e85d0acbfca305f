"""What every piece of user data carries: an owner, a group and timestamps.

Every permission check is a predicate on these two columns (see
``catalog/permissions.py``), so every user-data table mixes this in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from pixelvault.catalog.models.base import utcnow


class Owned:
    @declared_attr
    def owner_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy's declared_attr passes the class
        return mapped_column(ForeignKey("experimenter.id"), index=True)

    @declared_attr
    def group_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(ForeignKey("experimenter_group.id"), index=True)

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
