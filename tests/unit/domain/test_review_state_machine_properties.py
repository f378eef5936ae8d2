"""Property tests of the review state machine: finalized reviews never change without reopen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.errors import DomainError
from perfcore.domain.review import Review, ReviewState
from perfcore.domain.review_scoring import ScoringConfig
from perfcore.domain.values import SubjectRef

T0 = dt.datetime(2025, 1, 6, 8, tzinfo=dt.UTC)

Command = Callable[[Review, dt.datetime], Review]

COMMANDS: dict[str, Command] = {
    "open": lambda r, t: r.open(by="hr", at=t),
    "indicator": lambda r, t: r.set_indicator_score(3, by="sys", at=t),
    "self": lambda r, t: r.rate_self({"overall": 4}, by="E1", at=t),
    "manager": lambda r, t: r.rate_manager({"overall": 2}, by="M1", at=t),
    "feedback_E2": lambda r, t: r.add_feedback("E2", {"overall": 5}, at=t),
    "feedback_E3": lambda r, t: r.add_feedback("E3", {"overall": 1}, at=t),
    "withdraw_E2": lambda r, t: r.withdraw_feedback("E2", by="E2", at=t),
    "submit": lambda r, t: r.submit(by="M1", at=t),
    "finalize": lambda r, t: r.finalize(by="HR", at=t),
    "reopen": lambda r, t: r.reopen(by="HR", at=t, reason="amend"),
    "cancel": lambda r, t: r.cancel(by="HR", at=t, reason="dup"),
}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(sorted(COMMANDS)), max_size=25))
def test_finalized_review_changes_only_through_a_recorded_reopen(names: list[str]) -> None:
    """Property: any command sequence either succeeds or raises a typed DomainError (never a bare
    exception); while finalized the score and components stay exactly as finalized; the number of
    recorded reopens equals the number of successful reopen commands."""
    r = Review.for_cycle(
        "R1", SubjectRef.person("E1"), "C1", ScoringConfig(), created_at=T0, created_by="hr"
    )
    reopens = 0
    for i, name in enumerate(names):
        t = T0 + dt.timedelta(hours=i + 1)
        before = r
        try:
            r = COMMANDS[name](r, t)
        except DomainError:
            assert r is before
            continue
        if name == "reopen":
            reopens += 1
        if before.state is ReviewState.FINALIZED:
            assert name == "reopen"
        if r.state is ReviewState.FINALIZED:
            assert r.final is not None
            assert r.score() == r.final
            assert r.final.value == before.score().value
        assert len(r.history) == len(before.history) + 1
    assert len(r.amendments) == reopens
