"""Property tests for the objective roll-up (issue 2 "Must show": roll-up is order-independent,
exact decimal results independent of input order; weighted means stay within their inputs).

perfcore's rules: exact decimals, and a parent's progress is the weighted mean
of non-archived children).
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from perfcore.domain.objective import Objective, to_decimal
from perfcore.domain.objective_tree import ObjectiveTree

decimals = st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False)
weights = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)


@st.composite
def key_results(draw: st.DrawFn) -> tuple[Decimal, Decimal, Decimal, Decimal, bool]:
    baseline = draw(decimals)
    target = draw(decimals.filter(lambda t: t != baseline))
    current = draw(decimals)
    weight = draw(weights)
    archived = draw(st.booleans())
    return baseline, target, current, weight, archived


@st.composite
def trees(draw: st.DrawFn) -> list[Objective]:
    """A random forest: a few groups, each either a root or under an earlier group, and
    key results under random groups; at least one non-archived child with weight > 0 each."""
    n_groups = draw(st.integers(1, 5))
    objectives: list[Objective] = []
    for g in range(n_groups):
        parent = None if g == 0 else draw(st.sampled_from([None, *[f"g{i}" for i in range(g)]]))
        objectives.append(Objective(f"g{g}", parent_id=parent, weight=draw(weights) + 1))
    krs = draw(st.lists(key_results(), min_size=1, max_size=12))
    for k, (b, t, c, w, archived) in enumerate(krs):
        parent = draw(st.sampled_from([f"g{i}" for i in range(n_groups)]))
        o = Objective(f"k{k}", parent_id=parent, baseline=b, target=t, current=c, weight=w)
        if archived:
            o = o.transition("archived")
        objectives.append(o)
    for g in range(n_groups):  # guarantee every group can roll up
        objectives.append(Objective(f"anchor{g}", parent_id=f"g{g}", target=1, current=0, weight=1))
    return objectives


@settings(max_examples=60, deadline=None)
@given(trees(), st.randoms(use_true_random=False))
def test_roll_up_does_not_depend_on_insertion_order(
    objectives: list[Objective], rnd: random.Random
) -> None:
    shuffled = list(objectives)
    rnd.shuffle(shuffled)
    assert ObjectiveTree.build(objectives).rollup() == ObjectiveTree.build(shuffled).rollup()


@settings(max_examples=60, deadline=None)
@given(st.lists(key_results(), min_size=1, max_size=10), st.permutations(range(10)))
def test_weighted_mean_is_exact_and_order_independent(
    krs: list[tuple[Decimal, Decimal, Decimal, Decimal, bool]], order: list[int]
) -> None:
    """The roll-up equals Σ wᵢpᵢ / Σ wᵢ computed independently with Fractions, whatever the
    order in which children are added one by one."""
    children = [
        Objective(f"k{i}", parent_id="p", baseline=b, target=t, current=c, weight=w + 1)
        for i, (b, t, c, w, _) in enumerate(krs)
    ]
    expected_num = sum(
        (Fraction(w + 1) * (Fraction(c) - Fraction(b)) / (Fraction(t) - Fraction(b)))
        for b, t, c, w, _ in krs
    )
    expected = to_decimal(expected_num / sum(Fraction(w + 1) for *_, w, _ in krs))

    tree = ObjectiveTree([Objective("p")])
    for i in [i for i in order if i < len(children)]:
        tree.add(children[i])
    assert tree.progress("p") == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(key_results(), min_size=1, max_size=10))
def test_parent_stays_within_the_range_of_its_counted_children(
    krs: list[tuple[Decimal, Decimal, Decimal, Decimal, bool]],
) -> None:
    objectives = [Objective("p")]
    objectives += [
        Objective(f"k{i}", parent_id="p", baseline=b, target=t, current=c, weight=w + 1)
        for i, (b, t, c, w, _) in enumerate(krs)
    ]
    tree = ObjectiveTree(objectives)
    values = [tree.progress(f"k{i}") for i in range(len(krs))]
    parent = tree.progress("p")
    assert parent is not None
    present = [v for v in values if v is not None]
    assert min(present) <= parent <= max(present)


@settings(max_examples=40, deadline=None)
@given(trees(), st.data())
def test_moving_a_key_result_and_back_restores_every_value(
    objectives: list[Objective], data: st.DataObject
) -> None:
    """Re-parenting recomputes old and new parents: a move followed by the reverse move gives
    the original roll-up back exactly."""
    tree = ObjectiveTree.build(objectives)
    before = tree.rollup()
    krs = [
        o
        for o in objectives
        if o.is_key_result and not o.is_archived and not o.id.startswith("anchor")
    ]
    assume(krs)
    groups = [o.id for o in objectives if not o.is_key_result]
    kr = data.draw(st.sampled_from(krs))
    target_group = data.draw(st.sampled_from(groups))
    old_parent = kr.parent_id
    # anchors never move, so every group keeps a child with weight 1 (moving the anchor itself
    # could leave a group with only weight-0 children, which the tree rightly refuses)
    tree.reparent(kr.id, target_group)
    tree.reparent(kr.id, old_parent)
    assert tree.rollup() == before


@settings(max_examples=40, deadline=None)
@given(trees(), st.data())
def test_cached_roll_up_after_changes_equals_a_fresh_computation(
    objectives: list[Objective], data: st.DataObject
) -> None:
    """After any sequence of changes (values, weights, archiving, moves), the tree's incremental
    roll-up equals a roll-up of the same objectives built from scratch."""
    tree = ObjectiveTree.build(objectives)
    tree.rollup()  # fill the cache
    krs = [o.id for o in objectives if o.is_key_result and not o.id.startswith("anchor")]
    groups = [o.id for o in objectives if not o.is_key_result]
    for _ in range(data.draw(st.integers(1, 8))):
        if not krs:
            break
        kr = data.draw(st.sampled_from(krs))
        action = data.draw(st.sampled_from(["current", "weight", "archive", "move"]))
        if action == "current":
            tree.set_current(kr, data.draw(decimals))
        elif action == "weight":
            tree.set_weight(kr, data.draw(weights))
        elif action == "archive" and not tree.get(kr).is_archived:
            tree.transition(kr, "archived")
        elif action == "move":
            tree.reparent(kr, data.draw(st.sampled_from(groups)))
        assert tree.rollup() == ObjectiveTree.build(list(tree)).rollup()
