"""Calibration sessions — perfcore's rules after SAP SuccessFactors and 15Five (see docs)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.calibration.guidelines import BucketRule, DistributionGuideline
from perfcore.domain.calibration.ninebox import NineBoxGrid
from perfcore.domain.calibration.scale import BucketMapping
from perfcore.domain.calibration.session import (
    Adjustment,
    CalibrationCycle,
    CalibrationSession,
    Element,
    SessionState,
)
from perfcore.domain.errors import (
    DomainError,
    InvalidTransition,
    InvalidValue,
    NotFound,
    PolicyDenied,
)
from perfcore.domain.values import SubjectRef

T0 = dt.datetime(2025, 12, 1, 9, 0, tzinfo=dt.UTC)
LMH = BucketMapping.of({"L": [1, 2], "M": [3], "H": [4, 5]})
GUIDE = DistributionGuideline.of(
    {"L": "0.1", "M": "0.7", "H": "0.2"}, [BucketRule("H", "<=", "0.2")]
)
E = [SubjectRef.person(f"E{i}") for i in range(10)]
# performance, potential for ten people: 3 in H (30%) against H ≤ 20%
RATINGS = [(5, 4), (4, 3), (4, 5), (3, 3), (3, 2), (2, 1), (3, 3), (3, 4), (3, 3), (3, 3)]


def session(policy: str = "warn", **options: object) -> CalibrationSession:
    s = CalibrationCycle("2025-YE", period=None).session(
        "S1",
        facilitator="hr",
        participants=["m1", "m2"],
        guideline=GUIDE,
        mapping=LMH,
        lock_policy=policy,
        **options,
    )
    for subject, (perf, pot) in zip(E, RATINGS, strict=True):
        s.add_subject(subject, perf, pot)
    return s


def in_session(policy: str = "warn", **options: object) -> CalibrationSession:
    s = session(policy, **options)
    s.open("hr", T0)
    s.start("hr", T0)
    return s


def test_session_walks_draft_open_in_session_locked_published() -> None:
    s = in_session()
    s.adjust(E[1], 3, actor="m1", reason="evidence_review", at=T0)
    s.lock("hr", T0)
    s.publish("hr", T0)
    assert s.state is SessionState.PUBLISHED
    assert [t.target.value for t in s.transitions] == ["open", "in_session", "locked", "published"]


def test_skipping_lock_is_refused_with_the_allowed_states() -> None:
    s = in_session()
    with pytest.raises(InvalidTransition) as err:
        s.publish("hr", T0)
    assert err.value.current == "in_session"
    assert err.value.requested == "published"
    assert err.value.allowed == ("locked",)


def test_rater_edits_are_frozen_once_open() -> None:
    """§1.1/§1.6 pre-work: originals only in DRAFT."""
    s = session()
    s.open("hr", T0)
    with pytest.raises(InvalidTransition) as err:
        s.add_subject(E[0], 1)
    assert err.value.allowed == ("draft",)


def test_adjustment_is_an_immutable_event_and_calibrated_value_replays_them() -> None:
    s = in_session()
    first = s.adjust(E[0], 4, actor="m1", reason="peer_comparison", at=T0, comment="vs E2")
    s.adjust(E[0], 3, actor="hr", reason="evidence_review", at=T0, suggested="3.2", method="zscore")
    assert (first.from_value, first.to_value) == (Decimal(5), Decimal(4))
    assert s.original(E[0]) == Decimal(5)
    assert s.calibrated(E[0]) == Decimal(3)
    assert [a.sequence for a in s.history(E[0])] == [0, 1]
    assert s.adjustments[1].suggested == Decimal("3.2")
    assert s.adjustments[1].method == "zscore"
    with pytest.raises(AttributeError):
        first.to_value = Decimal(1)  # type: ignore[misc]


def test_adjustment_without_a_reason_is_refused() -> None:
    """perfcore's rule: reason (required) — SuccessFactors 'enforce comments on rating change'."""
    s = in_session()
    with pytest.raises(InvalidValue) as err:
        s.adjust(E[0], 4, actor="m1", reason="  ", at=T0)
    assert err.value.field == "reason"
    assert err.value.valid == "a non-empty reason code"
    assert s.adjustments == ()


