"""Review state machine, immutability after finalization, reopen/amend records, scoring config."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.errors import InvalidTransition, InvalidValue, InvalidWeight
from perfcore.domain.review import Review, ReviewState
from perfcore.domain.review_scoring import (
    ComponentConfig,
    ComponentKind,
    CriteriaSet,
    RatingScale,
    ScoringConfig,
    combine_components,
)
from perfcore.domain.review_sla import ReviewTrigger, TriggerKind
from perfcore.domain.values import SubjectRef

T0 = dt.datetime(2025, 3, 3, 8, tzinfo=dt.UTC)
E1 = SubjectRef.person("E1")


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def open_review(config: ScoringConfig | None = None) -> Review:
    r = Review.for_cycle("R1", E1, "C1", config or ScoringConfig(), created_at=T0, created_by="hr")
    return r.open(by="hr", at=at(1))


def finalized_review() -> Review:
    return (
        open_review()
        .set_indicator_score(4, by="sys", at=at(2))
        .rate_manager({"overall": 3}, by="M1", at=at(3))
        .submit(by="M1", at=at(4))
        .finalize(by="HR1", at=at(5))
    )


def test_review_moves_draft_open_submitted_finalized() -> None:
    r = Review.for_cycle("R1", E1, "C1", ScoringConfig(), created_at=T0, created_by="hr")
    assert r.state is ReviewState.DRAFT
    r = r.open(by="hr", at=at(1))
    assert r.state is ReviewState.OPEN
    r = r.set_indicator_score(4, by="sys", at=at(2)).submit(by="M1", at=at(3))
    assert r.state is ReviewState.SUBMITTED
    r = r.finalize(by="HR1", at=at(4))
    assert r.state is ReviewState.FINALIZED
    assert [e.action for e in r.history] == [
        "create",
        "open",
        "set_indicator_score",
        "submit",
        "finalize",
    ]


def test_finalized_review_rejects_new_feedback() -> None:
    r = finalized_review()
    with pytest.raises(InvalidTransition) as err:
        r.add_feedback("E2", {"overall": 5}, at=at(6))
    assert err.value.current == "finalized"
    assert err.value.requested == "add_feedback"
    assert err.value.allowed == ("reopen",)
    assert "immutable" in str(err.value)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.set_indicator_score(5, by="sys", at=at(6)),
        lambda r: r.rate_self({"overall": 5}, by="E1", at=at(6)),
        lambda r: r.rate_manager({"overall": 5}, by="M1", at=at(6)),
        lambda r: r.withdraw_feedback("E2", by="E2", at=at(6)),
        lambda r: r.cancel(by="HR1", at=at(6), reason="x"),
        lambda r: r.submit(by="M1", at=at(6)),
    ],
)
def test_finalized_review_rejects_every_component_change(change: object) -> None:
    with pytest.raises(InvalidTransition):
        change(finalized_review())  # type: ignore[operator]


def test_finalized_score_is_frozen_and_later_evidence_cannot_move_it() -> None:
    r = finalized_review()
    assert r.score().value == Decimal("3.5")  # (4 + 3) / 2, equal weights
    assert r.final is not None
    assert r.final.value == Decimal("3.5")


def test_reopen_needs_a_reason_and_is_recorded_with_who_why_and_when() -> None:
    r = finalized_review()
    with pytest.raises(InvalidValue):
        r.reopen(by="HR1", at=at(7), reason="  ")
    r = r.reopen(by="HR1", at=at(7), reason="late quality ticket was misattributed")
    assert r.state is ReviewState.OPEN
    assert r.final is None
    (amend,) = r.amendments
    assert (amend.actor, amend.at, amend.reason) == (
        "HR1",
        at(7),
        "late quality ticket was misattributed",
    )
    assert amend.detail == "from finalized"
    r = r.set_indicator_score(2, by="sys", at=at(8)).submit(by="M1", at=at(9))
    r = r.finalize(by="HR1", at=at(10))
    assert r.score().value == Decimal("2.5")
    assert r.first_submitted_at == at(4)  # response time keeps the first response


def test_reopen_from_open_is_an_invalid_transition() -> None:
    with pytest.raises(InvalidTransition) as err:
        open_review().reopen(by="HR1", at=at(2), reason="why")
    assert err.value.allowed == ("submit", "cancel", "edit")


def test_submitting_an_empty_review_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        open_review().submit(by="M1", at=at(2))
    assert err.value.field == "review.components"


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidValue):
        open_review().set_indicator_score(3, by="sys", at=dt.datetime(2025, 3, 3, 12))


def test_a_review_needs_a_cycle_or_a_trigger_not_both() -> None:
    trig = ReviewTrigger(TriggerKind.ALERT, "A1", T0)
    with pytest.raises(InvalidValue):
        Review("R", E1, ScoringConfig(), T0)
    with pytest.raises(InvalidValue):
        Review("R", E1, ScoringConfig(), T0, cycle_id="C", trigger=trig)


def test_indicator_score_outside_the_scale_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        open_review().set_indicator_score("5.5", by="sys", at=at(2))
    assert err.value.valid == "1..5"


def test_disabled_component_is_excluded_not_counted_as_zero() -> None:
    """perfcore's rule: disabled excluded, never zero. Indicator 4 (w 60) and manager 3
    (w 40) with self disabled: (0.6·4 + 0.4·3) = 3.6, not (2.4 + 1.2 + 0)/… ."""
    config = ScoringConfig(
        components=(
            ComponentConfig(ComponentKind.INDICATOR, 60),
            ComponentConfig(ComponentKind.MANAGER, 40),
            ComponentConfig(ComponentKind.SELF, 20, enabled=False),
        )
    )
    r = (
        open_review(config)
        .set_indicator_score(4, by="sys", at=at(2))
        .rate_manager({"overall": 3}, by="M1", at=at(3))
        .rate_self({"overall": 1}, by="E1", at=at(4))
    )
    s = r.score()
    assert s.value == Decimal("3.6")
    assert set(s.excluded_disabled) == {ComponentKind.SELF, ComponentKind.PEER}
    assert not s.renormalised
    assert s.effective_weights == {
        ComponentKind.INDICATOR: Decimal("0.6"),
        ComponentKind.MANAGER: Decimal("0.4"),
    }
    assert "disabled and excluded: self_assessment, peer_feedback" in s.explain()


def test_missing_enabled_component_is_reported_as_renormalised() -> None:
    s = combine_components(
        ScoringConfig(), {ComponentKind.INDICATOR: Decimal(4), ComponentKind.MANAGER: None}
    )
    assert s.value == Decimal(4)
    assert s.renormalised
    assert "renormalised" in s.explain()


def test_scoring_config_refuses_duplicate_components_and_all_disabled() -> None:
    with pytest.raises(InvalidWeight) as err:
        ScoringConfig(
            components=(
                ComponentConfig(ComponentKind.SELF),
                ComponentConfig(ComponentKind.SELF),
            )
        )
    assert err.value.field == "components[1].kind"
    with pytest.raises(InvalidWeight):
        ScoringConfig(components=(ComponentConfig(ComponentKind.SELF, enabled=False),))
    with pytest.raises(InvalidWeight):
        ScoringConfig(components=(ComponentConfig(ComponentKind.SELF, -1),))
    with pytest.raises(InvalidValue) as err2:
        ComponentConfig("bonus")
    assert err2.value.field == "components.kind"


def test_rating_scale_checks_range_and_steps() -> None:
    scale = RatingScale(1, 5, Decimal("0.5"))
    assert scale.check("4.5") == Decimal("4.5")
    with pytest.raises(InvalidValue) as err:
        scale.check("4.25", field="r")
    assert err.value.valid == "1..5 in steps of 0.5"
    with pytest.raises(InvalidValue):
        scale.check(0)
    with pytest.raises(InvalidValue):
        RatingScale(5, 5)
    with pytest.raises(InvalidValue):
        RatingScale(1, 5, Decimal("0.3"))
    assert RatingScale(0, 5).from_percent("77.5") == Decimal("3.875")  # 77.5 / 20


def test_rating_sheet_refuses_unknown_and_missing_criteria() -> None:
    config = ScoringConfig(criteria={ComponentKind.SELF: CriteriaSet.of({"A": 50, "B": 50})})
    r = open_review(config)
    with pytest.raises(InvalidValue) as err:
        r.rate_self({"A": 3}, by="E1", at=at(2))
    assert "B" in str(err.value)
    with pytest.raises(InvalidValue):
        r.rate_self({"A": 3, "B": 3, "C": 1}, by="E1", at=at(2))


def test_criteria_without_required_total_renormalise_any_positive_weights() -> None:
    cs = CriteriaSet.of({"A": 1, "B": 3}, require_total=None)
    assert cs.total_weight == 4


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.decimals(1, 5, places=2)), min_size=4, max_size=4),
    weights=st.lists(st.integers(0, 10), min_size=4, max_size=4),
    enabled=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_final_score_ignores_values_of_disabled_components(
    values: list[Decimal | None], weights: list[int], enabled: list[bool]
) -> None:
    """Property: changing the value of a disabled component never changes the final score, and
    the final score lies between the smallest and largest used component value."""
    kinds = list(ComponentKind)
    if not any(e and w > 0 for e, w in zip(enabled, weights, strict=True)):
        enabled[0], weights[0] = True, 1
    config = ScoringConfig(
        components=tuple(
            ComponentConfig(k, w, e) for k, w, e in zip(kinds, weights, enabled, strict=True)
        )
    )
    vals = dict(zip(kinds, values, strict=True))
    s = combine_components(config, vals)
    poked = {k: (Decimal(1) if not config.is_enabled(k) else v) for k, v in vals.items()}
    assert combine_components(config, poked).value == s.value
    used = [vals[k] for k in s.used]
    if s.value is not None:
        assert (
            min(v for v in used if v is not None)
            <= s.value
            <= max(v for v in used if v is not None)
        )
