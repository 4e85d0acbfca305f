"""rendering settings and thumbnails

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rendering_def",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pixels_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("default_z", sa.Integer(), nullable=False),
        sa.Column("default_t", sa.Integer(), nullable=False),
        sa.Column("projection", sa.String(length=16), nullable=False),
        sa.Column("projection_start", sa.Integer(), nullable=True),
        sa.Column("projection_end", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["experimenter.id"], ondelete="CASCADE",
                                name=op.f("fk_rendering_def_owner_id_experimenter")),
        sa.ForeignKeyConstraint(["pixels_id"], ["pixels.id"], ondelete="CASCADE",
                                name=op.f("fk_rendering_def_pixels_id_pixels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rendering_def")),
        sa.UniqueConstraint("pixels_id", "owner_id", name=op.f("uq_rendering_def_pixels_id")),
    )
    with op.batch_alter_table("rendering_def", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rendering_def_owner_id"), ["owner_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_rendering_def_pixels_id"), ["pixels_id"],
                              unique=False)
    op.create_table(
        "channel_binding",
        sa.Column("rdef_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("window_end", sa.Float(), nullable=False),
        sa.Column("color", sa.String(length=6), nullable=False),
        sa.Column("lut", sa.String(length=64), nullable=False),
        sa.Column("inverted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["rdef_id"], ["rendering_def.id"], ondelete="CASCADE",
                                name=op.f("fk_channel_binding_rdef_id_rendering_def")),
        sa.PrimaryKeyConstraint("rdef_id", "index", name=op.f("pk_channel_binding")),
    )
    op.create_table(
        "thumbnail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pixels_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("size_x", sa.Integer(), nullable=False),
        sa.Column("size_y", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rdef_version", sa.Integer(), nullable=False),
        sa.Column("pixels_version", sa.Integer(), nullable=False),
        sa.Column("rdef_key", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["experimenter.id"], ondelete="CASCADE",
                                name=op.f("fk_thumbnail_owner_id_experimenter")),
        sa.ForeignKeyConstraint(["pixels_id"], ["pixels.id"], ondelete="CASCADE",
                                name=op.f("fk_thumbnail_pixels_id_pixels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thumbnail")),
        sa.UniqueConstraint("pixels_id", "owner_id", "size_x", "size_y",
                            name=op.f("uq_thumbnail_pixels_id")),
    )
    with op.batch_alter_table("thumbnail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thumbnail_pixels_id"), ["pixels_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("thumbnail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thumbnail_pixels_id"))
    op.drop_table("thumbnail")
    op.drop_table("channel_binding")
    with op.batch_alter_table("rendering_def", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rendering_def_pixels_id"))
        batch_op.drop_index(batch_op.f("ix_rendering_def_owner_id"))
    op.drop_table("rendering_def")
