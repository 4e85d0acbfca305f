"""pixel storage, version, fileset entry and pyramid jobs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fileset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("pixels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("storage", sa.String(length=16),
                                      server_default="fileset", nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0",
                                      nullable=False))
    op.create_table(
        "pyramid_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pixels_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["pixels_id"], ["pixels.id"], ondelete="CASCADE",
                                name=op.f("fk_pyramid_job_pixels_id_pixels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pyramid_job")),
        sa.UniqueConstraint("pixels_id", name=op.f("uq_pyramid_job_pixels_id")),
    )
    with op.batch_alter_table("pyramid_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pyramid_job_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pyramid_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pyramid_job_state"))
    op.drop_table("pyramid_job")
    with op.batch_alter_table("pixels", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("storage")
    with op.batch_alter_table("fileset", schema=None) as batch_op:
        batch_op.drop_column("entry")
