"""Key-result progress from baseline: okr-tracker O1-O6 and Horilla H1-H8.

Sources: okr-tracker (https://github.com/oslokommune/okr-tracker) and Horilla
(https://github.com/horilla-opensource/horilla), their test scenarios O1-O6, H1-H8. perfcore's rule:
progress = (current − baseline) / (target − baseline), unclamped, works for decreasing targets;
target == baseline gives no value.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfcore.domain.objective import Objective, baseline_progress
from perfcore.domain.objective_tree import ObjectiveTree
from perfcore.domain.values import quantize


def percent(baseline: int, target: int, current: int | None) -> Decimal | None:
    p = Objective("kr", baseline=baseline, target=target, current=current).own_progress()
    return None if p is None else quantize(p * 100, 2)


def remaining(baseline: int, target: int, current: int | None) -> Decimal | None:
    return Objective("kr", baseline=baseline, target=target, current=current).remaining()


@pytest.mark.parametrize(
    ("start", "target", "current", "pct", "left"),
    [
        (0, 100, 0, 0, 100),
        (0, 100, 20, 20, 80),
        (0, 100, 100, 100, 0),
        (0, 100, 150, 150, 0),
    ],
)
def test_o1_progress_from_zero_start_is_unclamped(
    start: int, target: int, current: int, pct: int, left: int
) -> None:
    """okr-tracker case O1 (okr-tracker detail percentage and remaining)."""
    assert percent(start, target, current) == pct
    assert remaining(start, target, current) == left


@pytest.mark.parametrize(
    ("start", "target", "current", "pct", "left"),
    [
        (20, 100, 20, 0, 80),
        (20, 100, 100, 100, 0),
        (20, 100, 0, -25, 100),
        (20, 100, -20, -50, 120),
    ],
)
def test_o2_progress_is_measured_from_the_baseline_and_may_be_negative(
    start: int, target: int, current: int, pct: int, left: int
) -> None:
    """okr-tracker case O2; perfcore's rule: raw progress may be −25 %."""
    assert percent(start, target, current) == pct
    assert remaining(start, target, current) == left


@pytest.mark.parametrize(
    ("start", "target", "current", "pct"),
    [
        (100, 0, 100, 0),
        (100, 0, 80, 20),
        (100, 0, 0, 100),
        (100, 20, 80, 25),
        (100, 20, 20, 100),
        (100, 20, 0, 125),
    ],
)
def test_o3_decreasing_targets_progress_as_the_value_falls(
    start: int, target: int, current: int, pct: int
) -> None:
    """okr-tracker case O3 (decreasing: start > target)."""
    assert percent(start, target, current) == pct


def test_o3_remaining_on_a_decreasing_target_counts_downwards() -> None:
    """okr-tracker remaining = max(0, distance to target): 100 → 20, now 80
    ⇒ 60 left; now 0 (past the target) ⇒ 0."""
    assert remaining(100, 20, 80) == 60
    assert remaining(100, 20, 0) == 0


def test_o4_missing_current_counts_as_the_baseline() -> None:
    """okr-tracker case O4: missing current → treated as start → 0."""
    assert percent(20, 100, None) == 0
    assert remaining(20, 100, None) == 80


def test_o4_difference_target_equal_to_baseline_has_no_value_instead_of_zero() -> None:
    """okr-tracker case O4 gives 0,0,0 → 0; perfcore deliberately returns no value because the
    ratio divides by zero (perfcore's rule: no value plus a diagnostic, never 0)."""
    assert baseline_progress(Decimal(0), Decimal(0), Decimal(0)) is None
    tree = ObjectiveTree([Objective("kr", baseline=0, target=0, current=0)])
    explained = tree.explain("kr")
    assert explained.progress is None
    assert "target equals baseline" in explained.note


def test_o5_difference_perfcore_stores_progress_unclamped() -> None:
    """okr-tracker case O5 [derived]: okr-tracker's server progression clamps 0,100,150 → 1.0 and
    20,100,0 → 0.0. perfcore keeps 1.5 and −0.25: clamping belongs to a scoring step that says
    so (perfcore's rule)."""
    assert Objective("a", target=100, current=150).own_progress() == Decimal("1.5")
    assert Objective("b", baseline=20, target=100, current=0).own_progress() == Decimal("-0.25")


