"""The port contract suites (perfcore.testing.contract) against the SQLAlchemy adapter, on SQLite
and on a throwaway PostgreSQL cluster (fixture ``db_url`` from tests/integration/conftest.py is
not visible here, so this module asks pytest for the ``storage_url`` fixture defined below)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfcore.testing.contract import OutboxContract, RepositoryContract, UnitOfWorkContract
from perfcore_adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for, upgrade
from perfcore_adapters.sqlalchemy.testing_pg import fresh_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/contract.db"
    return fresh_database_url(request)


class _Sql:
    @pytest.fixture
    def uow_factory(self, storage_url: str) -> Callable[[], SqlAlchemyUnitOfWork]:
        engine = create_engine_for(storage_url)
        upgrade(engine)
        return lambda: SqlAlchemyUnitOfWork(engine)


class TestSqlUnitOfWork(_Sql, UnitOfWorkContract):
    pass


class TestSqlRepositories(_Sql, RepositoryContract):
    pass


class TestSqlOutbox(_Sql, OutboxContract):
    pass
