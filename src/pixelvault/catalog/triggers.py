"""The triggers that feed ``search_event``: the DDL migrations create and drop.

A changed row stands for one or more search events, each a (kind, id expression
over the row "R") pair; an id that is a SELECT gives no event when it finds
nothing. Every name in the DDL comes from the migrations' own tables, none from
outside.
"""

from __future__ import annotations

from typing import Any

Events = list[tuple[str, str]]


def _inserts(row: str, events: Events) -> str:
    statements = []
    for kind, ident in events:
        kind, ident = kind.replace("R.", row + "."), ident.replace("R.", row + ".")
        if ident.startswith("SELECT "):
            column, rest = ident[len("SELECT "):].split(" FROM ", 1)
            statements.append(f"INSERT INTO search_event (kind, object_id) SELECT {kind}, "  # noqa: S608
                              f"{column} FROM {rest};")
        else:
            statements.append(f"INSERT INTO search_event (kind, object_id) VALUES ({kind}, "  # noqa: S608
                              f"{ident});")
    return " ".join(statements)


def create(op: Any, table: str, events: Events) -> None:
    """Triggers on ``table`` after every insert, update and delete."""
    if op.get_bind().dialect.name == "sqlite":
        for when, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(f"CREATE TRIGGER search_{table}_{when.lower()} AFTER {when} ON "
                       f"{table} BEGIN {_inserts(row, events)} END")
        return
    op.execute(f"""
        CREATE FUNCTION search_{table}_event() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            {_inserts('OLD', events)}
          ELSE
            {_inserts('NEW', events)}
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""")
    op.execute(f"CREATE TRIGGER search_{table}_event AFTER INSERT OR UPDATE OR DELETE "
               f"ON {table} FOR EACH ROW EXECUTE FUNCTION search_{table}_event()")


def drop(op: Any, table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for when in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{when}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS search_{table}_event ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS search_{table}_event()")
