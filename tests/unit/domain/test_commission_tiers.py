"""Sales commission tier semantics, pinned to published examples (RevOps Masters, QuotaPath).

Every expected number below is either quoted from a published example or worked out by hand
in the comment next to it — never copied from the code's output.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfcore.domain.commission import (
    CommissionPlan,
    CommissionTier,
    Kicker,
    TierMethod,
    proration_factor,
)
from perfcore.domain.errors import InvalidValue

# §2.6 [CALC]: Q = $100k, r = 10 %, B = $120k, tiers 0–50 % 0.5×, 50–100 % 1.0×, >100 % 1.5×.
QUOTAPATH_TIERS = (
    CommissionTier(0, "0.5"),
    CommissionTier("0.5", 1),
    CommissionTier(1, "1.5"),
)


def plan(
    method: str, tiers: tuple[CommissionTier, ...] = QUOTAPATH_TIERS, **kw: object
) -> CommissionPlan:
    return CommissionPlan(method, tiers, **kw)  # type: ignore[arg-type]


def test_marginal_tiers_pay_each_slice_at_its_rate_10500() -> None:
    """§2.6 [CALC] marginal $10,500 = 50k·10%·0.5 + 50k·10%·1.0 + 20k·10%·1.5."""
    result = plan("marginal").compute(quota=100_000, credited=120_000, rate="0.10")
    assert result.amount == Decimal("10500.00")
    assert [line.amount for line in result.lines] == [
        Decimal("2500"),
        Decimal("5000"),
        Decimal("3000"),
    ]
    assert result.attainment == Decimal("1.2")


def test_quotapath_retroactive_decelerator_lift_pays_13000() -> None:
    """§2.6 [CALC] QuotaPath-style: full rate from 50 % applied retroactively, 1.5× above 100 %:
    100k·10%·1.0 + 20k·10%·1.5 = $13,000."""
    tiers = (
        CommissionTier(0, "0.5"),
        CommissionTier("0.5", 1, retroactive=True),
        CommissionTier(1, "1.5"),
    )
    result = plan("marginal", tiers).compute(quota=100_000, credited=120_000, rate="0.10")
    assert result.amount == Decimal("13000.00")


def test_quotapath_decelerator_still_applies_below_the_lift_point() -> None:
    """Same plan at B = $40k (40 %): the lift at 50 % is not reached → 40k·10%·0.5 = $2,000."""
    tiers = (
        CommissionTier(0, "0.5"),
        CommissionTier("0.5", 1, retroactive=True),
        CommissionTier(1, "1.5"),
    )
    result = plan("marginal", tiers).compute(quota=100_000, credited=40_000, rate="0.10")
    assert result.amount == Decimal("2000.00")


def test_base_plus_overage_repo_style_pays_13000() -> None:
    """§2.6 [CALC] repo style (3): min(B,Q)·r + (B−Q)·r·m(a) = 10,000 + 20,000·0.1·1.5."""
    result = plan("base_plus_overage").compute(quota=100_000, credited=120_000, rate="0.10")
    assert result.amount == Decimal("13000.00")
    assert result.lines[0].label == "base to quota"


def test_retroactive_whole_amount_at_reached_tier_pays_18000() -> None:
    """§2.6 [CALC] whole-amount at 1.5×: 120k·10%·1.5 = $18,000 (OCA 'section' semantics)."""
    result = plan("retroactive").compute(quota=100_000, credited=120_000, rate="0.10")
    assert result.amount == Decimal("18000.00")


def test_revops_masters_accelerator_above_quota_pays_145000() -> None:
    """§2.6 [SRC RevOps Masters]: V = $100k, Q = $500k, B = $650k (130 %), 1.5× above quota →
    $100,000 + 0.30·$100,000·1.5 = $145,000 (vs $130,000 linear)."""
    tiers = (CommissionTier(0, "0.5"), CommissionTier("0.5", 1), CommissionTier(1, "1.5"))
    result = plan("base_plus_overage", tiers).compute(
        quota=500_000, credited=650_000, target_variable=100_000
    )
    assert result.amount == Decimal("145000.00")
    assert result.rate == Decimal("0.2")
    linear = plan("base_plus_overage", (CommissionTier(0, 1),)).compute(
        quota=500_000, credited=650_000, target_variable=100_000
    )
    assert linear.amount == Decimal("130000.00")


def test_revops_masters_decelerator_below_half_pays_20000() -> None:
    """§2.6 [SRC RevOps Masters]: decelerator 0.5× below 50 %; 40 % attainment →
    0.40·$100k·0.5 = $20,000."""
    tiers = (CommissionTier(0, "0.5"), CommissionTier("0.5", 1), CommissionTier(1, "1.5"))
    result = plan("base_plus_overage", tiers).compute(
        quota=500_000, credited=200_000, target_variable=100_000
    )
    assert result.amount == Decimal("20000.00")
    assert result.attainment == Decimal("0.4")


def test_windfall_decelerator_above_a_threshold_slows_marginal_pay() -> None:
    """Hand-worked: tiers 0–100 % 1×, 100–200 % 1.5×, ≥200 % 0.5× (windfall); Q=100k, r=10 %,
    B=250k → 10,000 + 15,000 + 50,000·0.1·0.5 = $27,500."""
    tiers = (CommissionTier(0, 1), CommissionTier(1, "1.5"), CommissionTier(2, "0.5"))
    result = plan("marginal", tiers).compute(quota=100_000, credited=250_000, rate="0.1")
    assert result.amount == Decimal("27500.00")


def test_payout_cap_as_multiple_of_target_variable_limits_the_payout() -> None:
    """§2.6 caps 200–300 % of V. Hand-worked: Q=100k, V=10k, marginal 1× then 2× above quota,
    B=300k → 10,000 + 200,000·0.1·2 = 50,000, capped at 2·V = $20,000."""
    tiers = (CommissionTier(0, 1), CommissionTier(1, 2))
    result = plan("marginal", tiers, payout_cap_multiple=2).compute(
        quota=100_000, credited=300_000, target_variable=10_000
    )
    assert result.amount == Decimal("20000.00")
    assert result.capped


def test_attainment_cap_ignores_bookings_beyond_it() -> None:
    """Hand-worked: linear 10 %, attainment capped at 150 %, Q=100k, B=400k → 150k·10% = $15,000."""
    result = plan("marginal", (CommissionTier(0, 1),), attainment_cap="1.5").compute(
        quota=100_000, credited=400_000, rate="0.1"
    )
    assert result.amount == Decimal("15000.00")
    assert result.capped


def test_absolute_payout_cap() -> None:
    """Hand-worked: retroactive 1.5× on 120k·10% = 18,000, cap $15,000 → $15,000."""
    result = plan("retroactive", payout_cap=15_000).compute(
        quota=100_000, credited=120_000, rate="0.10"
    )
    assert result.amount == Decimal("15000.00")


def test_kickers_add_a_share_of_target_variable_per_milestone_cumulatively() -> None:
    """§2.6 kickers (cumulative). Hand-worked: V=20k, Q=100k, B=130k, linear r=0.2 → 26,000;
    kickers 5 % of V at 110 % and 5 % at 125 % → +1,000 +1,000 = $28,000; at 150 % not reached."""
    kickers = (Kicker("1.1", "0.05"), Kicker("1.25", "0.05"), Kicker("1.5", "0.10"))
    result = plan("marginal", (CommissionTier(0, 1),), kickers=kickers).compute(
        quota=100_000, credited=130_000, target_variable=20_000
    )
    assert result.amount == Decimal("28000.00")


def test_ramp_scales_quota_and_keeps_the_rate() -> None:
    """commission-calculator: ramp multiplies quota (and V); rate stays V/Q. Hand-worked:
    Q=100k, ramp 50 % → effective quota 50k; B=60k marginal 1× / 1.5× above quota at r=10 %
    → 5,000 + 10,000·0.1·1.5 = $6,500."""
    tiers = (CommissionTier(0, 1), CommissionTier(1, "1.5"))
    result = plan("marginal", tiers).compute(quota=100_000, credited=60_000, rate="0.1", ramp="0.5")
    assert result.effective_quota == Decimal("50000")
    assert result.amount == Decimal("6500.00")


def test_partial_period_proration_is_active_days_over_period_days() -> None:
    """§2.6 proration = active days / period days. Hand-worked: 15 of 30 days → 0.5, so Q=100k
    becomes 50k; B=50k → attainment exactly 100 %, which reaches the 1.5× band; retroactive
    rates the whole amount: 50k·0.1·1.5 = $7,500."""
    factor = proration_factor(15, 30)
    assert factor == Decimal("0.5")
    tiers = (CommissionTier(0, 1), CommissionTier(1, "1.5"))
    result = plan("retroactive", tiers).compute(
        quota=100_000, credited=50_000, rate="0.1", proration=factor
    )
    assert result.attainment == Decimal("1")
    assert result.amount == Decimal("7500.00")


def test_non_terminating_rate_is_exact_until_the_cent() -> None:
    """V/Q = 10k/30k = 1/3; B = 10k → 3,333.333… → rounded half up $3,333.33."""
    result = plan("marginal", (CommissionTier(0, 1),)).compute(
        quota=30_000, credited=10_000, target_variable=10_000
    )
    assert result.amount == Decimal("3333.33")


def test_tiers_that_do_not_increase_are_refused_with_the_field_path() -> None:
    with pytest.raises(InvalidValue) as err:
        CommissionPlan(
            TierMethod.MARGINAL,
            (CommissionTier(0, 1), CommissionTier("1.0", 2), CommissionTier("0.8", 3)),
        )
    assert err.value.field == "tiers[2].lower"
    assert err.value.valid == "a value > 1.0"


def test_first_tier_must_start_at_zero() -> None:
    with pytest.raises(InvalidValue) as err:
        CommissionPlan(TierMethod.MARGINAL, (CommissionTier("0.5", 1),))
    assert err.value.field == "tiers[0].lower"
    assert err.value.valid == "0"


def test_negative_multiplier_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        CommissionPlan(TierMethod.MARGINAL, (CommissionTier(0, 1), CommissionTier(1, "-0.5")))
    assert err.value.field == "tiers[1].multiplier"
    assert "decelerator" in (err.value.valid or "")


def test_negative_rate_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        plan("marginal").compute(quota=100_000, credited=1, rate="-0.1")
    assert err.value.field == "rate"
    assert err.value.valid == "a number >= 0"


def test_zero_quota_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        plan("marginal").compute(quota=0, credited=1, rate="0.1")
    assert err.value.field == "quota"


def test_rate_and_target_variable_together_are_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        plan("marginal").compute(quota=1, credited=1, rate="0.1", target_variable=1)
    assert err.value.field == "rate"


def test_ramp_outside_unit_interval_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        plan("marginal").compute(quota=1, credited=1, rate="0.1", ramp="1.2")
    assert err.value.field == "ramp"
    assert err.value.valid == "0 < x <= 1"


def test_unknown_method_is_refused_naming_the_three_semantics() -> None:
    with pytest.raises(InvalidValue) as err:
        CommissionPlan("flat", QUOTAPATH_TIERS)  # type: ignore[arg-type]
    assert err.value.field == "method"
    assert err.value.valid == "marginal, retroactive, base_plus_overage"