def test_adjustment_event_itself_refuses_an_empty_reason() -> None:
    with pytest.raises(InvalidValue) as err:
        Adjustment(0, E[0], Element.PERFORMANCE, Decimal(5), Decimal(4), "m1", "", T0)
    assert err.value.field == "reason"


def test_reason_must_come_from_the_configured_codes() -> None:
    s = in_session(reason_codes={"evidence_review", "peer_comparison"})
    with pytest.raises(InvalidValue) as err:
        s.adjust(E[0], 4, actor="m1", reason="gut_feeling", at=T0)
    assert err.value.valid == "evidence_review, peer_comparison"


def test_adjustment_off_the_scale_names_the_field() -> None:
    s = in_session()
    with pytest.raises(InvalidValue) as err:
        s.adjust(E[0], 6, actor="m1", reason="x", at=T0)
    assert (err.value.field, err.value.valid) == ("to", "1..5 in steps of 1")


def test_adjustment_needs_an_aware_time_and_a_known_subject() -> None:
    s = in_session()
    with pytest.raises(InvalidValue):
        s.adjust(E[0], 4, actor="m1", reason="x", at=dt.datetime(2025, 12, 1))
    with pytest.raises(NotFound):
        s.adjust(SubjectRef.person("nobody"), 4, actor="m1", reason="x", at=T0)


def test_only_facilitator_or_participants_may_adjust() -> None:
    s = in_session()
    with pytest.raises(PolicyDenied) as err:
        s.adjust(E[0], 4, actor="stranger", reason="x", at=T0)
    assert err.value.valid == "hr, m1, m2"


def test_only_the_facilitator_moves_the_session() -> None:
    s = session()
    with pytest.raises(PolicyDenied):
        s.open("m1", T0)


def test_adjustments_are_refused_after_lock() -> None:
    s = in_session()
    s.adjust(E[1], 3, actor="m1", reason="x", at=T0)
    s.lock("hr", T0)
    with pytest.raises(InvalidTransition) as err:
        s.adjust(E[0], 4, actor="m1", reason="x", at=T0)
    assert err.value.allowed == ("in_session",)


def test_live_check_gives_the_move_hint() -> None:
    """§1.3: 3 of 10 in H against ≤ 20% → remove max(0, 3 − ⌊10·0.2⌋) = 1."""
    check = in_session().check_guideline()
    assert check is not None
    h = check.buckets[2]
    assert (h.count, h.move) == (3, -1)


def test_lock_with_block_policy_refuses_a_violated_guideline() -> None:
    s = in_session("block")
    with pytest.raises(PolicyDenied) as err:
        s.lock("hr", T0)
    assert err.value.field == "guideline"
    assert "remove 1 person" in err.value.message
    assert s.state is SessionState.IN_SESSION


def test_lock_with_warn_policy_locks_and_keeps_the_warnings() -> None:
    s = in_session("warn")
    result = s.lock("hr", T0)
    assert result is not None
    assert not result.ok
    assert s.state is SessionState.LOCKED
    # H: 3 of 10 against ≤ 20% → remove 1; M: 6 of 10 against the default "= 70%" → add 1
    assert len(s.lock_warnings) == 2
    assert "add 1 person" in s.lock_warnings[0]
    assert "remove 1 person" in s.lock_warnings[1]


def test_block_policy_locks_once_the_committee_fixes_the_distribution() -> None:
    s = in_session("block")
    s.adjust(E[1], 3, actor="m1", reason="evidence_review", at=T0)
    assert s.lock("hr", T0) is not None
    assert s.lock_warnings == ()


def test_publish_can_be_scheduled_after_lock() -> None:
    """§1.1 15Five 'start sharing on', §1.6 step 5: publish at a configured date."""
    s = in_session()
    later = T0 + dt.timedelta(days=3)
    s.lock("hr", T0, publish_at=later)
    assert not s.due_for_publish(T0)
    with pytest.raises(PolicyDenied) as err:
        s.publish("hr", T0)
    assert err.value.field == "publish_at"
    assert s.due_for_publish(later)
    s.publish("hr", later)
    assert s.state is SessionState.PUBLISHED


