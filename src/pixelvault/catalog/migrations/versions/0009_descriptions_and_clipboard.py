"""annotation descriptions; a session's copied rendering settings

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # OMERO's annotations carry a description (OMERO.figure keeps a figure's name and
    # first image there); OMERO.web keeps copied rendering settings in the session.
    # A plain ADD COLUMN: SQLite's batch mode would rebuild the tables and drop the
    # search triggers 0008 put on them.
    op.add_column("annotation", sa.Column("description", sa.Text(), nullable=False,
                                          server_default=""))
    op.add_column("login_session", sa.Column("clipboard", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later) for the same reason.
    op.drop_column("login_session", "clipboard")
    op.drop_column("annotation", "description")
