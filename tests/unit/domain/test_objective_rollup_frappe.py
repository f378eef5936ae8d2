"""Frappe HRMS goal roll-up cases F6-F12 reproduced through perfcore objective trees.

Source: Frappe HRMS (https://github.com/frappe/hrms), its goal tests (cases F6-F12 here) and goal
roll-up (= mean of non-archived direct children; KRA score = completion × weight / 100; goal score =
P / 20).

Mapping: an appraisal is a root objective whose children are the KRAs (Quality weight 30,
Development weight 70); each KRA's children are the employee's root goals; leaf goals are key
results with baseline 0 and target 100, so current = the Frappe progress %. Frappe's "KRA score"
is a KRA's progress × its weight / 100, which equals the KRA's contribution in the root roll-up
when no KRA is left out.

Deliberate difference (perfcore's rule: division by zero / nothing to average yields no
value, never 0): a group with no counted child has *no value* in perfcore where Frappe shows 0,
and the parent renormalises over the children that have a value, reporting what it left out.
"""

from __future__ import annotations

from decimal import Decimal

from perfcore.domain.objective import Objective
from perfcore.domain.objective_tree import ObjectiveTree
from perfcore.domain.values import SubjectRef, quantize

EMP = SubjectRef.person("emp1")


def leaf(oid: str, parent: str, percent: int) -> Objective:
    return Objective(oid, oid, owner=EMP, parent_id=parent, target=100, current=percent)


def group(oid: str, parent: str | None = None, weight: int = 1) -> Objective:
    return Objective(oid, oid, owner=EMP, parent_id=parent, weight=weight)


def appraisal() -> ObjectiveTree:
    tree = ObjectiveTree()
    tree.add(group("appraisal"))
    tree.add(group("quality", "appraisal", weight=30))
    tree.add(group("development", "appraisal", weight=70))
    return tree


def pct(tree: ObjectiveTree, oid: str) -> Decimal | None:
    p = tree.progress(oid)
    return None if p is None else p * 100


def kra_score(tree: ObjectiveTree, kra: str) -> Decimal:
    """Frappe: kra_score = completion × weight / 100."""
    p = tree.progress(kra)
    completion = Decimal(0) if p is None else p * 100
    return completion * tree.get(kra).weight / 100


def test_f6_automated_goal_score_through_nested_groups() -> None:
    """Frappe HRMS case F6: Quality 12.5 → 3.75, Development 50 → 35, goal % 38.75,
    goal score 1.938, final (goal only) 0.646."""
    tree = appraisal()
    tree.add(group("parent1", "quality"))
    tree.add(group("child1", "parent1"))
    tree.add(leaf("q-a", "child1", 25))
    tree.add(leaf("q-b", "child1", 0))
    tree.add(group("parent2", "development"))
    tree.add(leaf("d-a", "parent2", 100))
    tree.add(leaf("d-b", "parent2", 0))

    assert pct(tree, "child1") == Decimal("12.5")
    assert pct(tree, "parent1") == Decimal("12.5")
    assert pct(tree, "parent2") == Decimal("50")
    assert kra_score(tree, "quality") == Decimal("3.75")
    assert kra_score(tree, "development") == Decimal("35")
    goal_percent = pct(tree, "appraisal")
    assert goal_percent == Decimal("38.75")
    goal_score = quantize(Decimal("38.75") / 20, 3)
    assert goal_score == Decimal("1.938")
    assert quantize(goal_score / 3, 3) == Decimal("0.646")

    parts = {p.child_id: p for p in tree.explain("appraisal").parts}
    assert parts["quality"].contribution * 100 == Decimal("3.75")
    assert parts["development"].contribution * 100 == Decimal("35")


def test_f7_reparenting_recomputes_old_and_new_parent() -> None:
    """Frappe HRMS case F7: Quality [50] = 50 → 15; Development [50, 0] = 25 → 17.5; move the
    50 % goal to Quality ⇒ Quality 50 → 15, Development 0 → 0."""
    tree = appraisal()
    tree.add(group("parent1", "quality"))
    tree.add(leaf("q-50", "parent1", 50))
    tree.add(group("parent2", "development"))
    tree.add(leaf("d-50", "parent2", 50))
    tree.add(leaf("d-0", "parent2", 0))
    assert (pct(tree, "quality"), kra_score(tree, "quality")) == (50, Decimal("15"))
    assert (pct(tree, "development"), kra_score(tree, "development")) == (25, Decimal("17.5"))

    affected = tree.reparent("d-50", "parent1")

    assert set(affected) >= {"parent1", "quality", "parent2", "development", "appraisal"}
    assert affected["parent2"] == 0
    assert affected["parent1"] == Decimal("0.5")
    assert (pct(tree, "quality"), kra_score(tree, "quality")) == (50, Decimal("15"))
    assert (pct(tree, "development"), kra_score(tree, "development")) == (0, 0)


def test_f8_moving_a_goal_to_another_kra_changes_both_kra_scores() -> None:
    """Frappe HRMS case F8: goal 50 % under Quality → Quality 50/15; change its KRA to
    Development ⇒ Development 50/35 and Quality 0/0 in Frappe (no value in perfcore)."""
    tree = appraisal()
    tree.add(leaf("g", "quality", 50))
    assert (pct(tree, "quality"), kra_score(tree, "quality")) == (50, Decimal("15"))

    tree.reparent("g", "development")

    assert (pct(tree, "development"), kra_score(tree, "development")) == (50, Decimal("35"))
    assert kra_score(tree, "quality") == 0  # Frappe's 0/0 ...
    assert tree.progress("quality") is None  # ... is "no value" here (perfcore's rule)


