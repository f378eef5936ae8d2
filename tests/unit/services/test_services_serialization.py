"""Every domain event survives the JSON round trip used to park failed event handlers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain import events as ev
from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import SubjectRef
from perfcore.services.serialization import event_from_json, event_to_json

E1 = SubjectRef.person("E1")
T = dt.datetime(2025, 3, 3, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))

SAMPLES: list[ev.Event] = [
    ev.PlanApplied(2, "ab" * 32, T),
    ev.EvidenceRecorded("mes:L1:v1", E1, "inspection", T, ("2025-03",)),
    ev.ScorecardsStale(((E1, "2025-03"),), ((E1, "2025-03-03"),)),
    ev.EvidenceRejected("k", "mes", "bad", "fields.good"),
    ev.SourceSynced("mes", "lots", 3, 2, 1),
    ev.ScorecardComputed(E1, "2025-03", 1, Decimal("0.8947"), incremental=True),
    ev.AlertRaised("a", "low", E1, "2025-03", "fpy", Decimal("0.85"), "low", T),
    ev.ReviewOpened("r", E1, "M1", "alert:low:2025-03", T),
    ev.ReviewReminderDue("r", "M1", 1, T),
    ev.ReviewEscalated("r", E1, "D1", 2, T, T),
    ev.FeedbackSubmitted("r", "P1", None, T),
    ev.ReviewSubmitted("r", E1, T, True),
    ev.ReviewFinalized("r", E1, Decimal("4.25")),
    ev.CalibrationAdjusted("s", E1, Decimal(4), Decimal(3), "HR1", "evidence_review"),
    ev.CalibrationLocked("s", ("high over target",)),
    ev.CalibrationPublished("s"),
    ev.IncentiveAwarded("e000001", "rule", E1, "2025-03", Decimal(50), "points"),
    ev.PointsRedeemed("e000002", E1, Decimal(40), "points", "training"),
    ev.MilestoneOverdue("m4", E1, T, ("PM", "HEAD")),
    ev.ChallengeDiagnosed(E1, "too_hard", "coaching_resource_pack"),
]


def test_every_event_class_has_a_sample() -> None:
    names = {type(e).__name__ for e in SAMPLES}
    assert names == {n for n in ev.__all__ if n != "Event"}


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_an_event_round_trips_exactly(event: ev.Event) -> None:
    assert event_from_json(event_to_json(event)) == event


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(InvalidValue):
        event_from_json('{"type": "Nope", "data": {}}')
