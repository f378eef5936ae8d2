"""Schema and engine: Alembic migrations round-trip and match the tables; SQLite is tuned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import SubjectRef
from perfcore.services.records import AcceptedEvidence
from perfcore_adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    check,
    create_engine_for,
    current,
    downgrade,
    make_unit_of_work,
    upgrade,
)
from perfcore_adapters.sqlalchemy.tables import metadata

T0 = dt.datetime(2025, 3, 31, 23, 30, tzinfo=dt.UTC)


def _tables(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_round_trip_and_match_the_tables(storage_url: str) -> None:
    upgrade(storage_url)
    assert current(storage_url) is not None
    check(storage_url)  # alembic check: no drift between tables.py and the migrations
    assert _tables(storage_url) == set(metadata.tables)
    downgrade(storage_url, "base")
    assert current(storage_url) is None
    assert _tables(storage_url) == set()
    upgrade(storage_url)
    check(storage_url)
    assert _tables(storage_url) == set(metadata.tables)


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path}/tuned.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()


def test_sqlite_files_are_checkpointed_by_a_background_thread(tmp_path: Path) -> None:
    """Commits never pay for a WAL checkpoint: automatic checkpoints are off and a daemon thread
    checkpoints; disposing of the engine stops it."""
    import threading

    def checkpointers() -> int:
        return sum(t.name == "perfcore-wal-checkpoint" for t in threading.enumerate())

    before = checkpointers()
    engine = create_engine_for(f"sqlite:///{tmp_path}/ckpt.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    assert checkpointers() == before + 1
    engine.dispose()
    assert checkpointers() == before


def test_postgres_urls_use_psycopg_3() -> None:
    engine = create_engine_for("postgresql://u@localhost/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_an_unsupported_database_is_refused_with_the_valid_choices() -> None:
    with pytest.raises(InvalidValue) as info:
        create_engine_for("mysql://u@localhost/db")
    assert info.value.field == "storage"
    assert "postgresql" in str(info.value.valid)


def test_evidence_fields_come_back_with_their_exact_types(storage_url: str) -> None:
    uow = make_unit_of_work(storage_url, tz=dt.UTC)
    values = {
        "good": Decimal("49.125"),
        "note": "ok",
        "passed": True,
        "day": dt.date(2025, 3, 31),
        "closed": dt.datetime(2025, 3, 31, 12, 0, 0, 250, tzinfo=dt.UTC),
        "took": dt.timedelta(hours=1, microseconds=5),
        "missing": None,
    }
    ev = AcceptedEvidence("mes:q:1", "q", SubjectRef.person("E1"), T0, T0, "mes", "1", values)
    with uow:
        uow.evidence.add(ev.key, ev, subject=ev.subject, evidence_type="q", at=T0)
        uow.commit()
    with uow:
        back = uow.evidence.get_by_idempotency_key("mes:q:1")
    assert back == ev
    assert isinstance(back, AcceptedEvidence)
    assert type(back.values["good"]) is Decimal
    assert type(back.values["took"]) is dt.timedelta


def test_period_keys_are_stored_in_the_stores_time_zone(storage_url: str) -> None:
    """23:30 UTC on 31 March is 1 April 07:30 in Asia/Shanghai (UTC+8): the month key follows
    the plan's zone, not UTC."""
    from zoneinfo import ZoneInfo

    uow = make_unit_of_work(storage_url, tz=ZoneInfo("Asia/Shanghai"))
    ev = AcceptedEvidence("k", "q", SubjectRef.person("E1"), T0, T0, "mes", "1", {})
    with uow:
        uow.evidence.add("k", ev, subject=ev.subject, evidence_type="q", at=T0)
        uow.commit()
        row = uow.connection.execute(sa.text("SELECT period_day, period_month FROM evidence")).one()
    assert tuple(row) == ("2025-04-01", "2025-04")
    other = SqlAlchemyUnitOfWork(uow.engine, tz=dt.UTC)
    with other, pytest.raises(InvalidValue) as info:
        other.period_tz()
    assert info.value.valid == "Asia/Shanghai"


def test_without_server_binaries_postgres_cases_skip_and_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from perfcore_adapters.sqlalchemy import testing_pg

    monkeypatch.setattr(testing_pg, "_SHARED", {})
    monkeypatch.setattr(testing_pg, "find_pg_bin", lambda: None)
    with pytest.raises(pytest.skip.Exception) as info:
        testing_pg.fresh_database_url()
    assert "postgresql-15" in str(info.value)
    assert "PERFCORE_PG_BIN" in str(info.value)
