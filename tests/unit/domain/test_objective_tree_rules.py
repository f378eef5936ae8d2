"""Objective tree rules: bad input, cycles, states, overdue, alignment, target weighting.

perfcore's rules for the objective tree and
issue 2 "Bad input ... raises a typed error naming the field and the valid range".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.errors import (
    Conflict,
    CycleError,
    InvalidPeriod,
    InvalidTransition,
    InvalidValue,
    InvalidWeight,
    NotFound,
)
from perfcore.domain.objective import Objective, ObjectiveState, Weighting
from perfcore.domain.objective_tree import ObjectiveTree
from perfcore.domain.values import SubjectRef

PLANT_MANAGER = SubjectRef.person("PM-1")
TEAM_LEADER = SubjectRef.person("TL-3")


# --- bad input -------------------------------------------------------------------------------


def test_negative_weight_names_the_objective_field_and_valid_range() -> None:
    with pytest.raises(InvalidWeight) as err:
        Objective("okr-7", weight=-1)
    assert err.value.field == "objectives[okr-7].weight"
    assert err.value.valid == "a decimal >= 0"
    assert "negative" in err.value.message


def test_non_numeric_weight_is_an_invalid_weight_with_its_path() -> None:
    with pytest.raises(InvalidWeight) as err:
        Objective("okr-7", weight="heavy")
    assert err.value.field == "objectives[okr-7].weight"


def test_non_numeric_target_names_its_path() -> None:
    with pytest.raises(InvalidValue) as err:
        Objective("okr-7", target="lots")
    assert err.value.field == "objectives[okr-7].target"
    assert err.value.valid is not None
    assert "decimal" in err.value.valid


def test_current_without_target_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        Objective("okr-7", current=3)
    assert err.value.field == "objectives[okr-7].current"


def test_due_before_start_is_refused() -> None:
    with pytest.raises(InvalidPeriod) as err:
        Objective("okr-7", start=dt.date(2025, 3, 1), due=dt.date(2025, 2, 1))
    assert err.value.field == "objectives[okr-7].due"
    assert err.value.valid == "a date on or after 2025-03-01"


def test_set_weight_refuses_negative_and_changes_nothing() -> None:
    tree = ObjectiveTree([Objective("p"), Objective("a", parent_id="p", target=1, current=1)])
    with pytest.raises(InvalidWeight) as err:
        tree.set_weights({"a": 2, "p": "-0.5"})
    assert err.value.field == "objectives[p].weight"
    assert tree.get("a").weight == 1


def test_all_zero_weights_among_active_children_are_refused() -> None:
    children = [
        Objective("a", parent_id="okr-1", weight=0, target=1, current=1),
        Objective("b", parent_id="okr-1", weight=0, target=1, current=0),
    ]
    with pytest.raises(InvalidWeight) as err:
        ObjectiveTree.build([Objective("okr-1"), *children])
    assert err.value.field == "objectives[okr-1].children[*].weight"
    assert err.value.valid == "at least one non-archived child with a weight > 0"


def test_archiving_the_last_weighted_child_is_refused_and_undone() -> None:
    tree = ObjectiveTree(
        [
            Objective("okr-1"),
            Objective("a", parent_id="okr-1", weight=0, target=1, current=1),
            Objective("c", parent_id="okr-1", weight=5, target=1, current=0),
        ]
    )
    with pytest.raises(InvalidWeight) as err:
        tree.transition("c", "archived")
    assert err.value.field == "objectives[okr-1].children[*].weight"
    assert tree.get("c").state is ObjectiveState.DRAFT
    assert tree.progress("okr-1") == 0


def test_setting_all_weights_to_zero_is_refused_and_nothing_changes() -> None:
    tree = ObjectiveTree(
        [
            Objective("okr-1"),
            Objective("a", parent_id="okr-1", target=1, current=1),
            Objective("b", parent_id="okr-1", target=1, current=0),
        ]
    )
    with pytest.raises(InvalidWeight):
        tree.set_weights({"a": 0, "b": 0})
    assert (tree.get("a").weight, tree.get("b").weight) == (1, 1)


def test_all_children_archived_leaves_the_parent_without_value() -> None:
    tree = ObjectiveTree(
        [Objective("p"), Objective("a", parent_id="p", target=1, current=1).transition("active")]
    )
    tree.transition("a", "archived")
    assert tree.progress("p") is None


def test_zero_weight_child_counts_for_nothing_but_is_allowed() -> None:
    tree = ObjectiveTree(
        [
            Objective("p"),
            Objective("a", parent_id="p", weight=0, target=10, current=0),
            Objective("b", parent_id="p", weight=1, target=10, current=8),
        ]
    )
    assert tree.progress("p") == Decimal("0.8")


def test_unknown_parent_is_not_found_with_the_known_ids() -> None:
    tree = ObjectiveTree([Objective("plant")])
    with pytest.raises(NotFound) as err:
        tree.add(Objective("line-3", parent_id="plnat"))
    assert err.value.field == "objectives[line-3].parent_id"
    assert err.value.valid == "plant"


def test_duplicate_id_is_a_conflict() -> None:
    tree = ObjectiveTree([Objective("a")])
    with pytest.raises(Conflict) as err:
        tree.add(Objective("a"))
    assert err.value.field == "objectives[a].id"


def test_key_result_cannot_have_children() -> None:
    tree = ObjectiveTree([Objective("kr", target=10)])
    with pytest.raises(InvalidValue) as err:
        tree.add(Objective("child", parent_id="kr"))
    assert err.value.field == "objectives[child].parent_id"
    assert err.value.valid == "a group objective (one without a target)"


def test_removing_an_objective_with_children_is_refused() -> None:
    tree = ObjectiveTree([Objective("p"), Objective("c", parent_id="p")])
    with pytest.raises(InvalidValue) as err:
        tree.remove("p")
    assert err.value.field == "objectives[p]"


def test_moving_an_objective_under_its_descendant_names_the_cycle_path() -> None:
    tree = ObjectiveTree(
        [Objective("a"), Objective("b", parent_id="a"), Objective("c", parent_id="b")]
    )
    with pytest.raises(CycleError) as err:
        tree.reparent("a", "c")
    assert err.value.path == ("a", "c", "b", "a")
    assert err.value.field == "objectives[a].parent_id"
    assert "a -> c -> b -> a" in str(err.value)
    assert tree.get("a").parent_id is None  # unchanged


def test_moving_an_objective_under_itself_is_a_cycle() -> None:
    tree = ObjectiveTree([Objective("a")])
    with pytest.raises(CycleError) as err:
        tree.reparent("a", "a")
    assert err.value.path == ("a", "a")


def test_building_from_unordered_objectives_detects_cycles() -> None:
    with pytest.raises(CycleError) as err:
        ObjectiveTree.build(
            [
                Objective("x", parent_id="z"),
                Objective("y", parent_id="x"),
                Objective("z", parent_id="y"),
            ]
        )
    assert set(err.value.path) == {"x", "y", "z"}
    assert err.value.path[0] == err.value.path[-1]


def test_building_from_unordered_objectives_accepts_parents_after_children() -> None:
    tree = ObjectiveTree.build(
        [Objective("kr", parent_id="obj", target=4, current=1), Objective("obj")]
    )
    assert tree.progress("obj") == Decimal("0.25")


# --- states and overdue ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "end"),
    [
        (["active", "closed"], ObjectiveState.CLOSED),
        (["active", "closed", "active"], ObjectiveState.ACTIVE),
        (["archived", "active"], ObjectiveState.ACTIVE),
        (["active", "archived"], ObjectiveState.ARCHIVED),
    ],
)
def test_allowed_state_transitions(path: list[str], end: ObjectiveState) -> None:
    o = Objective("o")
    for state in path:
        o = o.transition(state)
    assert o.state is end


def test_draft_cannot_be_closed_and_the_error_lists_what_is_allowed() -> None:
    with pytest.raises(InvalidTransition) as err:
        Objective("okr-7").transition("closed")
    assert err.value.current == "draft"
    assert err.value.requested == "closed"
    assert err.value.allowed == ("active", "archived")
    assert err.value.field == "objectives[okr-7].state"


def test_unknown_state_name_is_invalid_value() -> None:
    with pytest.raises(InvalidValue) as err:
        Objective("okr-7").transition("done")
    assert err.value.valid == "draft, active, closed, archived"


def test_overdue_is_derived_from_due_date_state_and_the_clock() -> None:
    due = dt.date(2025, 3, 31)
    o = Objective("o", due=due).transition("active")
    assert not o.is_overdue(dt.date(2025, 3, 31))
    assert o.is_overdue(dt.date(2025, 4, 1))
    assert not o.transition("closed").is_overdue(dt.date(2025, 4, 1))
    assert not o.transition("archived").is_overdue(dt.date(2025, 4, 1))
    assert not Objective("no-due").is_overdue(dt.date(2099, 1, 1))
    tree = ObjectiveTree([o, Objective("later", due=dt.date(2025, 6, 30))])
    assert [x.id for x in tree.overdue(dt.date(2025, 4, 1))] == ["o"]


# --- alignment across owners ----------------------------------------------------------------


def test_team_leader_objective_contributes_to_plant_manager_objective() -> None:
    """perfcore's rule: objectives may be aligned across owners. Modelled as a parent link across
    owners; the team leaders' objectives feed the plant objective's roll-up. Line 3 OEE 60 → 75,
    now 66 ⇒ 0.4; line 4 0 → 10 kaizens, now 8 ⇒ 0.8; plant = 0.6."""
    tree = ObjectiveTree()
    tree.add(Objective("plant-oee", "Plant OEE", owner=PLANT_MANAGER))
    tree.add(
        Objective(
            "line3-oee",
            owner=TEAM_LEADER,
            parent_id="plant-oee",
            baseline=60,
            target=75,
            current=66,
        )
    )
    tree.add(
        Objective(
            "line4-kaizen",
            owner=SubjectRef.person("TL-4"),
            parent_id="plant-oee",
            target=10,
            current=8,
        )
    )
    assert tree.progress("plant-oee") == Decimal("0.6")
    assert [o.id for o in tree.contributors("plant-oee")] == ["line3-oee", "line4-kaizen"]
    owners = {p.child_id: p.owner for p in tree.explain("plant-oee").parts}
    assert owners["line3-oee"] == TEAM_LEADER


def test_difference_from_frappe_parent_of_another_owner_is_allowed() -> None:
    """Frappe HRMS case F14 rejects a parent/child employee mismatch; perfcore deliberately
    allows it because that is how cross-owner alignment works (perfcore's rule)."""
    tree = ObjectiveTree([Objective("plant", owner=PLANT_MANAGER)])
    tree.add(Objective("mine", owner=TEAM_LEADER, parent_id="plant", target=1, current=1))
    assert tree.progress("plant") == 1


def test_contributors_excludes_children_of_the_same_owner() -> None:
    tree = ObjectiveTree(
        [
            Objective("p", owner=PLANT_MANAGER),
            Objective("own", owner=PLANT_MANAGER, parent_id="p"),
            Objective("team", owner=TEAM_LEADER, parent_id="p"),
        ]
    )
    assert [o.id for o in tree.contributors("p")] == ["team"]


# --- target-proportional weighting -----------------------------------------------------------


def test_target_weighting_weighs_children_by_their_targets() -> None:
    """perfcore's rule: weights explicit, or proportional to targets where asked. Region targets
    100 and 300 (baseline 0), reached 50 and 300 ⇒ (100 × 0.5 + 300 × 1) / 400 = 0.875, the same
    as total sales 350 of 400."""
    tree = ObjectiveTree(
        [
            Objective("sales", weighting=Weighting.TARGET),
            Objective("north", parent_id="sales", weight=9, target=100, current=50),
            Objective("south", parent_id="sales", weight=1, target=300, current=300),
        ]
    )
    assert tree.progress("sales") == Decimal("0.875")
    shares = {p.child_id: p.share for p in tree.explain("sales").parts}
    assert shares == {"north": Decimal("0.25"), "south": Decimal("0.75")}


def test_target_weighting_refuses_a_child_without_target() -> None:
    tree = ObjectiveTree([Objective("sales", weighting="target")])
    with pytest.raises(InvalidWeight) as err:
        tree.add(Objective("group", parent_id="sales"))
    assert "group" not in tree
    assert err.value.field == "objectives[group].target"


def test_target_weighting_refuses_a_negative_target() -> None:
    with pytest.raises(InvalidWeight) as err:
        ObjectiveTree(
            [
                Objective("p", weighting="target"),
                Objective("k", parent_id="p", baseline=0, target=-5, current=-1),
            ]
        )
    assert err.value.field == "objectives[k].target"
    assert err.value.valid is not None
    assert ">= 0" in err.value.valid


def test_reweighting_changes_the_parent_and_reports_it() -> None:
    """Weights can change mid-plan (the NPI scenario: node weights change with customer orders).
    a = 1.0, b = 0.0: weights 1:1 ⇒ 0.5, then 3:1 ⇒ 0.75."""
    tree = ObjectiveTree(
        [
            Objective("p"),
            Objective("a", parent_id="p", target=1, current=1),
            Objective("b", parent_id="p", target=1, current=0),
        ]
    )
    assert tree.progress("p") == Decimal("0.5")
    assert tree.set_weight("a", 3) == {"p": Decimal("0.75")}


def test_rollup_lists_every_objective() -> None:
    tree = ObjectiveTree(
        [Objective("p"), Objective("a", parent_id="p", target=2, current=1), Objective("q")]
    )
    assert tree.rollup() == {"a": Decimal("0.5"), "p": Decimal("0.5"), "q": None}


def test_cycle_path_names_only_the_loop_not_the_tail_leading_into_it() -> None:
    """tail -> y -> z -> y: the error's path is the loop y -> z -> y (or z -> y -> z)."""
    with pytest.raises(CycleError) as err:
        ObjectiveTree.build(
            [
                Objective("tail", parent_id="y"),
                Objective("y", parent_id="z"),
                Objective("z", parent_id="y"),
            ]
        )
    assert err.value.path in (("y", "z", "y"), ("z", "y", "z"))
