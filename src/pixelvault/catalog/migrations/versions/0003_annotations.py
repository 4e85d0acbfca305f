"""annotations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 22:03:28.535662
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text_value", sa.Text(), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["original_file.id"], name=op.f("fk_annotation_file_id_original_file")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_annotation_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_annotation_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation")),
    )
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annotation_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_annotation_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "annotation_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("annotation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotation.id"],
            name=op.f("fk_annotation_link_annotation_id_annotation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_annotation_link_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_annotation_link_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_link")),
        sa.UniqueConstraint(
            "parent_kind", "parent_id", "annotation_id", name=op.f("uq_annotation_link_parent_kind")
        ),
    )
    with op.batch_alter_table("annotation_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_annotation_link_annotation_id"), ["annotation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_annotation_link_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_annotation_link_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_annotation_link_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_annotation_link_parent_kind"), ["parent_kind"], unique=False
        )

    op.create_table(
        "map_entry",
        sa.Column("annotation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotation.id"],
            name=op.f("fk_map_entry_annotation_id_annotation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("annotation_id", "position", name=op.f("pk_map_entry")),
    )


def downgrade() -> None:
    op.drop_table("map_entry")
    with op.batch_alter_table("annotation_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotation_link_parent_kind"))
        batch_op.drop_index(batch_op.f("ix_annotation_link_parent_id"))
        batch_op.drop_index(batch_op.f("ix_annotation_link_owner_id"))
        batch_op.drop_index(batch_op.f("ix_annotation_link_group_id"))
        batch_op.drop_index(batch_op.f("ix_annotation_link_annotation_id"))

    op.drop_table("annotation_link")
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotation_owner_id"))
        batch_op.drop_index(batch_op.f("ix_annotation_group_id"))

    op.drop_table("annotation")
