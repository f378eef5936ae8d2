"""The garment example plan on the real UCI 597 data reproduces the reference figures in
``examples/data/garment-worker-productivity/PROVENANCE.md`` ("Example KPI computations"):

1. 875 of 1,197 team-days met target (73.1 %);
   met-rate by (trimmed department, team) from 31.4 % (finishing team 6, 35 days) to 98.3 %
   (sewing team 12, 59 days).
3. only 18 team-days have idle_time > 0.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from perfcore.bootstrap import bootstrap
from perfcore.domain.values import SubjectRef
from perfcore.services import commands, queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock, InMemoryUnitOfWork, RecordingNotifier

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "garment" / "plan.yaml"
DATA = ROOT / "examples/data/garment-worker-productivity/garments_worker_productivity.csv"


@pytest.fixture(scope="module")
def bus() -> MessageBus:
    clock = FakeClock(dt.datetime(2015, 3, 12, 8, 0, tzinfo=dt.UTC))
    bus = bootstrap(
        uow=InMemoryUnitOfWork(), clock=clock, notifiers={"*": RecordingNotifier()}, plan=PLAN
    )
    with DATA.open(newline="", encoding="ascii") as f:
        rows = list(csv.DictReader(f))
    result = bus.handle(commands.IngestBatch("uci_csv", rows))
    assert (result.read, result.accepted, result.rejected) == (1197, 1197, 0)
    return bus


def test_875_of_1197_team_days_met_target(bus: MessageBus) -> None:
    with bus.uow as uow:
        cards = [card for _, _, card in uow.scorecards.list()]
    assert {c.period_key for c in cards} == {"2015-01", "2015-02", "2015-03"}
    assert sum(c.values["team_days"] for c in cards) == 1197
    assert sum(c.values["met_days"] for c in cards) == 875


def test_met_rate_over_the_quarter_runs_from_31_4_to_98_3_percent(bus: MessageBus) -> None:
    [cards] = [bus.handle(commands.ComputeScorecards(("2015-Q1",)))]
    rates = {str(c.subject): c.values["met_rate"] for c in cards}
    low = min(rates, key=lambda k: rates[k])
    high = max(rates, key=lambda k: rates[k])
    assert (low, rates[low]) == ("team:finishing-6", Decimal(11) / Decimal(35))  # 31.4 %
    assert (high, rates[high]) == ("team:sweing-12", Decimal(58) / Decimal(59))  # 98.3 %


def test_idle_time_appears_on_18_team_days(bus: MessageBus) -> None:
    with bus.uow as uow:
        rows = [e for e in uow.evidence.list() if e.values["idle_time"] > 0]
    assert len(rows) == 18


def test_attainment_is_a_ratio_of_sums_not_a_mean_of_daily_ratios(bus: MessageBus) -> None:
    # computed independently from the CSV: sewing team 12, January 2015
    with DATA.open(newline="", encoding="ascii") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if r["department"].strip() == "sweing"
            and r["team"] == "12"
            and r["date"].startswith("1/")
        ]
    actual = sum(Decimal(r["actual_productivity"]) for r in rows)
    target = sum(Decimal(r["targeted_productivity"]) for r in rows)
    mean_of_ratios = sum(
        Decimal(r["actual_productivity"]) / Decimal(r["targeted_productivity"]) for r in rows
    ) / len(rows)
    card = queries.scorecard(bus, SubjectRef.team("sweing-12"), "2015-01")
    assert Decimal(card["values"]["attainment"]) == actual / target
    assert actual / target != mean_of_ratios


def test_low_attainment_opens_reviews_assigned_to_the_floor_supervisor(bus: MessageBus) -> None:
    inbox = queries.review_inbox(bus)
    assert inbox
    assert {r["assignee"] for r in inbox} <= {"SUP-SEW", "SUP-FIN"}
