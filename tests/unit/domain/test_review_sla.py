"""Ad-hoc reviews: SLA deadline from the trigger, reminders, escalation up the reporting line.

the shop-floor scenario: the manager must complete a short review within 48 hours of the triggering
event. Defaults: reminders 24 h and 4 h before the deadline; escalation every 24 h after it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.errors import Conflict, InvalidValue
from perfcore.domain.review import Review
from perfcore.domain.review_cycle import check_can_add_review
from perfcore.domain.review_scoring import ScoringConfig
from perfcore.domain.review_sla import (
    Escalation,
    Reminder,
    ReviewTrigger,
    SlaPolicy,
    TriggerKind,
    due_actions,
    escalation_chain,
)
from perfcore.domain.values import OrgChart, OrgUnit, Person, SubjectRef

T0 = dt.datetime(2025, 6, 2, 6, 30, tzinfo=dt.UTC)
ORG = OrgChart.build(
    [
        Person("E1", unit_id="line3"),
        Person("M1", unit_id="line3"),
        Person("P1", unit_id="plant"),
        Person("CEO", unit_id="company"),
    ],
    [
        OrgUnit("company", manager_id="CEO"),
        OrgUnit("plant", manager_id="P1", parent_id="company"),
        OrgUnit("line3", manager_id="M1", parent_id="plant"),
    ],
)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def quality_review(created_hours: float = 0.5) -> Review:
    trigger = ReviewTrigger(TriggerKind.QUALITY_EXCEPTION, "QX-1042", T0)
    return Review.ad_hoc(
        "R-QX-1042", SubjectRef.person("E1"), trigger, ScoringConfig(), created_at=at(created_hours)
    )


def keys(actions: list[Reminder | Escalation]) -> list[str]:
    return [a.key for a in actions]


def test_deadline_is_48_hours_after_the_triggering_event_not_after_creation() -> None:
    r = quality_review(created_hours=3)
    assert r.sla_deadline == at(48)
    assert r.clock_start == T0


def test_nothing_is_due_before_the_first_reminder() -> None:
    assert due_actions(quality_review(), at(23.9), ORG) == []


def test_reminders_go_to_the_manager_24_and_4_hours_before_the_deadline() -> None:
    r = quality_review()
    assert keys(due_actions(r, at(24), ORG)) == ["review:R-QX-1042:reminder:86400s"]
    both = due_actions(r, at(44), ORG)
    assert keys(both) == [
        "review:R-QX-1042:reminder:86400s",
        "review:R-QX-1042:reminder:14400s",
    ]
    assert {a.recipient_id for a in both} == {"M1"}
    assert [a.due_at for a in both] == [at(24), at(44)]


def test_sla_48h_breach_at_49h_produces_exactly_one_escalation_to_the_manager() -> None:
    actions = due_actions(quality_review(), at(49), ORG)
    assert len(actions) == 1
    (esc,) = actions
    assert isinstance(esc, Escalation)
    assert (esc.level, esc.recipient_id, esc.due_at, esc.deadline) == (1, "M1", at(48), at(48))
    assert esc.key == "review:R-QX-1042:escalation:1"


def test_escalation_reaches_the_managers_manager_one_interval_later() -> None:
    r = quality_review()
    assert keys(due_actions(r, at(72), ORG)) == ["review:R-QX-1042:escalation:1"]
    later = due_actions(r, at(73), ORG)
    assert [(a.level, a.recipient_id) for a in later if isinstance(a, Escalation)] == [
        (1, "M1"),
        (2, "P1"),
    ]
    top = due_actions(r, at(500), ORG)
    assert [a.recipient_id for a in top] == ["M1", "P1", "CEO"]  # the line runs out


def test_due_actions_is_idempotent_and_sent_keys_are_filtered() -> None:
    r = quality_review()
    first = due_actions(r, at(73), ORG)
    assert due_actions(r, at(73), ORG) == first
    sent = {"review:R-QX-1042:escalation:1"}
    assert keys(due_actions(r, at(73), ORG, sent=sent)) == ["review:R-QX-1042:escalation:2"]


def test_max_levels_stops_escalation() -> None:
    trigger = ReviewTrigger(TriggerKind.ALERT, "OEE-7", T0)
    r = Review.ad_hoc(
        "R2",
        SubjectRef.person("E1"),
        trigger,
        ScoringConfig(),
        created_at=T0,
        sla=SlaPolicy(max_levels=1),
    )
    assert [a.recipient_id for a in due_actions(r, at(500), ORG)] == ["M1"]


def test_a_submitted_review_has_nothing_due_and_records_its_response_time() -> None:
    r = quality_review().set_indicator_score(3, by="sys", at=at(1))
    r = r.submit(by="M1", at=at(30))
    assert due_actions(r, at(60), ORG) == []
    assert r.response_time == dt.timedelta(hours=30)
    assert not r.sla_breached(at(60))


def test_a_response_at_49h_is_a_breach_and_one_exactly_at_48h_is_on_time() -> None:
    late = quality_review().set_indicator_score(3, by="sys", at=at(1)).submit(by="M1", at=at(49))
    assert late.sla_breached(at(49))
    assert late.response_time == dt.timedelta(hours=49)
    ok = quality_review().set_indicator_score(3, by="sys", at=at(1)).submit(by="M1", at=at(48))
    assert not ok.sla_breached(at(100))
    pending = quality_review()
    assert not pending.sla_breached(at(48))
    assert pending.sla_breached(at(48.01))


def test_team_subject_escalates_to_the_team_unit_manager_then_up() -> None:
    assert escalation_chain(SubjectRef.team("line3"), ORG) == ["M1", "P1", "CEO"]
    assert escalation_chain(SubjectRef.person("ghost"), ORG) == []


def test_the_same_trigger_cannot_open_two_live_reviews() -> None:
    first = quality_review()
    again = Review.ad_hoc(
        "R-dup",
        SubjectRef.person("E1"),
        ReviewTrigger(TriggerKind.QUALITY_EXCEPTION, "QX-1042", at(2)),
        ScoringConfig(),
        created_at=at(2),
    )
    with pytest.raises(Conflict) as err:
        check_can_add_review([], [first], again)
    assert "quality_exception:QX-1042" in str(err.value)
    cancelled = first.cancel(by="M1", at=at(1), reason="duplicate ticket")
    check_can_add_review([], [cancelled], again)


def test_sla_policy_validates_its_durations() -> None:
    with pytest.raises(InvalidValue) as err:
        SlaPolicy(reminders_before=(dt.timedelta(hours=50),))
    assert err.value.field == "sla.reminders_before[0]"
    with pytest.raises(InvalidValue):
        SlaPolicy(respond_within=dt.timedelta(0))
    with pytest.raises(InvalidValue):
        ReviewTrigger(TriggerKind.ALERT, "A", dt.datetime(2025, 1, 1))
    with pytest.raises(InvalidValue) as kind_err:
        ReviewTrigger("not_a_kind", "A", T0)
    assert kind_err.value.field == "trigger.kind"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=30))
def test_polling_at_any_ticks_sends_each_action_once_and_escalations_in_order(
    ticks: list[float],
) -> None:
    """Property: a service that polls at arbitrary times and remembers keys sends every action at
    most once, escalation levels in increasing order, and never a reminder after the deadline."""
    r = quality_review()
    sent: list[Reminder | Escalation] = []
    for h in sorted(ticks):
        new = due_actions(r, at(h), ORG, sent={a.key for a in sent})
        for a in new:
            if isinstance(a, Reminder):
                assert at(h) < a.deadline
        sent += new
    assert len({a.key for a in sent}) == len(sent)
    levels = [a.level for a in sent if isinstance(a, Escalation)]
    assert levels == sorted(levels)
    assert levels == list(range(1, len(levels) + 1))


def test_sla_report_counts_breaches_and_response_times() -> None:
    """Three ad-hoc reviews answered after 6 h, 30 h and 50 h, one unanswered at 60 h, one
    cancelled: 4 counted, 3 answered, 2 breached (50 h late, unanswered past 48 h), on-time rate
    2/4, mean (6 + 30 + 50)/3 = 28.666… h, median 30 h."""
    from fractions import Fraction

    from perfcore.domain.review_sla import sla_report

    def answered(rid: str, hours: float) -> Review:
        trig = ReviewTrigger(TriggerKind.ALERT, rid, T0)
        r = Review.ad_hoc(rid, SubjectRef.person("E1"), trig, ScoringConfig(), created_at=T0)
        return r.set_indicator_score(3, by="sys", at=T0).submit(by="M1", at=at(hours))

    unanswered = Review.ad_hoc(
        "U",
        SubjectRef.person("E1"),
        ReviewTrigger(TriggerKind.ALERT, "U", T0),
        ScoringConfig(),
        created_at=T0,
    )
    cancelled = unanswered.cancel(by="M1", at=at(1), reason="false alarm")
    rep = sla_report(
        [answered("A", 6), answered("B", 30), answered("C", 50), unanswered, cancelled], at(60)
    )
    assert (rep.reviews, rep.answered, rep.with_sla, rep.breached) == (4, 3, 4, 2)
    assert rep.on_time_rate == Fraction(1, 2)
    assert rep.median_response == dt.timedelta(hours=30)
    assert rep.mean_response == dt.timedelta(hours=86) / 3
