"""The sales example plan on the CRM sales-opportunities data reproduces the reference figures in
``examples/data/crm-sales-opportunities/PROVENANCE.md`` ("Example KPI computations"):

1. win rate = Won / (Won + Lost): overall 4,238 / 6,711 = 63.15 %; per agent from 55.0 %
   (Lajuana Vencill) to 70.4 % (Hayden Neloms); per manager from 62.1 % to 64.4 %.
2. booked revenue = sum of close_value of won deals: 10,005,534 in total; top agent Darcel
   Schlecht 1,153,214; top manager team Melvin Marxen 2,251,930.
3. sales cycle of won deals (close_date - engage_date): mean 51.8 days.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from perfcore.bootstrap import bootstrap
from perfcore.services import commands
from perfcore.services.messagebus import MessageBus
from perfcore.services.records import ScorecardRecord
from perfcore.testing.fakes import FakeClock, InMemoryUnitOfWork, RecordingNotifier

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "sales" / "plan.yaml"
DATA = ROOT / "examples/data/crm-sales-opportunities/sales_pipeline.csv"


@pytest.fixture(scope="module")
def year() -> tuple[MessageBus, list[ScorecardRecord]]:
    clock = FakeClock(dt.datetime(2018, 1, 2, 9, 0, tzinfo=dt.UTC))
    bus = bootstrap(
        uow=InMemoryUnitOfWork(), clock=clock, notifiers={"*": RecordingNotifier()}, plan=PLAN
    )
    with DATA.open(newline="", encoding="ascii") as f:
        closed = [r for r in csv.DictReader(f) if r["deal_stage"] in ("Won", "Lost")]
    result = bus.handle(commands.IngestBatch("crm_pipeline", closed))
    assert (result.read, result.accepted, result.rejected) == (6711, 6711, 0)
    cards = bus.handle(commands.ComputeScorecards(("2017",)))
    return bus, cards


def test_overall_win_rate_is_4238_of_6711(year: tuple[MessageBus, list[ScorecardRecord]]) -> None:
    _, cards = year
    assert sum(c.values["won"] for c in cards) == 4238
    assert sum(c.values["closed"] for c in cards) == 6711


def test_win_rate_per_agent_ranges_from_55_0_to_70_4_percent(
    year: tuple[MessageBus, list[ScorecardRecord]],
) -> None:
    _, cards = year
    rates = {c.subject.id: c.values["win_rate"] for c in cards}
    low = min(rates, key=lambda k: rates[k])
    high = max(rates, key=lambda k: rates[k])
    assert (low, round(rates[low] * 100, 1)) == ("Lajuana Vencill", Decimal("55.0"))
    assert (high, round(rates[high] * 100, 1)) == ("Hayden Neloms", Decimal("70.4"))


def test_win_rate_per_manager_ranges_from_62_1_to_64_4_percent(
    year: tuple[MessageBus, list[ScorecardRecord]],
) -> None:
    bus, cards = year
    plan = bus.ctx.plan()
    won: dict[str, Decimal] = defaultdict(Decimal)
    closed: dict[str, Decimal] = defaultdict(Decimal)
    for c in cards:
        manager = plan.manager_of(c.subject)
        won[manager] += c.values["won"]
        closed[manager] += c.values["closed"]
    rates = sorted(round(won[m] / closed[m] * 100, 1) for m in won)
    assert len(rates) == 6
    assert (rates[0], rates[-1]) == (Decimal("62.1"), Decimal("64.4"))


def test_booked_revenue_totals_and_leaders(
    year: tuple[MessageBus, list[ScorecardRecord]],
) -> None:
    bus, cards = year
    plan = bus.ctx.plan()
    revenue = {c.subject.id: c.values["revenue"] for c in cards}
    assert sum(revenue.values()) == 10_005_534
    top = max(revenue, key=lambda k: revenue[k])
    assert (top, revenue[top]) == ("Darcel Schlecht", 1_153_214)
    by_manager: dict[str, Decimal] = defaultdict(Decimal)
    for c in cards:
        by_manager[plan.manager_of(c.subject)] += c.values["revenue"]
    best = max(by_manager, key=lambda k: by_manager[k])
    assert (best, by_manager[best]) == ("Melvin Marxen", 2_251_930)


def test_mean_sales_cycle_of_won_deals_is_51_8_days(
    year: tuple[MessageBus, list[ScorecardRecord]],
) -> None:
    _, cards = year
    days = sum(c.values["cycle_days"] for c in cards)
    won = sum(c.values["won"] for c in cards)
    assert round(days / won, 1) == Decimal("51.8")


def test_quarterly_incentives_are_paid_once(year: tuple[MessageBus, list[ScorecardRecord]]) -> None:
    bus, _ = year
    first = bus.handle(commands.EvaluateIncentives("2017-Q3"))
    assert first
    assert all(e.amount == Decimal(1000) for e in first)
    assert bus.handle(commands.EvaluateIncentives("2017-Q3")) == []