def test_f8_difference_empty_kra_is_left_out_and_reported_not_counted_as_zero() -> None:
    """Deliberate difference from Frappe F8 (goal % = 0 + 35 = 35): perfcore leaves the empty
    Quality objective out, renormalises over Development and says so (perfcore's rule:
    the renormalisation is reported, not hidden; never 0)."""
    tree = appraisal()
    tree.add(leaf("g", "development", 50))

    explained = tree.explain("appraisal")

    assert explained.progress == Decimal("0.5")
    assert [(e.child_id, e.reason) for e in explained.excluded] == [("quality", "no value")]
    assert explained.renormalised
    assert "renormalised" in explained.note


def test_f9_deleting_the_only_goal_leaves_the_kra_without_value() -> None:
    """Frappe HRMS case F9: single Quality goal 50 % → 50/15; delete it ⇒ Frappe 0/0;
    perfcore: no value (perfcore's rule)."""
    tree = appraisal()
    tree.add(leaf("g", "quality", 50))
    assert (pct(tree, "quality"), kra_score(tree, "quality")) == (50, Decimal("15"))

    affected = tree.remove("g")

    assert affected["quality"] is None
    assert kra_score(tree, "quality") == 0


def test_f10_group_progress_follows_child_changes_and_deletion() -> None:
    """Frappe HRMS case F10: children 50 and 0 → 25; second child to 100 → 75; delete it → 50."""
    tree = ObjectiveTree()
    tree.add(group("parent"))
    tree.add(leaf("a", "parent", 50))
    tree.add(leaf("b", "parent", 0))
    assert pct(tree, "parent") == 25

    assert tree.set_current("b", 100) == {"parent": Decimal("0.75")}
    assert pct(tree, "parent") == 75

    tree.remove("b")
    assert pct(tree, "parent") == 50


def test_f11_nested_group_rolls_up_through_two_levels() -> None:
    """Frappe HRMS case F11: parent [leaf 0, group [leaf 50, leaf 0] = 25] → 12.5."""
    tree = ObjectiveTree()
    tree.add(group("parent"))
    tree.add(leaf("zero", "parent", 0))
    tree.add(group("inner", "parent"))
    tree.add(leaf("fifty", "inner", 50))
    tree.add(leaf("nought", "inner", 0))
    assert pct(tree, "inner") == 25
    assert pct(tree, "parent") == Decimal("12.5")


def test_f12_moving_a_subtree_updates_the_old_parent_chain() -> None:
    """Frappe HRMS case F12: parent1 → child1 [25, 0] = 12.5; parent2 → child2 [50, 0] = 25;
    move child2 under child1 ⇒ child1 = mean(25, 0, 25) = 16.667, parent1 16.667, parent2 0.0
    in Frappe (no value in perfcore: it has no child left)."""
    tree = ObjectiveTree()
    tree.add(group("parent1"))
    tree.add(group("child1", "parent1"))
    tree.add(leaf("c1-a", "child1", 25))
    tree.add(leaf("c1-b", "child1", 0))
    tree.add(group("parent2"))
    tree.add(group("child2", "parent2"))
    tree.add(leaf("c2-a", "child2", 50))
    tree.add(leaf("c2-b", "child2", 0))
    assert pct(tree, "child1") == Decimal("12.5")
    assert pct(tree, "child2") == 25

    affected = tree.reparent("child2", "child1")

    child1 = tree.progress("child1")
    assert child1 is not None
    assert quantize(child1 * 100, 3) == Decimal("16.667")
    assert tree.progress("parent1") == child1
    assert affected["parent2"] is None
    assert affected["child1"] == child1
    assert tree.ancestors("c2-a") == ["child2", "child1", "parent1"]


def test_f12_roll_up_is_exact_not_rounded_per_level() -> None:
    """F12's child1 is exactly 50/3 %: perfcore keeps it exact and rounds only at the edge
    (perfcore's rule); 3 × child1 recovers 50 % to 27 decimal places."""
    tree = ObjectiveTree()
    tree.add(group("child1"))
    for oid, pc in (("a", 25), ("b", 0), ("c", 25)):
        tree.add(leaf(oid, "child1", pc))
    p = tree.progress("child1")
    assert p is not None
    assert abs(p * 3 - Decimal("0.5")) < Decimal("1e-27")


def test_archived_children_are_excluded_from_the_roll_up() -> None:
    """Frappe HRMS (counts status ≠ Archived) and perfcore's rule: weighted mean of
    NON-ARCHIVED children. Children 50 and 0 → 25; archive the 0 → 50; unarchive → 25."""
    tree = ObjectiveTree()
    tree.add(group("parent"))
    tree.add(leaf("a", "parent", 50).transition("active"))
    tree.add(leaf("b", "parent", 0).transition("active"))
    assert pct(tree, "parent") == 25

    assert tree.transition("b", "archived") == {"parent": Decimal("0.5")}
    explained = tree.explain("parent")
    assert [(e.child_id, e.reason) for e in explained.excluded] == [("b", "archived")]
    assert not explained.renormalised

    tree.transition("b", "active")
    assert pct(tree, "parent") == 25
