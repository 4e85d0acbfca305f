"""search event log, fed by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pixelvault.catalog import triggers

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# table -> the events a changed row stands for: (kind, id expression over the row "R");
# an id that is a SELECT gives no event when it finds nothing (a channel deleted with
# its pixels: the image's own deletion is the event).
TRIGGERS: dict[str, triggers.Events] = {
    "project": [("'project'", "R.id")],
    "dataset": [("'dataset'", "R.id")],
    "image": [("'image'", "R.id")],
    "fileset": [("'fileset'", "R.id")],
    "fileset_entry": [("'fileset'", "R.fileset_id")],
    "annotation": [("'annotation'", "R.id")],
    "map_entry": [("'annotation'", "R.annotation_id")],
    "annotation_link": [("'annotation'", "R.annotation_id"), ("R.parent_kind", "R.parent_id")],
    "channel": [("'image'", "SELECT image_id FROM pixels WHERE pixels.id = R.pixels_id")],
    "experimenter": [("'user'", "R.id")],
    "experimenter_group": [("'group'", "R.id")],
}


def upgrade() -> None:
    op.create_table(
        "search_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_event")),
        sqlite_autoincrement=True,
    )
    for table, events in TRIGGERS.items():
        triggers.create(op, table, events)
    # What exists now is indexed by the first indexer run (it starts from the catalog).


def downgrade() -> None:
    for table in TRIGGERS:
        triggers.drop(op, table)
    op.drop_table("search_event")
