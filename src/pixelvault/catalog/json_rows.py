"""Let the database write a page of rows as JSON text.

Listings are the hottest reads of the API. Turning 200 rows into Python
objects and then into JSON costs several times what the query does, so for
them the database builds the JSON array itself (SQLite's json_group_array,
PostgreSQL's json_agg) and the server passes the text on. Timestamps come out
as ISO 8601 in UTC with a ``Z``, the same on both databases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, Text, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by


def _iso_utc(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff", already UTC.
    return func.replace(column, " ", "T").concat("Z")


def json_page_statement(columns: Mapping[str, ColumnElement[Any]],
                        where: Sequence[ColumnElement[bool]], order_by: str,
                        dialect: str) -> Select[Any]:
    """A statement giving one row: the page as a JSON array of objects keyed like
    ``columns``, ordered by the column named ``order_by``. Offset and limit are the
    bound parameters ``pv_offset`` and ``pv_limit``, so that one statement, built
    once, serves every page."""
    page = (select(*(column.label(key) for key, column in columns.items()))
            .where(*where).order_by(columns[order_by])
            .offset(bindparam("pv_offset")).limit(bindparam("pv_limit")).subquery())
    pairs: list[Any] = []
    for key, column in columns.items():
        value = page.c[key]
        if isinstance(column.type, DateTime):
            value = _iso_utc(value, dialect)
        pairs += [literal(key), value]
    if dialect == "postgresql":
        array = func.coalesce(cast(func.json_agg(aggregate_order_by(
            func.json_build_object(*pairs), page.c[order_by])), Text), "[]")
    else:
        # A subquery with ORDER BY and LIMIT feeds the aggregate in that order.
        array = func.coalesce(func.json_group_array(func.json_object(*pairs)), "[]")
    return select(array).select_from(page)
