"""Frappe HRMS appraisal cases F1-F5, F15-F21 pinned in perfcore's review semantics.

Source of every number: Frappe HRMS's appraisal tests (https://github.com/frappe/hrms) — template
"Engineering": KRAs Quality 30 %, Development 70 %; criteria Problem Solving 70 %, Excellence 30 %;
cycle Q1 2022. Frappe stores a rating as a fraction of 5 stars, so 0.8 → 4 stars and 0.7 → 3.5
stars; we use the scale 0..5 in half steps. Where perfcore deliberately differs (missing components
count as 0 in Frappe; several feedbacks per reviewer), a separate test says so and states perfcore's
rule.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.errors import (
    Conflict,
    InvalidTransition,
    InvalidValue,
    InvalidWeight,
    PolicyDenied,
)
from perfcore.domain.review import Review
from perfcore.domain.review_cycle import (
    ReviewCycle,
    check_can_add_review,
    cycle_overview,
    cycle_summary,
)
from perfcore.domain.review_scoring import (
    ComponentConfig,
    ComponentKind,
    CriteriaSet,
    RatingScale,
    ScoringConfig,
)
from perfcore.domain.values import Period, SubjectRef

UTC = dt.UTC
T0 = dt.datetime(2022, 3, 1, 9, tzinfo=UTC)
Q1 = Period.quarter(2022, 1)
KRAS = CriteriaSet.of({"Quality": 30, "Development": 70})
CRITERIA = CriteriaSet.of({"Problem Solving": 70, "Excellence": 30})
STARS = RatingScale(0, 5, Decimal("0.5"))
# Frappe's default final score = mean of goal, self and feedback scores: three equal weights.
FRAPPE_LIKE = ScoringConfig(
    components=(
        ComponentConfig(ComponentKind.MANAGER, 1),  # manual KRA rating = the goal score
        ComponentConfig(ComponentKind.SELF, 1),
        ComponentConfig(ComponentKind.PEER, 1),
        ComponentConfig(ComponentKind.INDICATOR, 1, enabled=False),
    ),
    scale=STARS,
    criteria={
        ComponentKind.MANAGER: KRAS,
        ComponentKind.SELF: CRITERIA,
        ComponentKind.PEER: CRITERIA,
    },
)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def emp1_review(review_id: str = "R1", subject: str = "emp1") -> Review:
    r = Review.for_cycle(
        review_id,
        SubjectRef.person(subject),
        f"Q1-{subject}",
        FRAPPE_LIKE,
        created_at=T0,
        created_by="hr",
    )
    return r.open(by="hr", at=at(1))


def test_f1_manual_kra_rating_gives_goal_score_3_6_and_final_3_6_not_1_2() -> None:
    """F1: Quality 5 (30 %) and Development 3 (70 %) earn 1.5 + 2.1 = 3.6. Frappe's final is
    3.6/3 = 1.2 because missing self and feedback count as 0; perfcore excludes components with no
    value and renormalises (perfcore's rule: a disabled/missing component is excluded,
    never counted as zero), so the final is 3.6 and the renormalisation is reported."""
    r = emp1_review().rate_manager({"Quality": 5, "Development": 3}, by="mgr", at=at(2))
    assert r.manager_assessment is not None
    assert r.manager_assessment.score == Decimal("3.6")
    s = r.score()
    assert s.value == Decimal("3.6")
    assert s.renormalised
    assert set(s.excluded_missing) == {ComponentKind.SELF, ComponentKind.PEER}
    assert ComponentKind.INDICATOR in s.excluded_disabled


def test_f2_final_score_of_goal_self_and_feedback_is_3_767() -> None:
    """F2: self ratings 0.8 (70 %) / 0.7 (30 %) → 0.8·5·0.7 + 0.7·5·0.3 = 3.85; one feedback with
    the same ratings → 3.85; final (3.6 + 3.85 + 3.85)/3 = 11.3/3 = 3.7666… → 3.767 at 3 dp."""
    r = (
        emp1_review()
        .rate_manager({"Quality": 5, "Development": 3}, by="mgr", at=at(2))
        .rate_self({"Problem Solving": 4, "Excellence": "3.5"}, by="emp1", at=at(3))
        .add_feedback("emp2", {"Problem Solving": 4, "Excellence": "3.5"}, at=at(4))
    )
    assert r.self_assessment is not None
    assert r.self_assessment.score == Decimal("3.85")
    assert r.feedback.average == Decimal("3.85")
    s = r.score()
    assert s.value == Decimal("11.3") / 3
    assert s.rounded == Decimal("3.767")
    assert not s.renormalised


def test_f3_formula_with_self_present_matches_equal_weights_3_767() -> None:
    """F3: Frappe's formula "(goal+self+feedback)/3 if self else (goal+self)/2" gives 3.767 on F2's
    inputs. perfcore needs no formula for this: equal weights with missing components excluded
    give the same 3.767, and without self the mean of the present components."""
    r = (
        emp1_review()
        .rate_manager({"Quality": 5, "Development": 3}, by="mgr", at=at(2))
        .add_feedback("emp2", {"Problem Solving": 4, "Excellence": "3.5"}, at=at(4))
    )
    assert r.score().value == (Decimal("3.6") + Decimal("3.85")) / 2
    r = r.rate_self({"Problem Solving": 4, "Excellence": "3.5"}, by="emp1", at=at(5))
    assert r.score().rounded == Decimal("3.767")


def test_f4_two_reviewers_average_3_575() -> None:
    """F4: feedback (0.8, 0.7) → 3.85 and (0.6, 0.8) → 0.6·5·0.7 + 0.8·5·0.3 = 2.1 + 1.2 = 3.3;
    average (3.85 + 3.3)/2 = 3.575."""
    r = (
        emp1_review()
        .add_feedback("emp2", {"Problem Solving": 4, "Excellence": "3.5"}, at=at(2))
        .add_feedback("emp3", {"Problem Solving": 3, "Excellence": 4}, at=at(3))
    )
    assert r.feedback.average == Decimal("3.575")
    assert r.feedback.count == 2


def test_f4_differs_same_reviewer_twice_counts_once_latest_replaces() -> None:
    """Frappe accepts both documents from one reviewer and averages 3.575 (Frappe HRMS
    sets no limit on feedback documents per reviewer). perfcore: one vote per reviewer,
    the latest replaces (perfcore's rule), so the average is the second vote, 3.3."""
    r = (
        emp1_review()
        .add_feedback("emp2", {"Problem Solving": 4, "Excellence": "3.5"}, at=at(2))
        .add_feedback("emp2", {"Problem Solving": 3, "Excellence": 4}, at=at(3))
    )
    assert r.feedback.average == Decimal("3.3")
    assert r.feedback.count == 1
    assert r.feedback.replaced == 1


def test_f5_withdrawing_the_only_feedback_excludes_the_peer_component_instead_of_zero() -> None:
    """F5: cancelling the only feedback (3.85) sets Frappe's average to 0.0, which would pull the
    final down. perfcore: the peer component has no value and is excluded (perfcore's rule)."""
    r = (
        emp1_review()
        .rate_manager({"Quality": 5, "Development": 3}, by="mgr", at=at(2))
        .add_feedback("emp2", {"Problem Solving": 4, "Excellence": "3.5"}, at=at(3))
    )
    assert r.feedback.average == Decimal("3.85")
    r = r.withdraw_feedback("emp2", by="emp2", at=at(4))
    assert r.feedback.average is None
    assert r.score().value == Decimal("3.6")
    assert r.score().excluded_missing == (ComponentKind.SELF, ComponentKind.PEER)


def test_f15_weights_30_and_69_99_are_refused_naming_the_actual_total() -> None:
    """F15: template weights 30 + 69.99 → error; 30 + 70 → accepted (exact decimal sum)."""
    with pytest.raises(InvalidWeight) as err:
        CriteriaSet.of({"Quality": 30, "Development": "69.99"})
    assert "99.99" in str(err.value)
    assert err.value.field == "criteria"
    assert CriteriaSet.of({"Quality": 30, "Development": 70}).total_weight == 100


def test_f16_reviewer_cannot_give_feedback_on_their_own_review() -> None:
    """F16: feedback with reviewer = appraisee is refused; criteria come from the template
    (Problem Solving 70, Excellence 30)."""
    r = emp1_review()
    with pytest.raises(PolicyDenied) as err:
        r.add_feedback("emp1", {"Problem Solving": 4, "Excellence": 4}, at=at(2))
    assert err.value.field == "feedback.reviewer_id"
    weights = {c.name: c.weight for c in FRAPPE_LIKE.criteria_for(ComponentKind.PEER).criteria}
    assert weights == {"Problem Solving": Decimal(70), "Excellence": Decimal(30)}


def test_f17_duplicate_review_for_same_subject_and_cycle_is_a_conflict() -> None:
    """F17: a second live review for the same employee and cycle is refused."""
    cycle = ReviewCycle("Q1-emp1", SubjectRef.person("emp1"), Q1)
    first = emp1_review("R1")
    second = emp1_review("R2")
    with pytest.raises(Conflict) as err:
        check_can_add_review([cycle], [first], second)
    assert "R1" in str(err.value)


def test_f17_cycle_completes_only_when_reviews_are_finalized_and_then_takes_no_new_review() -> None:
    """F17: a cycle with an unfinished review cannot complete; after finalizing it completes, and
    adding another review to the completed cycle fails."""
    cycle = ReviewCycle("Q1-emp1", SubjectRef.person("emp1"), Q1)
    r = emp1_review("R1").rate_manager({"Quality": 5, "Development": 3}, by="mgr", at=at(2))
    with pytest.raises(InvalidTransition) as err:
        cycle.complete([r])
    assert "R1" in str(err.value)
    r = r.submit(by="mgr", at=at(3)).finalize(by="hr", at=at(4))
    done = cycle.complete([r])
    r2 = Review.for_cycle(
        "R2", SubjectRef.person("emp1"), "Q1-emp1", FRAPPE_LIKE, created_at=at(5), created_by="hr"
    )
    with pytest.raises(InvalidTransition):
        check_can_add_review([done], [r], r2)


def test_f18_cycle_summary_counts_what_is_missing() -> None:
    """F18: 2 reviews, 1 with an indicator score (emp1's goal) and 1 submitted feedback (emp1):
    reviews 2, self pending 2, indicator score missing 1, feedback missing 1."""
    config = ScoringConfig(scale=STARS, criteria={ComponentKind.PEER: CRITERIA})
    r1 = (
        Review.for_cycle(
            "R1", SubjectRef.person("emp1"), "Q1", config, created_at=T0, created_by="hr"
        )
        .set_indicator_score("2.5", by="sys", at=at(1))
        .add_feedback("emp2", {"Problem Solving": 4, "Excellence": 4}, at=at(2))
    )
    r2 = Review.for_cycle(
        "R2", SubjectRef.person("emp2"), "Q1", config, created_at=T0, created_by="hr"
    )
    s = cycle_summary("Q1", [r1, r2])
    assert (
        s.reviews,
        s.self_assessment_pending,
        s.indicator_score_missing,
        s.feedback_missing,
    ) == (
        2,
        2,
        1,
        1,
    )


def test_f20_overview_first_row_carries_f2_values_sorted_by_final_score_desc() -> None:
    """F20: three reviews in the cycle, F2 data for emp1: first row feedback 3.85, goal 3.6,
    self 3.85, final 3.767, feedback count 1; rows sorted by cycle then final score desc."""
    r1 = (
        emp1_review("R1", "emp1")
        .rate_manager({"Quality": 5, "Development": 3}, by="mgr", at=at(2))
        .rate_self({"Problem Solving": 4, "Excellence": "3.5"}, by="emp1", at=at(3))
        .add_feedback("emp2", {"Problem Solving": 4, "Excellence": "3.5"}, at=at(4))
    )
    r2 = emp1_review("R2", "emp2").rate_manager({"Quality": 2, "Development": 2}, by="m", at=at(2))
    r3 = emp1_review("R3", "emp3")
    rows = cycle_overview([r3, r2, r1])
    assert [row.review_id for row in rows] == ["R1", "R2", "R3"]
    first = rows[0]
    assert first.feedback_average == Decimal("3.85")
    assert first.self_score == Decimal("3.85")
    assert first.feedback_count == 1
    assert first.final_score is not None
    assert r1.manager_assessment is not None
    assert r1.manager_assessment.score == Decimal("3.6")
    assert first.final_score.quantize(Decimal("0.001")) == Decimal("3.767")
    assert rows[2].final_score is None


def test_f21_manual_score_6_on_a_5_point_scale_is_refused_naming_the_row() -> None:
    """F21: manual goal score 6 (scale 5) → "cannot be greater than 5", with the field path."""
    r = emp1_review()
    with pytest.raises(InvalidValue) as err:
        r.rate_manager({"Quality": 6, "Development": 3}, by="mgr", at=at(2))
    assert "cannot be greater than 5" in str(err.value)
    assert err.value.field == "manager_assessment[Quality]"
    assert err.value.valid == "0..5 in steps of 0.5"


def test_f19_cycle_for_engineers_creates_one_review_with_template_weights_and_is_idempotent() -> (
    None
):
    """F19: a cycle filtered by designation Engineer over 2 employees (Engineer, Consultant) has 1
    appraisee, and the created review carries the template's KRA (30/70) and criteria (70/30)
    weights. Re-running the bulk creation creates nothing new (duplicates skipped)."""
    from perfcore.domain.review_cycle import plan_cycle_reviews

    designation = {SubjectRef.person("emp1"): "Engineer", SubjectRef.person("emp2"): "Consultant"}
    engineers = [s for s, d in designation.items() if d == "Engineer"]
    plan = plan_cycle_reviews(
        engineers,
        Q1,
        FRAPPE_LIKE,
        existing_cycles=[],
        existing_reviews=[],
        created_at=T0,
        created_by="hr",
    )
    assert len(plan.reviews) == 1
    (review,) = plan.reviews
    assert review.subject == SubjectRef.person("emp1")
    kras = review.config.criteria_for(ComponentKind.MANAGER)
    crit = review.config.criteria_for(ComponentKind.SELF)
    assert [(c.name, c.weight) for c in kras.criteria] == [("Quality", 30), ("Development", 70)]
    assert [(c.name, c.weight) for c in crit.criteria] == [
        ("Problem Solving", 70),
        ("Excellence", 30),
    ]
    again = plan_cycle_reviews(
        engineers,
        Q1,
        FRAPPE_LIKE,
        existing_cycles=plan.cycles,
        existing_reviews=plan.reviews,
        created_at=T0,
        created_by="hr",
    )
    assert again.cycles == again.reviews == ()
    assert again.skipped[0][0] == SubjectRef.person("emp1")
    assert "already has live review" in again.skipped[0][1]


def test_bulk_creation_skips_subjects_with_an_overlapping_cycle() -> None:
    from perfcore.domain.review_cycle import plan_cycle_reviews

    march = ReviewCycle("march", SubjectRef.person("emp1"), Period.month(2022, 3))
    plan = plan_cycle_reviews(
        [SubjectRef.person("emp1"), SubjectRef.person("emp2")],
        Q1,
        FRAPPE_LIKE,
        existing_cycles=[march],
        existing_reviews=[],
        created_at=T0,
        created_by="hr",
    )
    assert [r.subject.id for r in plan.reviews] == ["emp2"]
    ((who, why),) = plan.skipped
    assert who.id == "emp1"
    assert "overlaps cycle march" in why
