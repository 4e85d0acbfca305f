"""SQLAlchemy models of the catalog. Schema changes go through an Alembic migration.

Names follow OMERO's model where a sysadmin would look for them (Experimenter,
ExperimenterGroup, OriginalFile), in snake_case tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Permissions(StrEnum):
    """OMERO's four group permission levels, in OMERO's string form."""

    PRIVATE = "rw----"
    READ_ONLY = "rwr---"
    READ_ANNOTATE = "rwra--"
    READ_WRITE = "rwrw--"


class RepositoryRow(Base):
    """The repository this catalog belongs to; its uuid is the on-disk marker's."""

    __tablename__ = "repository"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


class OriginalFileId(Base):
    """Ids handed out before the bytes are written.

    Bytes go to disk before the OriginalFile row exists, so the id is taken
    here first: a crash then leaves an unused id and a file without a row
    (which cleanse finds), never a row without its file.
    """

    __tablename__ = "original_file_id"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    allocated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = {"sqlite_autoincrement": True}


class OriginalFile(Base):
    __tablename__ = "original_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Which store holds the bytes ("Files" or "ManagedRepository") and where,
    # relative to the repository root so that moving the data dir needs no update.
    store: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mimetype: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    hasher: Mapped[str] = mapped_column(String(32))
    hash: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("experimenter_group.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
