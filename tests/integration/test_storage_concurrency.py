"""Optimistic concurrency: two units of work change the same review, calibration session or plan
version; the first commit wins, the second gets a typed Conflict, and nothing is lost."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from perfcore.domain.errors import Conflict
from perfcore.domain.events import ScorecardsStale
from perfcore.domain.values import SubjectRef
from perfcore.ports.records import PlanVersion
from perfcore.testing.contract import ContractItem
from perfcore_adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for, upgrade

T0 = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.UTC)
E1 = SubjectRef.person("E1")


def _pair(url: str) -> tuple[SqlAlchemyUnitOfWork, SqlAlchemyUnitOfWork]:
    engine = create_engine_for(url)
    upgrade(engine)
    return SqlAlchemyUnitOfWork(engine), SqlAlchemyUnitOfWork(engine)


@pytest.mark.parametrize("repo", ["reviews", "calibrations"])
def test_the_second_of_two_concurrent_changes_gets_a_conflict(storage_url: str, repo: str) -> None:
    first, second = _pair(storage_url)
    with first:
        getattr(first, repo).add("r1", ContractItem(0, "draft"), subject=E1)
        first.commit()
    with first, second:
        assert getattr(first, repo).get("r1") == ContractItem(0, "draft")
        assert getattr(second, repo).get("r1") == ContractItem(0, "draft")
        getattr(first, repo).add("r1", ContractItem(1, "manager edit"))
        first.commit()
        with pytest.raises(Conflict) as info:
            getattr(second, repo).add("r1", ContractItem(2, "hr edit"))
        assert info.value.field == "key"
    with first:  # the winner's change is kept; the loser reloads and applies on top
        assert getattr(first, repo).get("r1") == ContractItem(1, "manager edit")
    with second:
        assert getattr(second, repo).get("r1") == ContractItem(1, "manager edit")
        getattr(second, repo).add("r1", ContractItem(2, "hr edit"))
        second.commit()
    with first:
        assert getattr(first, repo).get("r1") == ContractItem(2, "hr edit")


def test_two_writers_applying_the_same_plan_number_conflict(storage_url: str) -> None:
    first, second = _pair(storage_url)
    with first, second:
        assert first.plans.latest() is None
        assert second.plans.latest() is None
        first.plans.add(PlanVersion(1, "a" * 64, "name: a\n", "a.yaml", T0))
        first.commit()
        with pytest.raises(Conflict):
            second.plans.add(PlanVersion(1, "b" * 64, "name: b\n", "b.yaml", T0))
    with first:
        assert [v.content_hash for v in first.plans.list()] == ["a" * 64]


def test_committed_events_are_kept_in_the_audit_log(storage_url: str) -> None:

    uow, _ = _pair(storage_url)
    with uow:
        uow.emit(ScorecardsStale(((E1, "2025-03"),)))
        uow.commit()
    with uow:
        uow.emit(ScorecardsStale(((E1, "2025-04"),)))  # rolled back: not audited
    with uow:
        rows = uow.connection.execute(sa.text("SELECT event_type, data FROM audit_events")).all()
    assert [r.event_type for r in rows] == ["ScorecardsStale"]
    assert "2025-03" in rows[0].data
