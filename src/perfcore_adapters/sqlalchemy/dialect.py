"""Small dialect helpers: the right ``INSERT … ON CONFLICT`` construct per backend."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["insert_for", "is_sqlite"]


def is_sqlite(conn: sa.Connection) -> bool:
    """True on SQLite."""
    return conn.dialect.name == "sqlite"


def insert_for(conn: sa.Connection, table: sa.Table) -> Any:
    """A dialect ``insert`` (with ``on_conflict_do_nothing``/``on_conflict_do_update``)."""
    if is_sqlite(conn):
        return sqlite.insert(table)
    return postgresql.insert(table)
