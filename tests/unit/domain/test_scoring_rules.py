"""Scoring rules pinned to the sources in perfcore.domain.scoring and numbers worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfcore.domain.errors import InvalidScoring
from perfcore.domain.scoring import (
    AttainmentRatio,
    BandTable,
    BaselineProgress,
    Direction,
    InverseRatio,
    Reflection,
    ScoringRule,
    StepTable,
    TargetRange,
    apply_cap,
    attainment,
)
from perfcore.domain.values import quantize


def test_attainment_ratio_is_actual_over_target_unclamped() -> None:
    rule = AttainmentRatio(100)
    assert rule.score(Decimal(110)) == Decimal("1.1")
    assert rule.score(Decimal(85)) == Decimal("0.85")
    assert rule.score(Decimal(0)) == 0


@pytest.mark.parametrize("target", [0, -1, "-0.5"])
def test_ratio_scoring_refuses_a_target_at_or_below_zero(target: object) -> None:
    # perfcore's rule: no ratio scoring for a target <= 0; such an indicator needs a band table.
    with pytest.raises(InvalidScoring) as err:
        AttainmentRatio(target)
    assert err.value.field == "target"
    assert err.value.valid is not None
    assert "target > 0" in err.value.valid
    assert "band table" in err.value.valid


@pytest.mark.parametrize("rule_cls", [InverseRatio, Reflection])
def test_lower_is_better_ratio_variants_refuse_a_target_at_or_below_zero(
    rule_cls: type[InverseRatio] | type[Reflection],
) -> None:
    with pytest.raises(InvalidScoring) as err:
        rule_cls(0)
    assert err.value.field == "target"


def test_inverse_and_reflection_match_the_scrap_example() -> None:
    # Worked by hand: T = 2.0 %, A = 2.4 % -> T/A = 0.833333; 2 - A/T = 0.80.
    assert quantize(InverseRatio("2.0").score(Decimal("2.4")), 6) == Decimal("0.833333")
    assert Reflection("2.0").score(Decimal("2.4")) == Decimal("0.8")


def test_reflection_anchor_points_and_floor() -> None:
    # §2.1 Infor CPM: A = T -> 100 %, A = 0 -> 200 %, A = 2T -> 0 %; floored at 0 beyond.
    rule = Reflection(5)
    assert rule.score(Decimal(5)) == 1
    assert rule.score(Decimal(0)) == 2
    assert rule.score(Decimal(10)) == 0
    assert rule.score(Decimal(20)) == 0


def test_inverse_ratio_at_zero_actual_scores_the_cap_or_is_refused() -> None:
    assert InverseRatio(2, cap="1.5").score(Decimal(0)) == Decimal("1.5")
    assert InverseRatio(2, cap="1.5").score(Decimal("0.5")) == Decimal("1.5")  # 4, capped
    with pytest.raises(InvalidScoring) as err:
        InverseRatio(2).score(Decimal(0))
    assert err.value.field == "value"
    assert err.value.valid is not None
    assert "cap" in err.value.valid


@pytest.mark.parametrize(
    ("baseline", "target", "actual", "expected"),
    [
        # increasing target: 20 -> 100 (okr-tracker O2 numbers), unclamped
        (20, 100, 100, "1"),
        (20, 100, 0, "-0.25"),
        (20, 100, -20, "-0.5"),
        # decreasing target: 100 -> 20 (O3), beyond the target stays above 1
        (100, 20, 80, "0.25"),
        (100, 20, 20, "1"),
        (100, 20, 0, "1.25"),
        (0, 100, 150, "1.5"),
    ],
)
def test_baseline_progress_is_stored_unclamped_and_works_for_decreasing_targets(
    baseline: int, target: int, actual: int, expected: str
) -> None:
    # perfcore's rule: progress = (current - baseline) / (target - baseline), unclamped.
    assert BaselineProgress(baseline, target).score(Decimal(actual)) == Decimal(expected)


def test_baseline_progress_refuses_target_equal_to_baseline() -> None:
    with pytest.raises(InvalidScoring) as err:
        BaselineProgress(5, 5)
    assert err.value.field == "target"
    assert err.value.valid is not None
    assert "different from the baseline 5" in err.value.valid


def test_target_range_is_one_inside_and_decays_linearly_outside() -> None:
    rule = TargetRange(18, 22, falloff=4)
    assert rule.score(Decimal(18)) == 1
    assert rule.score(Decimal(20)) == 1
    assert rule.score(Decimal(22)) == 1
    assert rule.score(Decimal(24)) == Decimal("0.5")
    assert rule.score(Decimal(15)) == Decimal("0.25")
    assert rule.score(Decimal(30)) == 0


def test_target_range_refuses_inverted_bounds_and_non_positive_falloff() -> None:
    with pytest.raises(InvalidScoring) as err:
        TargetRange(22, 18, falloff=1)
    assert (err.value.field, err.value.valid) == ("high", "high >= low (22)")
    with pytest.raises(InvalidScoring) as err:
        TargetRange(18, 22, falloff=0)
    assert err.value.field == "falloff"


@pytest.mark.parametrize(
    ("attained", "payout"),
    [(85, "0"), (90, "50"), (95, "75"), (100, "100"), (110, "150"), (120, "200"), (130, "200")],
)
def test_meridian_style_band_table(attained: int, payout: str) -> None:
    # Worked by hand: points (90,50) (100,100) (120,200).
    table = BandTable([(90, 50), (100, 100), (120, 200)])
    assert table.score(Decimal(attained)) == Decimal(payout)


@pytest.mark.parametrize(
    ("scrap", "score"),
    [
        ("0.5", "150"),
        ("1.0", "150"),
        ("1.5", "125"),
        ("2.0", "100"),
        ("2.4", "80"),
        ("3.0", "50"),
        ("3.1", "0"),
    ],
)
def test_lower_is_better_scrap_band_table(scrap: str, score: str) -> None:
    # Worked by hand, scrap %: (1.0,150) (2.0,100) (3.0,50), >3.0 -> 0, <=1.0 -> 150.
    table = BandTable([("1.0", 150), ("2.0", 100), ("3.0", 50)], direction="lower_is_better")
    assert table.score(Decimal(scrap)) == Decimal(score)


@pytest.mark.parametrize(
    ("attained", "pct_of_base"),
    [(79, "0"), (80, "40"), (90, "45"), (100, "50"), (110, "65"), (120, "80"), (130, "80")],
)
def test_sec_edgar_ceo_plan_payout_curve_with_cliff_at_80(attained: int, pct_of_base: str) -> None:
    # SEC EDGAR exhibit (https://www.sec.gov/Archives/edgar/data/862831/000095015206002115/
    # l17984aexv10w20.htm): target incentive 50 % of base; <80 % -> 0;
    # 80-100 % -> attainment x 50 %; 100-120 % -> +1.5 pp per point; capped at 80 %.
    curve = BandTable([(80, 40), (100, 50), (120, 80)])
    assert curve.score(Decimal(attained)) == Decimal(pct_of_base)


def test_threshold_target_stretch_constructor_orders_lower_is_better_points() -> None:
    table = BandTable.threshold_target_stretch(
        threshold=("3.0", 50),
        target=("2.0", 100),
        stretch=("1.0", 150),
        direction="lower_is_better",
    )
    assert [p.x for p in table.points] == [Decimal("1.0"), Decimal("2.0"), Decimal("3.0")]
    assert table.score(Decimal("2.4")) == Decimal(80)


@pytest.mark.parametrize(
    ("points", "path"),
    [
        ([(90, 50), (90, 100)], "points[1].x"),  # overlapping (touching) points
        ([(90, 50), (100, 100), (95, 200)], "points[2].x"),  # out of order
    ],
)
def test_band_table_refuses_overlapping_or_unordered_points(
    points: list[tuple[int, int]], path: str
) -> None:
    with pytest.raises(InvalidScoring) as err:
        BandTable(points)
    assert err.value.field == path
    assert err.value.valid is not None
    assert err.value.valid.startswith("x strictly greater than")


def test_band_table_needs_two_points_and_numbers() -> None:
    with pytest.raises(InvalidScoring) as err:
        BandTable([(1, 1)])
    assert err.value.field == "points"
    with pytest.raises(InvalidScoring) as err:
        BandTable([(1, 1), ("lots", 2)])
    assert err.value.field == "points[1].x"
    with pytest.raises(InvalidScoring) as err:
        BandTable([(1, 1), (2, 2)], direction="target_range")
    assert err.value.field == "direction"


def test_step_table_pays_the_step_reached_without_interpolation() -> None:
    steps = StepTable([(80, 40), (100, 50), (120, 80)])
    assert steps.score(Decimal(79)) == 0
    assert steps.score(Decimal(80)) == 40
    assert steps.score(Decimal(119)) == 50
    assert steps.score(Decimal(500)) == 80
    lower = StepTable([(1, 150), (2, 100), (3, 50)], direction=Direction.LOWER_IS_BETTER)
    assert lower.score(Decimal("0.2")) == 150
    assert lower.score(Decimal("1.5")) == 100
    assert lower.score(Decimal("3.5")) == 0


def test_caps_and_informational_attainment() -> None:
    assert apply_cap(Decimal("1.3"), Decimal("1.2")) == Decimal("1.2")
    assert apply_cap(Decimal("1.1"), Decimal("1.2")) == Decimal("1.1")
    assert apply_cap(Decimal("1.3"), None) == Decimal("1.3")
    assert attainment(Decimal(5), Decimal(10)) == Decimal("0.5")
    assert attainment(Decimal(5), Decimal(0)) is None


def test_every_rule_satisfies_the_protocol_and_describes_itself() -> None:
    rules: list[ScoringRule] = [
        AttainmentRatio(100),
        InverseRatio(2),
        Reflection(2),
        BaselineProgress(0, 10),
        TargetRange(1, 2, falloff=1),
        BandTable([(90, 50), (100, 100)]),
        StepTable([(1, 1)]),
    ]
    kinds = set()
    for rule in rules:
        assert isinstance(rule, ScoringRule)
        assert rule.describe()
        kinds.add(rule.kind)
    assert len(kinds) == len(rules)
    assert BandTable([(90, 50), (100, 100)]).describe() == (
        "band table 90→50, 100→100 (below 90 → 0, above 100 → 100)"
    )


def test_rules_refuse_non_numbers_with_the_field_name() -> None:
    with pytest.raises(InvalidScoring) as err:
        AttainmentRatio("ten")
    assert err.value.field == "target"
    assert err.value.valid is not None
    assert "number" in err.value.valid


# --------------------------------------------------------------------------- plan data


def test_make_rule_builds_each_kind_from_plan_data() -> None:
    from perfcore.domain.scoring import RULE_KINDS, make_rule

    table = make_rule("band_table", {"points": [[90, 50], [100, 100], [120, 200]]})
    assert table == BandTable([(90, 50), (100, 100), (120, 200)])
    assert make_rule("reflection", {"target": "2.0"}).score(Decimal("2.4")) == Decimal("0.8")
    assert make_rule("step_table", {"points": [[1, 1]], "below": 0}).kind == "step_table"
    assert set(RULE_KINDS) == {
        "ratio",
        "inverse_ratio",
        "reflection",
        "baseline_progress",
        "target_range",
        "band_table",
        "step_table",
    }


def test_make_rule_errors_name_the_path_under_scoring() -> None:
    from perfcore.domain.scoring import make_rule

    with pytest.raises(InvalidScoring) as err:
        make_rule("sigmoid", {})
    assert err.value.field == "scoring.kind"
    assert err.value.valid is not None
    assert "band_table" in err.value.valid
    with pytest.raises(InvalidScoring) as err:
        make_rule("ratio", {})
    assert err.value.field == "scoring.target"
    with pytest.raises(InvalidScoring) as err:
        make_rule("ratio", {"target": 5, "cap": 2})
    assert (err.value.field, err.value.valid) == ("scoring.cap", "target")
    with pytest.raises(InvalidScoring) as err:
        make_rule("band_table", {"points": [[90, 50], [90, 60]]}, field="indicators.oee.scoring")
    assert err.value.field == "indicators.oee.scoring.points[1].x"
    with pytest.raises(InvalidScoring) as err:
        make_rule("ratio", {"target": 0})
    assert err.value.field == "scoring.target"
    with pytest.raises(InvalidScoring) as err:
        make_rule("band_table", {"points": 5})
    assert err.value.field == "scoring"
