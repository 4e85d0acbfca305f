"""the parts of a pyramid built by several workers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 04:00:00

A pyramid whose full-resolution level is bigger than ``pixels.pyramid_part``
is cut into ranges of shards, each a job of its own for any worker; a row per
range says which are written, so that exactly one writer, the last, finishes
the smaller levels.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pyramid_part",
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("pyramid_job.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("part", sa.Integer(), primary_key=True),
        sa.Column("first_shard", sa.Integer(), nullable=False),
        sa.Column("last_shard", sa.Integer(), nullable=False),
        sa.Column("temp", sa.String(255), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("progress", sa.Float(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("pyramid_part")