def test_nine_box_uses_the_explicit_bucket_mapping() -> None:
    """§1.2: {1,2}→L, {3}→M, {4,5}→H; box = 3·potential + performance + 1."""
    s = in_session()
    s.adjust(E[0], 5, element="potential", actor="hr", reason="x", at=T0)
    grid = NineBoxGrid(LMH, LMH, labels={("H", "H"): "Box 9: future leader"})
    placement = s.nine_box(grid)
    assert placement.cells[E[0]].box == 9
    assert placement.cells[E[0]].label == "Box 9: future leader"
    assert placement.cells[E[5]].box == 1
    assert placement.cells[E[5]].label == "Under-performer — improvement plan"
    assert placement.cells[E[1]].box == 6  # performance H (4), potential M (3)
    assert sum(placement.counts().values()) == 10


def test_nine_box_leaves_subjects_without_potential_unplaced() -> None:
    s = CalibrationSession("S2", "2025-YE", "hr")
    s.add_subject(E[0], 3)
    placement = s.nine_box(NineBoxGrid(LMH, LMH))
    assert placement.unplaced == {E[0]: "no calibrated potential rating"}


def test_nine_box_refuses_labels_for_unknown_buckets() -> None:
    with pytest.raises(InvalidValue) as err:
        NineBoxGrid(LMH, LMH, labels={("X", "H"): "?"})
    assert err.value.field == "labels[X,H]"


def test_guideline_without_mapping_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        CalibrationSession("S3", "c", "hr", guideline=GUIDE)
    assert err.value.field == "mapping"


ACTIONS = st.lists(
    st.sampled_from(["open", "start", "lock", "publish", "adjust", "add", "schedule"]),
    max_size=12,
)


@settings(max_examples=80, deadline=None)
@given(ACTIONS, st.sampled_from(["warn", "block"]))
def test_state_machine_never_publishes_without_locking(actions: list[str], policy: str) -> None:
    """Property (issue 4): whatever is tried, PUBLISHED is only ever reached through LOCKED."""
    s = session(policy)
    for action in actions:
        try:
            if action == "open":
                s.open("hr", T0)
            elif action == "start":
                s.start("hr", T0)
            elif action == "lock":
                s.lock("hr", T0)
            elif action == "publish":
                s.publish("hr", T0)
            elif action == "adjust":
                s.adjust(E[1], 3, actor="m1", reason="x", at=T0)
            elif action == "add":
                s.add_subject(E[9], 3, 3)
            else:
                s.schedule_publish("hr", T0)
        except DomainError:
            pass
        states = [t.target for t in s.transitions]
        if s.state is SessionState.PUBLISHED:
            assert SessionState.LOCKED in states
            assert states.index(SessionState.LOCKED) < states.index(SessionState.PUBLISHED)
        assert [t.target for t in s.transitions] == list(SessionState)[1 : len(states) + 1]


def test_session_ratings_feed_the_normalisation_batch() -> None:
    """The two-team vector of docs/calibration.md entered through a session: the mean-shift
    suggestion for team A's 5 is 5 − (4.0 − 3.4) = 4.4 [CALC]."""
    from perfcore.domain.calibration.normalise import mean_shift

    s = CalibrationSession("S4", "c", "hr")
    people = [SubjectRef.person(f"P{i}") for i in range(10)]
    for subject, rating, rater in zip(
        people, [5, 4, 4, 4, 3, 4, 3, 3, 2, 2], ["mA"] * 5 + ["mB"] * 5, strict=True
    ):
        s.add_subject(subject, rating, rater=rater)
    batch, subjects, raters = s.rating_batch()
    assert raters == ("mA", "mB")
    assert subjects == tuple(people)
    assert mean_shift(batch).values[0] == pytest.approx(4.4)
    assert s.rater_of(people[7]) == "mB"
