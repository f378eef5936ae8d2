"""Fixtures for the storage integration tests: a database URL or a unit of work per backend.

``storage_url`` runs a test on SQLite (a file in ``tmp_path``) and on PostgreSQL (a fresh
database on one throwaway cluster per test session, started from the machine's PostgreSQL
binaries; the PostgreSQL case is skipped with a message when none are installed). ``any_uow``
adds the in-memory fakes as a third backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perfcore.testing.fakes import InMemoryUnitOfWork
from perfcore_adapters.sqlalchemy.testing_pg import fresh_database_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL (the PostgreSQL one is already migrated)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/perfcore.db"
    return fresh_database_url(request)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A migrated PostgreSQL database (skips without binaries)."""
    return fresh_database_url(request)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A unit of work on the in-memory fakes, on SQLite (a file in ``tmp_path``) and on
    PostgreSQL; a SQL engine is disposed after the test."""
    uow: Any
    if request.param == "memory":
        uow = InMemoryUnitOfWork()
    else:
        from perfcore_adapters.sqlalchemy import make_unit_of_work

        url = (
            f"sqlite:///{tmp_path}/perfcore.db"
            if request.param == "sqlite"
            else fresh_database_url(request)
        )
        uow = make_unit_of_work(url)
    yield uow
    engine = getattr(uow, "engine", None)
    if engine is not None:
        engine.dispose()
