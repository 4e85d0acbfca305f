"""Login sessions. Only a hash of each token is stored: a leaked catalog opens nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pixelvault.catalog.models.base import Base, utcnow


class LoginSession(Base):
    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id", ondelete="CASCADE"),
                                         index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("experimenter_group.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    client: Mapped[str] = mapped_column(String(255), default="")
    # Rendering settings copied in a viewer (OMERO.web keeps them in its session), JSON
    clipboard: Mapped[str | None] = mapped_column(Text, nullable=True)


class LoginFailure(Base):
    """One failed login, counted for a key (a user name from an address, an address, a
    user name), kept for the limiter's window. The key is stored hashed: the names
    people mistype, and their addresses, are not kept in the catalog. Every server
    process, on every host, counts the same failures."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
