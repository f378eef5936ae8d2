"""Audit: the Frappe goal cases F13/F14 and Horilla H9/H10 in perfcore's objective semantics.

Sources: Frappe HRMS (https://github.com/frappe/hrms) cases F13, F14 and Horilla
(https://github.com/horilla-opensource/horilla) cases H9, H10; perfcore's rules (raw progress stored
unclamped, objectives form a tree, alignment across owners) and issue 2 (states
draft/active/closed/archived, overdue derived from dates and the clock). Expected values are worked
by hand in each docstring.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.errors import InvalidTransition
from perfcore.domain.objective import Objective, ObjectiveState
from perfcore.domain.objective_tree import ObjectiveTree
from perfcore.domain.values import SubjectRef

EMP = SubjectRef.person("emp1")


def kr(oid: str, parent: str, percent: int) -> Objective:
    return Objective(oid, owner=EMP, parent_id=parent, target=100, current=percent)


@pytest.mark.parametrize("percent", [0, 50, 100])
def test_f13_difference_state_is_explicit_and_progress_does_not_set_it(percent: int) -> None:
    """Frappe HRMS case F13: Frappe derives status from progress (0 → Pending, 50 → In
    Progress, 100 → Completed). perfcore keeps the life-cycle state explicit (issue 2: draft,
    active, closed, archived) and the progress a measurement: reaching 0 %, 50 % or 100 % leaves
    an active objective active, with its progress exactly percent/100."""
    tree = ObjectiveTree([Objective("g", owner=EMP), kr("k", "g", 0).transition("active")])

    tree.set_current("k", percent)

    assert tree.get("k").state is ObjectiveState.ACTIVE
    assert tree.progress("k") == Decimal(percent) / 100
    assert tree.progress("g") == Decimal(percent) / 100


def test_f13_difference_closing_keeps_the_measured_progress_instead_of_forcing_100() -> None:
    """Frappe HRMS case F13: Frappe's bulk "Completed" sets progress to 100. perfcore closes
    the objective and keeps the measured 40 % (perfcore's rule: raw progress is stored; only a
    scoring step that says so may change it). Parent of [40 %] = 0.4 before and after."""
    tree = ObjectiveTree([Objective("g", owner=EMP), kr("k", "g", 40).transition("active")])

    tree.transition("k", "closed")

    assert tree.get("k").state is ObjectiveState.CLOSED
    assert tree.progress("k") == Decimal("0.4")
    assert tree.progress("g") == Decimal("0.4")


def test_f13_archive_excludes_and_unarchive_returns_to_active_not_pending() -> None:
    """Frappe HRMS case F13: Archive → Archived (sticky), Unarchive → Pending. perfcore:
    archived is excluded from the parent's roll-up; unarchiving returns it to *active* (there is
    no progress-derived "pending"). Children 50 and 0 → 0.25; archive the 0 → 0.5; back → 0.25."""
    tree = ObjectiveTree(
        [
            Objective("g", owner=EMP),
            kr("a", "g", 50).transition("active"),
            kr("b", "g", 0).transition("active"),
        ]
    )
    assert tree.progress("g") == Decimal("0.25")

    tree.transition("b", "archived")
    assert tree.progress("g") == Decimal("0.5")
    with pytest.raises(InvalidTransition) as err:
        tree.transition("b", "closed")  # archived is sticky: only unarchive (→ active) is allowed
    assert err.value.allowed == ("active",)

    tree.transition("b", "active")
    assert tree.get("b").state is ObjectiveState.ACTIVE
    assert tree.progress("g") == Decimal("0.25")


def test_f14_moving_a_group_to_another_kra_carries_its_children_along() -> None:
    """Frappe HRMS case F14: changing a parent goal's KRA to Quality rewrites both children's
    KRA. In perfcore a goal's KRA is its position in the tree, so moving the parent under the
    Quality objective moves both children with it: their ancestors now include "quality", and
    Quality's progress becomes the parent's mean (50 + 0)/2 = 25 % while Development, left
    without children, has no value (perfcore's rule)."""
    tree = ObjectiveTree(
        [
            Objective("appraisal", owner=EMP),
            Objective("quality", owner=EMP, parent_id="appraisal", weight=30),
            Objective("development", owner=EMP, parent_id="appraisal", weight=70),
            Objective("parent", owner=EMP, parent_id="development"),
            kr("c1", "parent", 50),
            kr("c2", "parent", 0),
        ]
    )
    assert tree.progress("development") == Decimal("0.25")

    affected = tree.reparent("parent", "quality")

    assert tree.ancestors("c1") == ["parent", "quality", "appraisal"]
    assert tree.ancestors("c2") == ["parent", "quality", "appraisal"]
    assert tree.progress("quality") == Decimal("0.25")
    assert affected["development"] is None
    assert tree.progress("development") is None


def test_h9_difference_omitted_current_counts_as_the_baseline_without_being_stored() -> None:
    """Horilla case H9: Horilla fills current = start (4) on create. perfcore keeps current
    empty and *counts* it as the baseline (okr-tracker O4): progress (4 − 4)/(10 − 4) = 0 and
    remaining 10 − 4 = 6."""
    o = Objective("kr", baseline=4, target=10)
    assert o.current is None
    assert o.own_progress() == 0
    assert o.remaining() == 6


def test_h10_difference_due_date_is_stored_and_overdue_follows_the_clock() -> None:
    """Horilla case H10: Horilla derives end = start + duration (2026-01-01 + 30 days =
    2026-01-31). perfcore stores the due date itself; overdue is derived from it and the clock
    (issue 2): not overdue on 2026-01-31, overdue on 2026-02-01 while active."""
    o = Objective("kr", start=dt.date(2026, 1, 1), due=dt.date(2026, 1, 31)).transition("active")
    assert o.start is not None
    assert o.due is not None
    assert (o.due - o.start).days == 30
    assert not o.is_overdue(dt.date(2026, 1, 31))
    assert o.is_overdue(dt.date(2026, 2, 1))
