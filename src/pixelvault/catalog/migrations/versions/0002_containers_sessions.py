"""projects, datasets, images and login sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:46:10.874748
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_dataset_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_dataset_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
    )
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_image_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_image_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image")),
    )
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_image_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_login_session_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["experimenter.id"],
            name=op.f("fk_login_session_user_id_experimenter"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_project_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_project_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "dataset_image_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["image.id"],
            name=op.f("fk_dataset_image_link_child_id_image"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_dataset_image_link_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["experimenter.id"],
            name=op.f("fk_dataset_image_link_owner_id_experimenter"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_image_link_parent_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_image_link")),
        sa.UniqueConstraint("parent_id", "child_id", name=op.f("uq_dataset_image_link_parent_id")),
    )
    with op.batch_alter_table("dataset_image_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_image_link_child_id"), ["child_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_image_link_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_image_link_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_image_link_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "project_dataset_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["dataset.id"],
            name=op.f("fk_project_dataset_link_child_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_project_dataset_link_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["experimenter.id"],
            name=op.f("fk_project_dataset_link_owner_id_experimenter"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["project.id"],
            name=op.f("fk_project_dataset_link_parent_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_dataset_link")),
        sa.UniqueConstraint(
            "parent_id", "child_id", name=op.f("uq_project_dataset_link_parent_id")
        ),
    )
    with op.batch_alter_table("project_dataset_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_dataset_link_child_id"), ["child_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_project_dataset_link_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_project_dataset_link_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_project_dataset_link_parent_id"), ["parent_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("project_dataset_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_dataset_link_parent_id"))
        batch_op.drop_index(batch_op.f("ix_project_dataset_link_owner_id"))
        batch_op.drop_index(batch_op.f("ix_project_dataset_link_group_id"))
        batch_op.drop_index(batch_op.f("ix_project_dataset_link_child_id"))

    op.drop_table("project_dataset_link")
    with op.batch_alter_table("dataset_image_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_image_link_parent_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_image_link_owner_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_image_link_group_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_image_link_child_id"))

    op.drop_table("dataset_image_link")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_owner_id"))
        batch_op.drop_index(batch_op.f("ix_project_group_id"))

    op.drop_table("project")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_session_user_id"))

    op.drop_table("login_session")
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_owner_id"))
        batch_op.drop_index(batch_op.f("ix_image_group_id"))

    op.drop_table("image")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_owner_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_group_id"))

    op.drop_table("dataset")
