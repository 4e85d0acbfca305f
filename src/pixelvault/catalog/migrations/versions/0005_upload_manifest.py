"""upload manifest

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 01:40:18.714526
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fileset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manifest", sa.Text(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("fileset", schema=None) as batch_op:
        batch_op.drop_column("manifest")

