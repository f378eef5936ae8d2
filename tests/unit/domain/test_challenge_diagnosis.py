"""Target challenge diagnosis (perfcore's rules).

Defaults: too easy when attainment > 130 % and too hard when < 70 % in each of the last 2
periods; population hit rate (share with A ≥ T) > 0.8 too easy, < 0.4 too hard; polarised when
≥ 25 % are above 130 % and ≥ 25 % below 70 %.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.challenge import (
    AttainmentPoint,
    ChallengeLevel,
    ChallengePolicy,
    RecommendedAction,
    ResultVisibility,
    TargetChange,
    diagnose_population,
    diagnose_subject,
    flag_target_lowering,
    hit_rate,
)
from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import OrgChart, OrgUnit, Period, Person, SubjectRef

E1 = SubjectRef.person("E1")
MAR, APR, MAY, JUN = (Period.month(2025, m) for m in (3, 4, 5, 6))


def hist(*values: str) -> list[AttainmentPoint]:
    months = [Period.month(2025, m) for m in range(1, 13)]
    return [AttainmentPoint(months[i], v) for i, v in enumerate(values)]


def test_attainment_above_130_percent_twice_in_a_row_is_too_easy_and_recommends_stretch() -> None:
    d = diagnose_subject(E1, hist("1.10", "1.35", "1.42"))
    assert d.level is ChallengeLevel.TOO_EASY
    assert d.action is RecommendedAction.STRETCH_TARGET
    assert [a.period for a in d.considered] == [Period.month(2025, 2), MAR]
    assert d.reason == (
        "person:E1 exceeded 130 % of target in each of the last 2 periods "
        "(2025-02 135 %, 2025-03 142 %): the target is too easy; set a stretch target."
    )


def test_attainment_below_70_percent_twice_is_too_hard_and_recommends_coaching_pack() -> None:
    d = diagnose_subject(E1, hist("0.65", "0.50"))
    assert d.level is ChallengeLevel.TOO_HARD
    assert d.action is RecommendedAction.COACHING_RESOURCE_PACK
    assert "coaching resource pack" in d.reason


def test_exactly_130_and_70_percent_are_healthy_bounds_are_strict() -> None:
    assert diagnose_subject(E1, hist("1.30", "1.30")).level is ChallengeLevel.HEALTHY
    assert diagnose_subject(E1, hist("0.70", "0.70")).level is ChallengeLevel.HEALTHY
    assert diagnose_subject(E1, hist("1.31", "1.3001")).level is ChallengeLevel.TOO_EASY


def test_one_spike_is_not_consistent() -> None:
    d = diagnose_subject(E1, hist("1.50", "1.00"))
    assert d.level is ChallengeLevel.HEALTHY
    assert d.action is RecommendedAction.KEEP


def test_too_little_history_collects_more_data() -> None:
    d = diagnose_subject(E1, hist("1.50"))
    assert d.level is ChallengeLevel.INSUFFICIENT_DATA
    assert d.action is RecommendedAction.COLLECT_MORE_DATA


def test_consecutive_periods_and_bounds_are_configurable() -> None:
    three = ChallengePolicy(consecutive_periods=3)
    assert diagnose_subject(E1, hist("1.0", "1.4", "1.4"), three).level is ChallengeLevel.HEALTHY
    assert diagnose_subject(E1, hist("1.4", "1.4", "1.4"), three).level is ChallengeLevel.TOO_EASY
    strict = ChallengePolicy(too_easy_above="1.2", too_hard_below="0.8")
    assert diagnose_subject(E1, hist("1.25", "1.21"), strict).level is ChallengeLevel.TOO_EASY


def test_history_order_does_not_matter_but_duplicate_periods_are_refused() -> None:
    pts = hist("0.5", "0.6", "1.4", "1.5")
    assert diagnose_subject(E1, reversed(pts)).level is ChallengeLevel.TOO_EASY
    with pytest.raises(InvalidValue) as err:
        diagnose_subject(E1, [AttainmentPoint(MAR, 1), AttainmentPoint(MAR, 2)])
    assert err.value.field == "history[1].period"


def test_policy_rejects_inverted_bounds() -> None:
    with pytest.raises(InvalidValue):
        ChallengePolicy(too_easy_above="0.7", too_hard_below="1.3")
    with pytest.raises(InvalidValue):
        ChallengePolicy(consecutive_periods=0)
    with pytest.raises(InvalidValue):
        ChallengePolicy(hit_rate_too_easy_above="1.2")


def population(*values: str) -> dict[SubjectRef, str]:
    return {SubjectRef.person(f"R{i}"): v for i, v in enumerate(values)}


def test_hit_rate_is_the_share_at_or_above_target() -> None:
    assert hit_rate(["1.0", "0.99", "1.2", "0.5", "1.0", "0.8"]) == Fraction(1, 2)
    assert hit_rate([]) is None


def test_six_of_ten_at_quota_is_healthy() -> None:
    """Published norms: healthy plans have ~55-65 % (Cortado) / ~60 % (GTMnow) at quota."""
    d = diagnose_population("quota", population(*(["1.05"] * 6 + ["0.85"] * 4)))
    assert (d.hits, d.population, d.hit_rate) == (6, 10, Fraction(3, 5))
    assert d.level is ChallengeLevel.HEALTHY
    assert d.reason == (
        "6 of 10 people (60 %) reached the quota target, within 40 %–80 %: the target is "
        "challenging but reachable."
    )


def test_nine_of_ten_is_too_easy_and_three_of_ten_too_hard_eight_and_four_are_bounds() -> None:
    """perfcore's rule: flag h_T > 0.8 (too easy) or < 0.4 (too hard)."""
    easy = diagnose_population("quota", population(*(["1.1"] * 9 + ["0.9"])))
    assert easy.level is ChallengeLevel.TOO_EASY
    assert easy.action is RecommendedAction.REVIEW_TARGET_SETTING
    hard = diagnose_population("quota", population(*(["1.1"] * 3 + ["0.9"] * 7)))
    assert hard.level is ChallengeLevel.TOO_HARD
    eight = diagnose_population("quota", population(*(["1.1"] * 8 + ["0.9"] * 2)))
    four = diagnose_population("quota", population(*(["1.1"] * 4 + ["0.9"] * 6)))
    assert eight.level is four.level is ChallengeLevel.HEALTHY