def test_o5_difference_unclamped_children_change_the_parent_roll_up() -> None:
    """With the two O5 key results (weights 1, 1) okr-tracker's clamped objective progression is
    (1.0 + 0.0) / 2 = 0.5; perfcore's unclamped roll-up is (1.5 − 0.25) / 2 = 0.625
    (perfcore's rule)."""
    tree = ObjectiveTree(
        [
            Objective("obj"),
            Objective("a", parent_id="obj", target=100, current=150),
            Objective("b", parent_id="obj", baseline=20, target=100, current=0),
        ]
    )
    assert tree.progress("obj") == Decimal("0.625")


def test_o6_objective_progress_is_the_weighted_mean_of_its_key_results() -> None:
    """okr-tracker case O6 [derived]: KR weights 1, 1, 2 with progressions 0.5, 1.0, 0.25 →
    (0.5 + 1.0 + 0.5) / 4 = 0.5."""
    tree = ObjectiveTree(
        [
            Objective("obj"),
            Objective("kr1", parent_id="obj", weight=1, target=100, current=50),
            Objective("kr2", parent_id="obj", weight=1, target=100, current=100),
            Objective("kr3", parent_id="obj", weight=2, target=100, current=25),
        ]
    )
    assert tree.progress("obj") == Decimal("0.5")
    shares = {p.child_id: p.share for p in tree.explain("obj").parts}
    assert shares == {"kr1": Decimal("0.25"), "kr2": Decimal("0.25"), "kr3": Decimal("0.5")}


def test_okr_decimal_weights_are_accepted_and_normalised() -> None:
    """okr-tracker: weights are any positive decimal, normalised by their sum.
    0.5 × 1.0 + 1.5 × 0.2 over 2 = 0.4."""
    tree = ObjectiveTree(
        [
            Objective("obj"),
            Objective("a", parent_id="obj", weight="0.5", target=10, current=10),
            Objective("b", parent_id="obj", weight="1.5", target=10, current=2),
        ]
    )
    assert tree.progress("obj") == Decimal("0.4")


# --- Horilla (cases H1-H8) --------------------------------------------------------------


def test_h1_h4_h6_agree_with_horilla() -> None:
    """Horilla case H1 (0,5,10 → 50 %), H4 (current 15 / target 10 → 150 %, unclamped),
    H6 (KRs 20 % and 80 % → 50 %)."""
    assert percent(0, 10, 5) == 50
    assert percent(0, 10, 15) == 150
    tree = ObjectiveTree(
        [
            Objective("obj"),
            Objective("a", parent_id="obj", target=100, current=20),
            Objective("b", parent_id="obj", target=100, current=80),
        ]
    )
    assert tree.progress("obj") == Decimal("0.5")


def test_h2_difference_progress_is_exact_not_truncated() -> None:
    """Horilla case H2: Horilla stores 1/3 as 33 (integer truncation); perfcore keeps the
    exact value and rounds half-up only when presenting: 33.33 % (perfcore's rule)."""
    assert percent(0, 3, 1) == Decimal("33.33")


def test_h3_difference_baseline_is_not_ignored() -> None:
    """Horilla case H3: Horilla reports start 5, current 5, target 10 as 50 % (baseline
    ignored, flagged "questionable" by its authors); perfcore measures from the baseline: 0 %."""
    assert percent(5, 10, 5) == 0


def test_h5_difference_zero_target_from_zero_baseline_has_no_value() -> None:
    """Horilla case H5: Horilla leaves progress 0 for target 0; perfcore: no value."""
    assert percent(0, 0, 3) is None


def test_h7_difference_children_are_not_clamped_before_averaging() -> None:
    """Horilla case H7: Horilla clamps each KR to 100 % so 150 % and 50 % → 75 %;
    perfcore averages raw progress: 100 % (perfcore's rule)."""
    tree = ObjectiveTree(
        [
            Objective("obj"),
            Objective("a", parent_id="obj", target=10, current=15),
            Objective("b", parent_id="obj", target=10, current=5),
        ]
    )
    assert tree.progress("obj") == 1


def test_h8_difference_objective_without_key_results_has_no_value() -> None:
    """Horilla case H8: Horilla shows 0 for an objective with no KRs; perfcore: no value."""
    tree = ObjectiveTree([Objective("obj")])
    assert tree.progress("obj") is None
    assert tree.explain("obj").note.startswith("no child with a value")
