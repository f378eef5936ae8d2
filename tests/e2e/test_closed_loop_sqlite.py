"""The same closed loop as ``test_closed_loop_inmemory.py`` on the embedded SQLite storage
(``perfcore.bootstrap.embedded``), every step run twice; and the state survives a restart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from perfcore.bootstrap import embedded
from perfcore.domain.values import SubjectRef
from perfcore.services import commands as c
from perfcore.services import queries
from perfcore.testing.fakes import FakeClock, RecordingNotifier

PLAN = Path(__file__).parent / "loop_plan.yaml"
E1 = SubjectRef.person("E1")
START = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)


def test_the_closed_loop_on_sqlite_is_idempotent_and_durable(tmp_path: Path) -> None:
    db = tmp_path / "perfcore.db"
    clock = FakeClock(START)
    notifier = RecordingNotifier()
    bus = embedded(db, clock=clock, notifiers={"*": notifier}, plan=PLAN)
    evidence = c.RecordEvidence(
        "inspection", {"inspected": 100, "good": 85}, START, external_id="lot-1", subject=E1
    )
    assert [bus.handle(evidence), bus.handle(evidence)] == [True, False]
    assert queries.scorecard(bus, E1, "2025-03")["total"] == "0.895"  # 17/19
    [row] = queries.review_inbox(bus)
    review_id = row["review_id"]
    clock.advance(hours=49)
    assert [bus.handle(c.TickClock()).escalations for _ in range(2)] == [1, 0]
    for cmd in (
        c.SubmitFeedback(review_id, "P1", Decimal(3)),
        c.SubmitReview(review_id, Decimal(4)),
        c.FinalizeReview(review_id),
        c.RunCalibration("cal", "2025-03", facilitator="HR1"),
        c.AdjustRating("cal", E1, Decimal(3), actor="HR1", reason="evidence_review"),
        c.LockCalibration("cal"),
        c.PublishCalibration("cal"),
    ):
        bus.handle(cmd)
        bus.handle(cmd)
    assert len(bus.handle(c.EvaluateIncentives("2025-03"))) == 1
    assert bus.handle(c.EvaluateIncentives("2025-03")) == []

    # a new process on the same file sees the same state and pays nothing again
    restarted = embedded(db, clock=clock, notifiers={"*": RecordingNotifier()})
    assert restarted.handle(c.EvaluateIncentives("2025-03")) == []
    assert queries.ledger_balances(restarted) == [
        {"subject": "person:E1", "kind": "points", "unit": "points", "balance": "50", "entries": 1}
    ]
    assert queries.calibration_grid(restarted, "cal")["subjects"][0]["calibrated"] == "3"
    escalations = [b for b in notifier.bodies() if "Escalated to you" in b]
    assert len(escalations) == 1
