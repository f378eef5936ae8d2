"""Small dialect helpers: the right ``INSERT … ON CONFLICT`` construct per backend."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["insert_for", "is_sqlite", "upsert"]


def is_sqlite(conn: sa.Connection) -> bool:
    """True on SQLite."""
    return conn.dialect.name == "sqlite"


def insert_for(conn: sa.Connection, table: sa.Table) -> Any:
    """A dialect ``insert`` (with ``on_conflict_do_nothing``/``on_conflict_do_update``)."""
    if is_sqlite(conn):
        return sqlite.insert(table)
    return postgresql.insert(table)


def upsert(conn: sa.Connection, table: sa.Table, key: Sequence[str], update: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET col = excluded.col`` for the ``update``
    columns (``DO NOTHING`` when ``update`` is empty), built once per dialect and kept: the
    parameters are given at execution. Used on the hot paths (scorecards, settings, scorings),
    where building the construct per call cost more than executing it."""
    return _upsert(conn.dialect.name, table, tuple(key), tuple(update))


@functools.lru_cache(maxsize=64)
def _upsert(dialect: str, table: sa.Table, key: tuple[str, ...], update: tuple[str, ...]) -> Any:
    stmt = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(key))
    return stmt.on_conflict_do_update(
        index_elements=list(key), set_={c: stmt.excluded[c] for c in update}
    )
