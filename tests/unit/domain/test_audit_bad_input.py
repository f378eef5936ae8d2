"""Audit: bad input raises a typed error naming the field and what is valid (issue 2, last
paragraph; HELPERS "never a bare ValueError/KeyError from deep inside").

The audit found three places that let Python's own ``ValueError`` escape: an unknown objective
``weighting`` or ``state`` given at construction, and an unknown rating element asked of a
calibration session. These tests pin the typed errors; the rest of the list (negative weights,
cycles, weights that do not sum to 100, shares, tiers) is pinned in the module test files named in
the audit report.
"""

from __future__ import annotations

import pytest

from perfcore.domain.calibration.session import CalibrationSession
from perfcore.domain.errors import CycleError, InvalidValue, InvalidWeight
from perfcore.domain.objective import Objective, ObjectiveState, Weighting
from perfcore.domain.objective_tree import ObjectiveTree
from perfcore.domain.review_scoring import CriteriaSet
from perfcore.domain.values import SubjectRef


def test_unknown_weighting_names_the_objective_field_and_the_two_weightings() -> None:
    with pytest.raises(InvalidValue) as err:
        Objective("okr-7", weighting="by_headcount")
    assert err.value.field == "objectives[okr-7].weighting"
    assert err.value.valid == "explicit, target"


def test_unknown_state_at_construction_names_the_field_and_the_four_states() -> None:
    with pytest.raises(InvalidValue) as err:
        Objective("okr-7", state="done")
    assert err.value.field == "objectives[okr-7].state"
    assert err.value.valid == "draft, active, closed, archived"


def test_state_and_weighting_names_are_still_accepted_as_text() -> None:
    o = Objective("okr-7", weighting="target", state="active")
    assert (o.weighting, o.state) == (Weighting.TARGET, ObjectiveState.ACTIVE)


@pytest.mark.parametrize("ask", ["original", "calibrated", "calibrated_ratings", "rating_batch"])
def test_unknown_rating_element_is_a_typed_error(ask: str) -> None:
    s = CalibrationSession("S1", "2025-YE", "hr")
    subject = SubjectRef.person("E1")
    s.add_subject(subject, 3, rater="m1")
    call = {
        "original": lambda: s.original(subject, "speed"),
        "calibrated": lambda: s.calibrated(subject, "speed"),
        "calibrated_ratings": lambda: s.calibrated_ratings("speed"),
        "rating_batch": lambda: s.rating_batch("speed"),
    }[ask]
    with pytest.raises(InvalidValue) as err:
        call()
    assert err.value.field == "element"
    assert err.value.valid == "performance, potential"


def test_criteria_weight_errors_use_one_path_shape_for_every_problem() -> None:
    """A non-numeric and a negative weight on the second row both name ``criteria[1].weight``
    (the audit found ``criteria.B.weight`` for one and ``criteria[1].weight`` for the other)."""
    with pytest.raises(InvalidValue) as err:
        CriteriaSet.of({"A": 100, "B": "heavy"})
    assert err.value.field == "criteria[1].weight"
    with pytest.raises(InvalidWeight) as err2:
        CriteriaSet.of({"A": 110, "B": -10})
    assert err2.value.field == "criteria[1].weight"
    assert err2.value.valid == ">= 0"


def test_a_cycle_names_the_parent_field_the_loop_and_what_is_valid() -> None:
    """Issue 2: "a cycle in an objective tree raises a typed error naming the field and the valid
    range" — both when building and when moving."""
    with pytest.raises(CycleError) as err:
        ObjectiveTree.build([Objective("x", parent_id="y"), Objective("y", parent_id="x")])
    assert err.value.field is not None
    assert err.value.field.endswith("].parent_id")
    assert err.value.valid == "a tree / acyclic graph"
    tree = ObjectiveTree([Objective("a"), Objective("b", parent_id="a")])
    with pytest.raises(CycleError) as err2:
        tree.reparent("a", "b")
    assert (err2.value.field, err2.value.path) == ("objectives[a].parent_id", ("a", "b", "a"))
    assert err2.value.valid == "a tree / acyclic graph"
