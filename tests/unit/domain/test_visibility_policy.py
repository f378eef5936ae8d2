"""The visibility policy: self (release-gated), manager subtree, HR scope, nobody else.

perfcore's rule: employees see their own released results; managers see their reporting
subtree; HR sees its scope; nobody else. Release can be gated by date. Anonymous peer feedback
hides reviewer identity from the subject. A finalized review is immutable without reopen.
"""

from __future__ import annotations

import datetime as dt

import pytest

from perfcore.domain.errors import InvalidValue, PolicyDenied
from perfcore.domain.review import Review
from perfcore.domain.review_scoring import ScoringConfig
from perfcore.domain.values import OrgChart, OrgUnit, Person, SubjectRef
from perfcore.domain.visibility import (
    Action,
    Target,
    TargetKind,
    Viewer,
    VisibilityContext,
    decide,
    require,
)

NOW = dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC)
RELEASE = dt.datetime(2025, 7, 15, 0, tzinfo=dt.UTC)
ORG = OrgChart.build(
    [
        Person("E1", unit_id="line3"),
        Person("E2", unit_id="line3"),
        Person("M1", unit_id="line3"),
        Person("E3", unit_id="line4"),
        Person("M2", unit_id="line4"),
        Person("P1", unit_id="plant"),
        Person("H1", unit_id="hr"),
        Person("H2", unit_id="hr"),
    ],
    [
        OrgUnit("company", manager_id="CEO"),
        OrgUnit("hr", parent_id="company"),
        OrgUnit("plant", manager_id="P1", parent_id="company"),
        OrgUnit("line3", manager_id="M1", parent_id="plant"),
        OrgUnit("line4", manager_id="M2", parent_id="plant"),
    ],
)
CTX = VisibilityContext(ORG, NOW)
AFTER = VisibilityContext(ORG, RELEASE + dt.timedelta(days=1))
E1 = SubjectRef.person("E1")
RESULT = Target(TargetKind.RESULT, E1, released_at=RELEASE)


def test_employee_cannot_see_own_results_before_the_release_date() -> None:
    d = decide(Viewer("E1"), Action.VIEW, RESULT, CTX)
    assert not d.allowed
    assert d.reason == (
        "E1 cannot see the results of person:E1 yet: they will be released on "
        "2025-07-15T00:00:00+00:00."
    )


def test_employee_sees_own_results_from_the_release_date() -> None:
    assert decide(Viewer("E1"), Action.VIEW, RESULT, AFTER)
    at_release = VisibilityContext(ORG, RELEASE)
    assert decide(Viewer("E1"), Action.VIEW, RESULT, at_release)


def test_results_without_a_release_date_stay_hidden_from_the_employee() -> None:
    d = decide(Viewer("E1"), Action.VIEW, Target(TargetKind.RESULT, E1), AFTER)
    assert not d.allowed
    assert "no release date has been set" in d.reason


def test_employee_never_changes_own_results_or_targets_but_writes_self_assessment() -> None:
    assert not decide(Viewer("E1"), Action.CHANGE, RESULT, AFTER)
    assert not decide(Viewer("E1"), Action.CHANGE, Target(TargetKind.TARGET, E1), AFTER)
    assert decide(Viewer("E1"), Action.VIEW, Target(TargetKind.TARGET, E1), CTX)
    assert decide(Viewer("E1"), Action.CHANGE, Target(TargetKind.SELF_ASSESSMENT, E1), CTX)
    assert not decide(Viewer("E1"), Action.REOPEN, Target(TargetKind.REVIEW, E1), CTX)


def test_manager_and_managers_manager_see_and_change_their_subtree_before_release() -> None:
    for boss in ("M1", "P1"):
        d = decide(Viewer(boss), Action.VIEW, RESULT, CTX)
        assert d.allowed
        assert d.reason == f"{boss} may see the results of person:E1: person:E1 reports to them."
        assert decide(Viewer(boss), Action.CHANGE, Target(TargetKind.TARGET, E1), CTX)
        assert decide(Viewer(boss), Action.REOPEN, Target(TargetKind.REVIEW, E1), CTX)


def test_manager_of_another_line_and_peers_see_nothing() -> None:
    for outsider in ("M2", "E2", "E3"):
        d = decide(Viewer(outsider), Action.VIEW, RESULT, AFTER)
        assert not d.allowed
        assert "not on their reporting line" in d.reason


