"""Engine factory: SQLite tuned for the embedded case, PostgreSQL through psycopg 3.

Nothing is created at import time; call :func:`create_engine_for` when a URL is known.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from perfcore.domain.errors import InvalidValue
from perfcore_adapters.sqlalchemy.jsonio import dumps, loads

__all__ = ["SQLITE_PRAGMAS", "WalCheckpointer", "create_engine_for", "normalise_url"]

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


class WalCheckpointer:
    """Checkpoints a SQLite WAL file from a background thread, off the request path.

    With automatic checkpoints, the commit that crosses ``wal_autocheckpoint`` pages copies the
    log into the database before returning — a latency spike of ~10 ms every few hundred small
    commits. Engines made by :func:`create_engine_for` for a SQLite *file* turn automatic
    checkpoints off on their connections and start one of these on first connect: a daemon thread
    with its own connection running ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval`` seconds
    (PASSIVE never blocks readers or writers). It stops when the engine is disposed; at process
    exit the last connection to close checkpoints as usual."""

    def __init__(self, path: str, interval: float = 0.5) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.runs = 0

    def start(self) -> None:
        """Start the thread once (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="perfcore-wal-checkpoint", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Ask the thread to finish and wait for it briefly."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                except sqlite3.Error:
                    continue
        finally:
            conn.close()


def create_engine_for(
    url: str | sa.URL, *, background_checkpoint: bool = True, **options: Any
) -> Engine:
    """A new engine for ``url`` (SQLite file or memory, or PostgreSQL).

    SQLite connections get :data:`SQLITE_PRAGMAS`; ``sqlite://`` (memory) shares one connection
    so every unit of work sees the same database. PostgreSQL uses psycopg 3 with
    ``pool_pre_ping``. A SQLite file gets a :class:`WalCheckpointer` unless
    ``background_checkpoint=False`` (then SQLite checkpoints inside commits). JSON columns use
    :mod:`~perfcore_adapters.sqlalchemy.jsonio` (exact decimals). Extra ``options`` go to
    :func:`sqlalchemy.create_engine`.

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
        if background_checkpoint and parsed.database not in (None, "", ":memory:"):
            checkpointer = WalCheckpointer(str(parsed.database))

            def _no_auto_checkpoint(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
                dbapi_conn.execute("PRAGMA wal_autocheckpoint=0").fetchall()
                checkpointer.start()

            event.listen(engine, "connect", _no_auto_checkpoint)
            event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
        return engine
    options.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **options)
