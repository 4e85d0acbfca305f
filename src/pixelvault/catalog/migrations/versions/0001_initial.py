"""initial catalog: repository, users, groups, original files

Revision ID: 0001
Revises:
Create Date: 2026-11-23 20:58:17.178528
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experimenter_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("permissions", sa.String(length=6), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experimenter_group")),
        sa.UniqueConstraint("name", name=op.f("uq_experimenter_group_name")),
    )
    op.create_table(
        "original_file_id",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_original_file_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "repository",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repository")),
        sa.UniqueConstraint("uuid", name=op.f("uq_repository_uuid")),
    )
    op.create_table(
        "experimenter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("first_name", sa.String(length=255), nullable=False),
        sa.Column("last_name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("default_group_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["default_group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_experimenter_default_group_id_experimenter_group"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experimenter")),
        sa.UniqueConstraint("username", name=op.f("uq_experimenter_username")),
    )
    op.create_table(
        "group_membership",
        sa.Column("experimenter_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("is_owner", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experimenter_id"],
            ["experimenter.id"],
            name=op.f("fk_group_membership_experimenter_id_experimenter"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_group_membership_group_id_experimenter_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("experimenter_id", "group_id", name=op.f("pk_group_membership")),
    )
    op.create_table(
        "original_file",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("store", sa.String(length=32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mimetype", sa.String(length=255), nullable=False),
        sa.Column("hasher", sa.String(length=32), nullable=False),
        sa.Column("hash", sa.String(length=128), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_original_file_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_original_file_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_original_file")),
    )
    with op.batch_alter_table("original_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_original_file_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_original_file_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("original_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_original_file_owner_id"))
        batch_op.drop_index(batch_op.f("ix_original_file_group_id"))

    op.drop_table("original_file")
    op.drop_table("group_membership")
    op.drop_table("experimenter")
    op.drop_table("repository")
    op.drop_table("original_file_id")
    op.drop_table("experimenter_group")
