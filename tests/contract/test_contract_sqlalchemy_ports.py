"""The port contract suites (perfcore.testing.contract) against the SQLAlchemy adapter, on SQLite
and on a throwaway PostgreSQL cluster (perfcore_adapters.sqlalchemy.testing_pg; the PostgreSQL
cases skip with a message where no server binaries are installed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from perfcore.testing.contract import OutboxContract, RepositoryContract, UnitOfWorkContract
from perfcore_adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for, upgrade
from perfcore_adapters.sqlalchemy.testing_pg import fresh_database_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/contract.db"
    return fresh_database_url(request)


class _Sql:
    @pytest.fixture
    def uow_factory(self, storage_url: str) -> Iterator[Callable[[], SqlAlchemyUnitOfWork]]:
        engine = create_engine_for(storage_url)
        upgrade(engine)
        yield lambda: SqlAlchemyUnitOfWork(engine)
        engine.dispose()


class TestSqlUnitOfWork(_Sql, UnitOfWorkContract):
    pass


class TestSqlRepositories(_Sql, RepositoryContract):
    pass


class TestSqlOutbox(_Sql, OutboxContract):
    pass
