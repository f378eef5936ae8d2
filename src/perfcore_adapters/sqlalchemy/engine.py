"""Engine factory: SQLite tuned for the embedded case, PostgreSQL through psycopg 3.

Nothing is created at import time; call :func:`create_engine_for` when a URL is known.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from perfcore.domain.errors import InvalidValue
from perfcore_adapters.sqlalchemy.jsonio import dumps, loads

__all__ = ["SQLITE_PRAGMAS", "create_engine_for", "normalise_url"]

SQLITE_PRAGMAS: tuple[tuple[str, str], ...] = (
    ("journal_mode", "WAL"),
    ("foreign_keys", "ON"),
    ("busy_timeout", "5000"),
    ("synchronous", "NORMAL"),
    ("temp_store", "MEMORY"),
    ("cache_size", "-65536"),
)
"""Applied to every new SQLite connection: write-ahead log (readers never block the writer),
foreign keys enforced, a 5 s busy timeout instead of an immediate ``database is locked``,
``synchronous=NORMAL`` (durable at each WAL checkpoint; a crash loses no committed transaction of
the application, only possibly the last ones on power loss), temp tables in memory, 64 MiB page
cache."""


def normalise_url(url: str | sa.URL) -> sa.URL:
    """Parse ``url``; ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://``.

    Raises:
        InvalidValue: not a URL, or a database other than SQLite or PostgreSQL
            (field ``storage``).
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise InvalidValue(
            f"{url!r} is not a database URL",
            field="storage",
            valid="sqlite:///path.db or postgresql+psycopg://user@host/db",
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise InvalidValue(
        f"unsupported database {backend!r}",
        field="storage",
        valid="sqlite or postgresql",
    )


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for name, value in SQLITE_PRAGMAS:
        cur.execute(f"PRAGMA {name}={value}")
    cur.close()


def create_engine_for(url: str | sa.URL, **options: Any) -> Engine:
    """A new engine for ``url`` (SQLite file or memory, or PostgreSQL).

        SQLite connections get :data:`SQLITE_PRAGMAS`; ``sqlite://`` (memory) shares one connection
        so every unit of work sees the same database. PostgreSQL uses psycopg 3 with
        ``pool_pre_ping``. JSON columns use :mod:`~perfcore_adapters.sqlalchemy.jsonio` (exact
    decimals). Extra ``options`` go to :func:`sqlalchemy.create_engine`.

        Raises:
            InvalidValue: see :func:`normalise_url`.
    """
    parsed = normalise_url(url)
    options.setdefault("json_serializer", dumps)
    options.setdefault("json_deserializer", loads)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            options.setdefault("poolclass", StaticPool)
            options.setdefault("connect_args", {"check_same_thread": False})
        engine = sa.create_engine(parsed, **options)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    options.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **options)
