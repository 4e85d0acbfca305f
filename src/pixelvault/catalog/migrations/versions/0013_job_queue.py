"""job workers among the processes, and the task queue on PostgreSQL

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 20:10:00

On PostgreSQL the background jobs travel through procrastinate's queue, whose
tables and functions are created here from the schema the installed
procrastinate ships (its version is pinned in constraints.txt, so every host
runs against the same schema). The embedded SQLite catalog keeps the jobs in
its own table and needs none of it.
"""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("server_process") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False,
                                   server_default="server"))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = resources.files("procrastinate.sql").joinpath("schema.sql").read_text()
        # the raw driver runs the whole script (functions with $$ bodies) without
        # parameter substitution
        bind.connection.driver_connection.execute(schema)  # type: ignore[union-attr]
        # pyramids queued before the queue existed go on it now
        op.execute("""
            SELECT procrastinate_defer_jobs_v1(ARRAY(
                SELECT ROW('pyramids', 'pixelvault.pyramid', 0, 'pyramid-' || pixels_id,
                           NULL, jsonb_build_object('pixels_id', pixels_id), NULL)
                       ::procrastinate_job_to_defer_v1
                  FROM pyramid_job WHERE state IN ('pending', 'running')))""")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("""
            DO $$
            DECLARE f record;
            BEGIN
                FOR f IN SELECT oid::regprocedure AS sig FROM pg_proc
                         WHERE proname LIKE 'procrastinate\\_%' LOOP
                    EXECUTE 'DROP FUNCTION IF EXISTS ' || f.sig || ' CASCADE';
                END LOOP;
            END $$""")
        for table in ("procrastinate_periodic_defers", "procrastinate_events",
                      "procrastinate_jobs", "procrastinate_workers"):
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        for kind in ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type",
                     "procrastinate_job_status"):
            op.execute(f"DROP TYPE IF EXISTS {kind} CASCADE")
    with op.batch_alter_table("server_process") as batch:
        batch.drop_column("kind")
