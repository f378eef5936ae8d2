"""A rule may never deduct points for reporting an injury or near miss.

perfcore's rule, after behaviour-based safety practice (reward leading behaviours; rate-based
programmes can suppress reporting; OSHA 29 CFR 1904.35(b)(1)(iv) anti-retaliation rule). Refused
when the rule is *defined*, with PolicyDenied naming the indicator read and stating the rule.
"""

from __future__ import annotations

import pytest

from perfcore.domain.errors import PolicyDenied
from perfcore.domain.incentive import (
    Cadence,
    Condition,
    FixedReward,
    IncentiveRule,
    IndicatorRead,
    RateReward,
    ReportingKind,
    RewardTier,
    TieredReward,
)

MONTH = Cadence("month")


def assert_refused(err: pytest.ExceptionInfo[PolicyDenied], field: str) -> None:
    assert err.value.field == field
    assert "OSHA 29 CFR 1904.35(b)(1)(iv)" in (err.value.valid or "")
    assert "behaviour-based safety" in (err.value.valid or "")


def test_points_per_near_miss_deduction_is_refused_at_definition() -> None:
    with pytest.raises(PolicyDenied) as err:
        IncentiveRule("nm-penalty", RateReward("near_miss_reports", -5, "points"), MONTH)
    assert_refused(err, "reward.reads[0]")
    assert "near_miss_reports" in err.value.message


def test_fixed_deduction_triggered_by_an_injury_report_is_refused() -> None:
    with pytest.raises(PolicyDenied) as err:
        IncentiveRule(
            "injury-penalty",
            FixedReward("points", -20),
            MONTH,
            condition=Condition("injuries_reported > 0", ["injuries_reported"]),
        )
    assert_refused(err, "condition.reads[0]")


def test_explicit_reporting_tag_catches_an_innocent_looking_name() -> None:
    """``events_logged`` would pass the keyword check; the tag marks it as near-miss reports."""
    with pytest.raises(PolicyDenied) as err:
        IncentiveRule(
            "tagged",
            TieredReward(
                IndicatorRead("events_logged", ReportingKind.NEAR_MISS_REPORT),
                [RewardTier(1, -5), RewardTier(3, -15)],
                kind="points",
            ),
            MONTH,
        )
    assert_refused(err, "reward.reads[0]")


def test_tag_given_as_text_in_the_condition_reads() -> None:
    with pytest.raises(PolicyDenied) as err:
        IncentiveRule(
            "tagged-text",
            FixedReward("points", -10),
            MONTH,
            condition=Condition(
                "quality_ok == 1 and slips >= 1",
                ["quality_ok", ("slips", "injury_report")],
            ),
        )
    assert_refused(err, "condition.reads[1]")


@pytest.mark.parametrize(
    "text",
    [
        "injury_reports == 0",
        "injury_reports <= 0",
        "injury_reports < 1",
        "0 == injury_reports",
        "inspections >= 10 and injury_reports == 0",
    ],
)
def test_withholding_a_reward_unless_zero_reports_is_refused_as_a_deduction(text: str) -> None:
    with pytest.raises(PolicyDenied) as err:
        IncentiveRule(
            "injury-free-bonus",
            FixedReward("points", 50),
            MONTH,
            condition=Condition(text, ["inspections", "injury_reports"]),
        )
    assert_refused(err, "condition.reads[1]")


def test_rewarding_near_miss_reporting_is_allowed() -> None:
    """The behaviour-based programme §2.7 recommends: more near misses logged → more points."""
    rule = IncentiveRule(
        "nm-reporting",
        RateReward("near_miss_reports", 5, "points"),
        MONTH,
        condition=Condition("near_miss_reports >= 3", ["near_miss_reports"]),
    )
    assert rule.reads[0].is_safety_reporting


def test_deductions_for_other_behaviour_are_allowed_on_points() -> None:
    rule = IncentiveRule(
        "missed-round",
        FixedReward("points", -5),
        MONTH,
        condition=Condition("missed_inspection_rounds > 0", ["missed_inspection_rounds"]),
    )
    assert rule.reward.deduction_field() == "amount"
