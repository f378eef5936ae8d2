"""Distribution guidelines — SAP SuccessFactors operators, move-k hint, Hamilton allocation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.calibration.guidelines import (
    BucketRule,
    DistributionGuideline,
    Operator,
    allocate,
)
from perfcore.domain.calibration.scale import BucketMapping, RatingScale
from perfcore.domain.errors import InvalidValue

GE_CURVE = {"bottom": Fraction(1, 10), "middle": Fraction(7, 10), "top": Fraction(1, 5)}


def test_thirteen_people_at_20_70_10_get_3_9_1() -> None:
    """Worked by hand: q = 2.6/9.1/1.3 → floors 2/9/1, the spare seat goes to
    the largest remainder (top, .6) → 3/9/1."""
    assert allocate(13, GE_CURVE) == {"bottom": 1, "middle": 9, "top": 3}


def test_allocation_is_exact_where_floats_would_drift() -> None:
    """§1.3: N·0.2 must not become 2.0000000004. 10 × 0.1/0.7/0.2 is exactly 1/7/2."""
    guideline = DistributionGuideline.of({"bottom": "0.1", "middle": "0.7", "top": "0.2"})
    assert guideline.allocate(10) == {"bottom": 1, "middle": 7, "top": 2}


def test_equal_remainders_go_to_the_higher_bucket_by_default() -> None:
    """§1.3 tie rule: 2 people at 50/50 is exact; 1 person at 50/50 → the higher bucket, or the
    lower one with tie='lower_first'."""
    halves = {"low": Fraction(1, 2), "high": Fraction(1, 2)}
    assert allocate(1, halves) == {"low": 0, "high": 1}
    assert allocate(1, halves, tie="lower_first") == {"low": 1, "high": 0}


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 500), st.lists(st.integers(0, 20), min_size=1, max_size=7))
def test_allocation_always_sums_to_n(total: int, weights: list[int]) -> None:
    """Property (issue 4): Σ allocated = N, each within one of its exact quota."""
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    shares = {f"b{i}": Fraction(w, sum(weights)) for i, w in enumerate(weights)}
    counts = allocate(total, shares)
    assert sum(counts.values()) == total
    for name, share in shares.items():
        assert abs(counts[name] - total * share) < 1


def test_shares_not_summing_to_one_name_the_actual_total() -> None:
    with pytest.raises(InvalidValue) as err:
        DistributionGuideline.of({"bottom": "0.1", "middle": "0.6", "top": "0.2"})
    assert err.value.field == "targets"
    assert "90%" in err.value.message
    assert err.value.valid == "shares summing to exactly 1 (100%)"


def test_rule_for_unknown_bucket_is_refused_with_the_valid_names() -> None:
    with pytest.raises(InvalidValue) as err:
        DistributionGuideline.of(GE_CURVE, [BucketRule("stars", "<=", "0.2")])
    assert err.value.field == "rules[0].bucket"
    assert err.value.valid == "bottom, middle, top"


def test_check_refuses_counts_for_an_unknown_bucket() -> None:
    with pytest.raises(InvalidValue) as err:
        DistributionGuideline.of(GE_CURVE).check({"exceptional": 2})
    assert err.value.field == "counts.exceptional"
    assert err.value.valid == "bottom, middle, top"


def test_between_needs_an_upper_share() -> None:
    with pytest.raises(InvalidValue) as err:
        BucketRule("top", Operator.BETWEEN, "0.2")
    assert err.value.field == "upper"


def test_share_outside_zero_one_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        BucketRule("top", "<=", "1.5")
    assert err.value.valid == "0 ≤ share ≤ 1"


def test_at_most_rule_asks_to_remove_the_excess() -> None:
    """§1.3 hint: remove max(0, n_c − ⌊N·hi⌋). N 13, top ≤ 20%: ⌊2.6⌋ = 2; 5 in top → remove 3."""
    guideline = DistributionGuideline.of(GE_CURVE, [BucketRule("top", "<=", "0.2")])
    status = guideline.check({"bottom": 1, "middle": 7, "top": 5}).buckets[2]
    assert (status.status, status.move, status.high) == ("above", -3, 2)
    assert "remove 3 people" in status.sentence


def test_at_least_rule_asks_to_add_the_shortfall() -> None:
    """§1.3 hint: add max(0, ⌈N·lo⌉ − n_c). N 13, bottom ≥ 10%: ⌈1.3⌉ = 2; 0 there → add 2."""
    guideline = DistributionGuideline.of(GE_CURVE, [BucketRule("bottom", ">=", "0.1")])
    status = guideline.check({"bottom": 0, "middle": 10, "top": 3}).buckets[0]
    assert (status.status, status.move, status.low) == ("below", 2, 2)


def test_between_rule_gives_the_hint_as_a_range() -> None:
    """SuccessFactors shows a range for a range guideline: N 20, middle between 60% and 80% →
    12..16 allowed; 9 there → add 3 to 7 people."""
    guideline = DistributionGuideline.of(
        GE_CURVE, [BucketRule("middle", "between", "0.6", upper="0.8")]
    )
    status = guideline.check({"bottom": 4, "middle": 9, "top": 7}).buckets[1]
    assert (status.move, status.move_most) == (3, 7)
    assert "add 3 to 7 people" in status.sentence


def test_strict_operators_exclude_the_boundary() -> None:
    """< 20% of 10 allows at most 1; > 10% of 10 needs at least 2."""
    assert BucketRule("top", "<", "0.2").count_bounds(10) == (0, 1)
    assert BucketRule("top", ">", "0.1").count_bounds(10) == (2, 10)
    assert BucketRule("top", "<=", "0.2").count_bounds(10) == (0, 2)


def test_equal_rule_accepts_the_two_nearest_counts_when_n_times_share_is_fractional() -> None:
    """Our reading of '=' (documented): 13 × 20% = 2.6 → 2 or 3 people are both 'ok'."""
    assert BucketRule("top", "=", "0.2").count_bounds(13) == (2, 3)
    assert BucketRule("top", "=", "0.2").count_bounds(10) == (2, 2)


def test_unattainable_range_is_reported_not_hinted() -> None:
    """between 25% and 30% of 3 people: ⌈0.75⌉ = 1 > ⌊0.9⌋ = 0 → no count satisfies it."""
    guideline = DistributionGuideline.of(
        GE_CURVE, [BucketRule("top", "between", "0.25", upper="0.3")]
    )
    status = guideline.check({"bottom": 0, "middle": 3, "top": 0}).buckets[2]
    assert status.status == "unattainable"
    assert not guideline.check({"bottom": 0, "middle": 3, "top": 0}).ok


def test_a_distribution_that_meets_every_rule_is_ok() -> None:
    guideline = DistributionGuideline.of(GE_CURVE)
    check = guideline.check({"bottom": 1, "middle": 9, "top": 3})
    assert check.ok
    assert check.summary() == ""


def test_bucket_mapping_refuses_an_unmapped_rating() -> None:
    mapping = BucketMapping.of({"low": [1, 2], "mid": [3], "high": [4, 5]})
    assert mapping.bucket(4) == "high"
    with pytest.raises(InvalidValue) as err:
        mapping.bucket(6)
    assert err.value.valid == "1, 2, 3, 4, 5"


def test_bucket_mapping_refuses_a_rating_in_two_buckets() -> None:
    with pytest.raises(InvalidValue) as err:
        BucketMapping.of({"low": [1, 2], "mid": [2, 3]})
    assert err.value.field == "buckets.mid"


def test_rating_scale_refuses_values_between_steps() -> None:
    with pytest.raises(InvalidValue) as err:
        RatingScale(1, 5, 1).check("3.5", field="to")
    assert err.value.field == "to"
    assert err.value.valid == "1..5 in steps of 1"
    assert RatingScale(1, 4, "0.5").check("3.5") == RatingScale(1, 4, "0.5").values[5]
