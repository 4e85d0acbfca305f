"""search event log, fed by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# table -> the events a changed row stands for: (kind, id expression over the row "R");
# an id that is a SELECT gives no event when it finds nothing (a channel deleted with
# its pixels: the image's own deletion is the event).
TRIGGERS: dict[str, list[tuple[str, str]]] = {
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


def _inserts(row: str, table: str) -> str:
    """The trigger body's INSERT statements for ``row`` (NEW or OLD); every name in them
    comes from TRIGGERS above, none from outside."""
    statements = []
    for kind, ident in TRIGGERS[table]:
        kind, ident = kind.replace("R.", row + "."), ident.replace("R.", row + ".")
        if ident.startswith("SELECT "):
            column, rest = ident[len("SELECT "):].split(" FROM ", 1)
            statements.append(f"INSERT INTO search_event (kind, object_id) SELECT {kind}, "  # noqa: S608
                              f"{column} FROM {rest};")
        else:
            statements.append(f"INSERT INTO search_event (kind, object_id) VALUES ({kind}, "  # noqa: S608
                              f"{ident});")
    return " ".join(statements)


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
    dialect = op.get_bind().dialect.name
    for table in TRIGGERS:
        if dialect == "sqlite":
            for when, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                op.execute(f"CREATE TRIGGER search_{table}_{when.lower()} AFTER {when} ON "
                           f"{table} BEGIN {_inserts(row, table)} END")
        else:
            op.execute(f"""
                CREATE FUNCTION search_{table}_event() RETURNS trigger AS $$
                BEGIN
                  IF TG_OP = 'DELETE' THEN
                    {_inserts('OLD', table)}
                  ELSE
                    {_inserts('NEW', table)}
                  END IF;
                  RETURN NULL;
                END $$ LANGUAGE plpgsql""")
            op.execute(f"CREATE TRIGGER search_{table}_event AFTER INSERT OR UPDATE OR DELETE "
                       f"ON {table} FOR EACH ROW EXECUTE FUNCTION search_{table}_event()")
    # What exists now is indexed by the first indexer run (it starts from the catalog).


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TRIGGERS:
        if dialect == "sqlite":
            for when in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{when}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_event ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS search_{table}_event()")
    op.drop_table("search_event")
