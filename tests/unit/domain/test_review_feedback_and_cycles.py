"""Peer feedback rules (one vote per reviewer, anonymity) and review-cycle overlap rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.errors import Conflict, InvalidTransition, InvalidValue, NotFound
from perfcore.domain.feedback import FeedbackBook, PeerFeedback
from perfcore.domain.review import Review
from perfcore.domain.review_cycle import (
    CycleState,
    ReviewCycle,
    check_can_add_review,
    check_no_overlap,
)
from perfcore.domain.review_scoring import CriteriaSet, RatingScale, RatingSheet, ScoringConfig
from perfcore.domain.values import Period, SubjectRef

T0 = dt.datetime(2025, 4, 1, 9, tzinfo=dt.UTC)
OVERALL = CriteriaSet.of({"overall": 100})
SCALE = RatingScale()


def vote(reviewer: str, rating: int, hours: float, text: str = "") -> PeerFeedback:
    sheet = RatingSheet.fill(OVERALL, SCALE, {"overall": rating})
    return PeerFeedback(reviewer, sheet, T0 + dt.timedelta(hours=hours), text)


def test_latest_peer_vote_replaces_earlier() -> None:
    book = FeedbackBook("E1").submit(vote("E2", 2, 1)).submit(vote("E2", 5, 2))
    assert book.count == 1
    assert book.average == Decimal(5)
    assert book.replaced == 1


def test_an_older_submission_arriving_late_does_not_replace_the_newer_one() -> None:
    book = FeedbackBook("E1").submit(vote("E2", 5, 2)).submit(vote("E2", 2, 1))
    assert book.average == Decimal(5)


def test_anonymous_feedback_hides_reviewer_identity_from_the_subject_only() -> None:
    book = FeedbackBook("E1", anonymous=True).submit(vote("E2", 4, 1, "good 5S round"))
    (seen,) = book.as_seen_by_subject()
    assert seen.reviewer_id is None
    assert seen.text == "good 5S round"
    assert book.as_seen_by("E1")[0].reviewer_id is None
    assert book.as_seen_by("M1")[0].reviewer_id == "E2"
    named = FeedbackBook("E1").submit(vote("E2", 4, 1))
    assert named.as_seen_by_subject()[0].reviewer_id == "E2"


def test_withdrawing_unknown_feedback_is_not_found() -> None:
    with pytest.raises(NotFound):
        FeedbackBook("E1").withdraw("E9")


def test_empty_reviewer_id_is_refused() -> None:
    with pytest.raises(InvalidValue):
        FeedbackBook("E1").submit(vote(" ", 3, 1))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["E2", "E3", "E4", "E5"]), st.integers(1, 5)),
        min_size=1,
        max_size=25,
    )
)
def test_average_counts_exactly_the_latest_vote_of_each_reviewer(
    votes: list[tuple[str, int]],
) -> None:
    book = FeedbackBook("E1")
    latest: dict[str, int] = {}
    for i, (who, rating) in enumerate(votes):
        book = book.submit(vote(who, rating, i))
        latest[who] = rating
    assert book.count == len(latest)
    assert book.average == Decimal(sum(latest.values())) / Decimal(len(latest))


def test_overlapping_cycles_of_the_same_subject_conflict_naming_both() -> None:
    e1 = SubjectRef.person("E1")
    q1 = ReviewCycle("2025-Q1", e1, Period.quarter(2025, 1))
    march = ReviewCycle("2025-03", e1, Period.month(2025, 3))
    with pytest.raises(Conflict) as err:
        check_no_overlap([q1], march)
    assert "2025-03" in str(err.value)
    assert "2025-Q1" in str(err.value)
    assert err.value.field == "cycle.period"
    check_no_overlap([q1], ReviewCycle("2025-Q2", e1, Period.quarter(2025, 2)))
    other = ReviewCycle("E2-Q1", SubjectRef.person("E2"), Period.quarter(2025, 1))
    check_no_overlap([q1], other)
    with pytest.raises(Conflict):
        check_no_overlap([q1], ReviewCycle("2025-Q1", e1, Period.quarter(2026, 1)))


def test_cancelled_review_frees_the_cycle_for_a_new_one() -> None:
    e1 = SubjectRef.person("E1")
    cycle = ReviewCycle("C1", e1, Period.quarter(2025, 1))
    old = Review.for_cycle("R1", e1, "C1", ScoringConfig(), created_at=T0, created_by="hr")
    new = Review.for_cycle("R2", e1, "C1", ScoringConfig(), created_at=T0, created_by="hr")
    with pytest.raises(Conflict):
        check_can_add_review([cycle], [old], new)
    check_can_add_review([cycle], [old.cancel(by="hr", at=T0, reason="wrong template")], new)


def test_review_must_name_a_known_cycle_of_its_own_subject() -> None:
    e1 = SubjectRef.person("E1")
    cycle = ReviewCycle("C1", SubjectRef.person("E2"), Period.quarter(2025, 1))
    r = Review.for_cycle("R1", e1, "C1", ScoringConfig(), created_at=T0, created_by="hr")
    with pytest.raises(InvalidValue):
        check_can_add_review([cycle], [], r)
    with pytest.raises(InvalidValue):
        check_can_add_review([], [], r)


def test_completed_cycle_can_be_reopened_once() -> None:
    cycle = ReviewCycle("C1", SubjectRef.person("E1"), Period.quarter(2025, 1)).complete([])
    assert cycle.state is CycleState.COMPLETED
    with pytest.raises(InvalidTransition):
        cycle.complete([])
    assert cycle.reopen().state is CycleState.OPEN
    with pytest.raises(InvalidTransition):
        cycle.reopen().reopen()
