"""failed logins counted in the catalog, for every server process and host

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The login limiter counted in each process's memory: several server processes
    # (or hosts) would each allow the limit.
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failure_key_at", "login_failure", ["key_hash", "at"])
    op.create_index("ix_login_failure_at", "login_failure", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_failure_at", "login_failure")
    op.drop_index("ix_login_failure_key_at", "login_failure")
    op.drop_table("login_failure")