def test_manager_does_not_write_the_employees_self_assessment() -> None:
    d = decide(Viewer("M1"), Action.CHANGE, Target(TargetKind.SELF_ASSESSMENT, E1), CTX)
    assert not d.allowed
    assert d.reason == "Only E1 writes their self assessment, not M1."


def test_hr_sees_its_scope_including_sub_units_but_not_outside() -> None:
    plant_hr = Viewer("H1", hr_scope={"plant"})
    line4_hr = Viewer("H2", hr_scope={"line4"})
    assert decide(plant_hr, Action.VIEW, RESULT, CTX)
    assert decide(plant_hr, Action.REOPEN, Target(TargetKind.REVIEW, E1), CTX)
    assert not decide(line4_hr, Action.VIEW, RESULT, CTX)
    d = decide(plant_hr, Action.CHANGE, Target(TargetKind.REVIEW, E1), CTX)
    assert not d.allowed
    assert "changes are made by the subject's manager" in d.reason


def test_anonymous_feedback_hides_reviewer_identity_from_the_subject_only() -> None:
    fb = Target(TargetKind.FEEDBACK, E1, released_at=RELEASE, anonymous=True, author_id="E2")
    d = decide(Viewer("E1"), Action.VIEW_REVIEWER_IDENTITY, fb, AFTER)
    assert not d.allowed
    assert d.reason == (
        "This peer feedback is anonymous: who gave it is hidden from the person reviewed."
    )
    assert decide(Viewer("E1"), Action.VIEW, fb, AFTER)
    assert decide(Viewer("M1"), Action.VIEW_REVIEWER_IDENTITY, fb, CTX)
    assert decide(Viewer("E2"), Action.VIEW_REVIEWER_IDENTITY, fb, CTX)
    assert decide(Viewer("E2"), Action.CHANGE, fb, CTX)
    assert not decide(Viewer("M1"), Action.CHANGE, fb, CTX)


def test_finalized_review_cannot_be_changed_by_anyone_without_reopen() -> None:
    t0 = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    review = (
        Review.for_cycle("R1", E1, "C1", ScoringConfig(), created_at=t0, created_by="H1")
        .open(by="H1", at=t0)
        .set_indicator_score(4, by="sys", at=t0)
        .submit(by="M1", at=t0)
        .finalize(by="H1", at=t0)
    )
    target = Target.of_review(review)
    assert target.finalized
    for who in (Viewer("E1"), Viewer("M1"), Viewer("P1"), Viewer("H1", hr_scope={"company"})):
        d = decide(who, Action.CHANGE, target, CTX)
        assert not d.allowed
        assert d.reason == (
            "The review of person:E1 is finalized and immutable; nobody can change it until it "
            "is reopened with a recorded reason."
        )
    assert decide(Viewer("M1"), Action.REOPEN, target, CTX)
    reopened = review.reopen(by="M1", at=t0, reason="wrong ticket")
    assert decide(Viewer("M1"), Action.CHANGE, Target.of_review(reopened), CTX)


def test_team_members_see_released_team_results() -> None:
    team = Target(TargetKind.RESULT, SubjectRef.team("line3"), released_at=RELEASE)
    assert decide(Viewer("E2"), Action.VIEW, team, AFTER)
    assert not decide(Viewer("E2"), Action.VIEW, team, CTX)
    assert decide(Viewer("P1"), Action.VIEW, team, CTX)
    assert not decide(Viewer("E3"), Action.VIEW, team, AFTER)


def test_require_raises_policy_denied_with_the_reason() -> None:
    with pytest.raises(PolicyDenied) as err:
        require(Viewer("E3"), Action.VIEW, RESULT, CTX)
    assert "E3 is not person:E1" in str(err.value)
    assert require(Viewer("M1"), Action.VIEW, RESULT, CTX).allowed


def test_unknown_viewer_is_denied_and_bad_input_is_typed() -> None:
    assert not decide(Viewer("stranger"), Action.VIEW, RESULT, CTX)
    with pytest.raises(InvalidValue):
        decide(Viewer("E1"), "peek", RESULT, CTX)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        decide(Viewer("E1"), Action.VIEW, RESULT, VisibilityContext(ORG, dt.datetime(2025, 7, 1)))
