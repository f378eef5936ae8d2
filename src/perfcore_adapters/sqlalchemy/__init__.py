"""SQLAlchemy storage for perfcore: SQLite (embedded default) and PostgreSQL (psycopg 3).

Public API (nothing connects at import time):

- :func:`create_engine_for` — an engine for a URL (SQLite tuned: WAL, foreign keys, busy timeout).
- :class:`SqlAlchemyUnitOfWork` / :func:`make_unit_of_work` — the unit of work port.
- :func:`upgrade`, :func:`downgrade`, :func:`check`, :func:`current` — Alembic migrations shipped
  in this package (``perfcore db upgrade``).
- :mod:`perfcore_adapters.sqlalchemy.pushdown` — indicator values computed in the database.
"""

from perfcore_adapters.sqlalchemy.engine import create_engine_for
from perfcore_adapters.sqlalchemy.migrate import check, current, downgrade, upgrade
from perfcore_adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork, make_unit_of_work

__all__ = [
    "SqlAlchemyUnitOfWork",
    "check",
    "create_engine_for",
    "current",
    "downgrade",
    "make_unit_of_work",
    "upgrade",
]
