"""Read side: scorecards, team dashboard at daily grain, calibration grid, ledger balances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.errors import NotFound
from perfcore.domain.values import SubjectRef
from perfcore.services import commands as c
from perfcore.services import queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock

E1 = SubjectRef.person("E1")
P1 = SubjectRef.person("P1")


def record(bus: MessageBus, who: SubjectRef, at: dt.datetime, inspected: int, good: int) -> None:
    bus.handle(
        c.RecordEvidence("inspection", {"inspected": inspected, "good": good}, at, subject=who)
    )


def test_a_scorecard_is_shaped_for_a_ui(perfcore_bus: MessageBus, fake_clock: FakeClock) -> None:
    record(perfcore_bus, E1, fake_clock.now(), 100, 95)
    card = queries.scorecard(perfcore_bus, E1, "2025-01")
    assert card["total"] == "1.000"  # 0.95 / 0.95, 3 dp
    assert card["values"] == {"inspected": "100", "good": "95", "fpy": "0.95"}
    [line] = card["lines"]
    assert (line["indicator"], line["attainment_percent"], line["score"]) == (
        "fpy",
        "100.00",
        "1.000",
    )
    with pytest.raises(NotFound):
        queries.scorecard(perfcore_bus, P1, "2025-01")


def test_scorecards_rank_by_total(perfcore_bus: MessageBus, fake_clock: FakeClock) -> None:
    record(perfcore_bus, E1, fake_clock.now(), 100, 90)
    record(perfcore_bus, P1, fake_clock.now(), 100, 95)
    assert [r["subject"] for r in queries.scorecards(perfcore_bus, "2025-01")] == [
        "person:P1",
        "person:E1",
    ]


def test_the_team_dashboard_has_one_row_per_person_and_day(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    # fake clock: 2025-01-06 08:00 UTC = 16:00 in Asia/Shanghai (the plan's zone)
    record(perfcore_bus, E1, fake_clock.now(), 10, 9)
    record(perfcore_bus, E1, fake_clock.now() + dt.timedelta(days=1), 10, 10)
    board = queries.team_dashboard(
        perfcore_bus,
        start=dt.date(2025, 1, 6),
        end=dt.date(2025, 1, 8),
        manager="M1",
        indicators=["fpy"],
    )
    assert board["subjects"] == ["person:E1", "person:P1"]
    assert [(r["subject"], r["day"], r["fpy"]) for r in board["rows"]] == [
        ("person:E1", "2025-01-06", "0.9"),
        ("person:E1", "2025-01-07", "1"),
        ("person:E1", "2025-01-08", None),
        ("person:P1", "2025-01-06", None),
        ("person:P1", "2025-01-07", None),
        ("person:P1", "2025-01-08", None),
    ]


def test_calibration_grid_and_ledger_balances(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    record(perfcore_bus, E1, fake_clock.now(), 100, 85)
    with perfcore_bus.uow as uow:
        [review_id] = uow.reviews.open_keys()
    perfcore_bus.handle(c.SubmitReview(review_id, Decimal(5)))
    perfcore_bus.handle(c.FinalizeReview(review_id))
    perfcore_bus.handle(c.RunCalibration("s1", "2025-01", facilitator="HR1"))
    grid = queries.calibration_grid(perfcore_bus, "s1")
    # final = (1 + 4 * 17/19 + 5) / 2 = 4.789..., snapped to 5 -> bucket "high"
    assert grid["subjects"] == [
        {
            "subject": "person:E1",
            "original": "5",
            "calibrated": "5",
            "bucket": "high",
            "adjustments": 0,
            "suggested": None,
            "suggestion_note": "only 1 rating(s); at least 5 needed to normalise",
        }
    ]
    assert grid["method"] == "zscore"
    assert grid["buckets"] == {"low": 0, "mid": 0, "high": 1}
    assert grid["state"] == "in_session"
    perfcore_bus.handle(c.EvaluateIncentives("2025-01"))
    assert queries.ledger_balances(perfcore_bus) == [
        {"subject": "person:E1", "kind": "points", "unit": "points", "balance": "50", "entries": 1}
    ]


def test_scorecards_follow_the_visibility_policy(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    from perfcore.domain.errors import PolicyDenied
    from perfcore.domain.visibility import Viewer

    record(perfcore_bus, E1, fake_clock.now(), 100, 95)
    record(perfcore_bus, P1, fake_clock.now(), 100, 90)
    released = fake_clock.now() + dt.timedelta(days=1)
    # the manager (M1) sees both before release; the employee sees nobody's before release
    manager = queries.scorecards(perfcore_bus, "2025-01", viewer=Viewer("M1"))
    assert [r["subject"] for r in manager] == ["person:E1", "person:P1"]
    assert (
        queries.scorecards(perfcore_bus, "2025-01", viewer=Viewer("E1"), released_at=released) == []
    )
    with pytest.raises(PolicyDenied):
        queries.scorecard(perfcore_bus, E1, "2025-01", viewer=Viewer("E1"), released_at=released)
    fake_clock.advance(days=2)
    # after release the employee sees their own, never a colleague's
    own = queries.scorecards(perfcore_bus, "2025-01", viewer=Viewer("E1"), released_at=released)
    assert [r["subject"] for r in own] == ["person:E1"]
    with pytest.raises(PolicyDenied):
        queries.scorecard(perfcore_bus, P1, "2025-01", viewer=Viewer("E1"), released_at=released)