def test_bimodal_attainment_points_to_allocation_not_people() -> None:
    """perfcore's rule: bimodal attainment ⇒ allocation/territory problem."""
    d = diagnose_population(
        "gmv", population("1.5", "1.6", "1.4", "0.5", "0.6", "0.4", "1.0", "1.0")
    )
    assert d.hit_rate == Fraction(5, 8)  # would look healthy on the hit rate alone
    assert (d.too_easy_share, d.too_hard_share) == (Fraction(3, 8), Fraction(3, 8))
    assert d.level is ChallengeLevel.POLARISED
    assert d.action is RecommendedAction.REVIEW_ALLOCATION


def test_populations_under_four_are_not_diagnosed() -> None:
    d = diagnose_population("quota", population("1.5", "1.5", "1.5"))
    assert d.level is ChallengeLevel.INSUFFICIENT_DATA
    assert d.hit_rate is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.decimals(0, 3, places=2), min_size=1, max_size=40))
def test_hit_rate_is_between_0_and_1_and_counts_exactly(values: list[Decimal]) -> None:
    h = hit_rate(values)
    assert h is not None
    assert 0 <= h <= 1
    assert h * len(values) == sum(1 for v in values if v >= 1)


ORG = OrgChart.build(
    [
        Person("E1", unit_id="line3"),
        Person("E2", unit_id="line3"),
        Person("M1", unit_id="line3"),
        Person("E3", unit_id="line4"),
        Person("M2", unit_id="line4"),
    ],
    [OrgUnit("line3", manager_id="M1"), OrgUnit("line4", manager_id="M2")],
)
VISIBLE = dt.datetime(2025, 4, 10, 8, tzinfo=dt.UTC)


def change(
    who: str, old: str, new: str, day: int, *, by: str = "M1", lower: bool = False
) -> TargetChange:
    return TargetChange(
        SubjectRef.person(who),
        "first_pass_yield",
        APR,
        old,
        new,
        dt.datetime(2025, 4, day, 12, tzinfo=dt.UTC),
        by,
        lower_is_better=lower,
    )


def test_manager_who_lowers_targets_after_results_are_visible_is_flagged() -> None:
    changes = [
        change("E1", "0.98", "0.95", 12),
        change("E2", "0.98", "0.96", 14),
        change("E2", "0.99", "0.98", 2),  # before visibility: ordinary target setting
        change("E3", "0.98", "0.90", 15, by="M2"),  # only one for M2: below the minimum
    ]
    flags = flag_target_lowering(changes, [ResultVisibility(APR, VISIBLE)], ORG)
    assert [f.manager_id for f in flags] == ["M1"]
    (flag,) = flags
    assert flag.action is RecommendedAction.REVIEW_TARGET_SETTING
    assert flag.subjects == (SubjectRef.person("E1"), SubjectRef.person("E2"))
    assert len(flag.changes) == 2
    assert flag.reason.startswith(
        "2 targets of 2 people reporting to M1 were made easier after their results became "
        "visible (person:E1 first_pass_yield 2025-04: 0.98 → 0.95 on 2025-04-12 by M1;"
    )


def test_raising_a_target_or_easing_a_lower_is_better_target_is_judged_by_direction() -> None:
    raised = [change("E1", "0.95", "0.98", 12), change("E2", "0.95", "0.99", 13)]
    assert flag_target_lowering(raised, [ResultVisibility(APR, VISIBLE)], ORG) == []
    scrap = [
        change("E1", "2.0", "2.5", 12, lower=True),  # scrap % target loosened: easier
        change("E2", "2.0", "3.0", 13, lower=True),
    ]
    (flag,) = flag_target_lowering(scrap, [ResultVisibility(APR, VISIBLE)], ORG)
    assert flag.manager_id == "M1"


def test_subject_specific_visibility_wins_and_unreleased_periods_do_not_count() -> None:
    changes = [change("E1", "0.98", "0.95", 12), change("E2", "0.98", "0.95", 12)]
    later_for_e2 = ResultVisibility(APR, VISIBLE + dt.timedelta(days=5), SubjectRef.person("E2"))
    assert flag_target_lowering(changes, [ResultVisibility(APR, VISIBLE), later_for_e2], ORG) == []
    assert flag_target_lowering(changes, [ResultVisibility(MAY, VISIBLE)], ORG) == []
    one = ChallengePolicy(lowering_min_changes=1)
    (flag,) = flag_target_lowering(changes, [ResultVisibility(APR, VISIBLE)], ORG, one)
    assert len(flag.changes) == 2


def test_target_change_needs_aware_times() -> None:
    with pytest.raises(InvalidValue) as err:
        TargetChange(E1, "x", APR, 1, 2, dt.datetime(2025, 4, 1), "M1")
    assert err.value.field == "changed_at"
