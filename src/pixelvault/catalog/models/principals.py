"""Users, groups, memberships and login sessions (OMERO's Experimenter model)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixelvault.catalog.models.base import Base, utcnow


class Permissions(StrEnum):
    """OMERO's four group permission levels, in OMERO's string form."""

    PRIVATE = "rw----"
    READ_ONLY = "rwr---"
    READ_ANNOTATE = "rwra--"
    READ_WRITE = "rwrw--"


class ExperimenterGroup(Base):
    __tablename__ = "experimenter_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    permissions: Mapped[str] = mapped_column(String(6), default=Permissions.PRIVATE.value)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    memberships: Mapped[list[GroupMembership]] = relationship(back_populates="group")


class Experimenter(Base):
    __tablename__ = "experimenter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    # argon2id hash; None means the account cannot log in with a password.
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    default_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("experimenter_group.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    memberships: Mapped[list[GroupMembership]] = relationship(back_populates="experimenter")


class GroupMembership(Base):
    __tablename__ = "group_membership"

    experimenter_id: Mapped[int] = mapped_column(
        ForeignKey("experimenter.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("experimenter_group.id", ondelete="CASCADE"), primary_key=True
    )
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)

    experimenter: Mapped[Experimenter] = relationship(back_populates="memberships")
    group: Mapped[ExperimenterGroup] = relationship(back_populates="memberships")
