"""Fixtures for the storage integration tests: a database URL per backend.

``storage_url`` runs a test on SQLite (a file in ``tmp_path``) and on PostgreSQL (a fresh
database on one throwaway cluster per test session, started from the machine's PostgreSQL
binaries; the PostgreSQL case is skipped with a message when none are installed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
