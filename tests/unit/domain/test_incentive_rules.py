"""IncentiveRule evaluation: conditions, reward tiers, cadence and cooldown, caps, re-runs.

The safety behaviour points scenario and the sales reps' commission scenario.
Expected values are worked by hand in each test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import pytest

from perfcore.domain.commission import CommissionPlan, CommissionTier, Kicker
from perfcore.domain.errors import InvalidPeriod, InvalidValue
from perfcore.domain.incentive import (
    Cadence,
    Caps,
    CommissionReward,
    Condition,
    FixedReward,
    IncentiveRule,
    OutcomeStatus,
    RateReward,
    RewardTier,
    TieredReward,
    evaluate_rule,
    run_rule,
)
from perfcore.domain.ledger import Account, EntryKind, Ledger
from perfcore.domain.values import Period, SubjectRef

AT = dt.datetime(2025, 4, 2, 6, 0, tzinfo=dt.UTC)
LI = SubjectRef.person("LI")


def inspections_at_least_12(values: Mapping[str, Decimal | None]) -> bool | None:
    """Stands in for the compiled formula ``inspection_rounds >= 12``."""
    v = values["inspection_rounds"]
    return None if v is None else v >= 12


SAFETY = IncentiveRule(
    id="safety-behaviour",
    condition=Condition("inspection_rounds >= 12", ["inspection_rounds"]),
    reward=TieredReward(
        "hazards_closed_in_48h",
        [RewardTier(1, 10), RewardTier(5, 30), RewardTier(10, 50)],
        kind="points",
    ),
    cadence=Cadence("month"),
)


def test_met_condition_pays_the_highest_tier_reached() -> None:
    """7 hazards closed within 48 h reaches the tier at 5 → 30 points."""
    ledger = Ledger()
    r = run_rule(
        SAFETY,
        ledger,
        LI,
        Period.month(2025, 3),
        {"inspection_rounds": 14, "hazards_closed_in_48h": 7},
        condition=inspections_at_least_12,
        at=AT,
    )
    assert r.outcome.status is OutcomeStatus.AWARD
    assert r.outcome.amount == Decimal(30)
    assert ledger.balance(Account.of(LI, "points")) == Decimal(30)
    assert r.entries[0].idempotency_key == "safety-behaviour|person:LI|2025-03|"


def test_below_the_first_tier_pays_nothing_and_writes_nothing() -> None:
    ledger = Ledger()
    r = run_rule(
        SAFETY,
        ledger,
        LI,
        Period.month(2025, 3),
        {"inspection_rounds": 14, "hazards_closed_in_48h": 0},
        condition=inspections_at_least_12,
        at=AT,
    )
    assert r.outcome.status is OutcomeStatus.ZERO
    assert r.entries == ()
    assert len(ledger) == 0


def test_unmet_condition_pays_nothing() -> None:
    ledger = Ledger()
    r = run_rule(
        SAFETY,
        ledger,
        LI,
        Period.month(2025, 3),
        {"inspection_rounds": 9, "hazards_closed_in_48h": 12},
        condition=inspections_at_least_12,
        at=AT,
    )
    assert r.outcome.status is OutcomeStatus.NOT_MET
    assert len(ledger) == 0


def test_missing_data_is_no_data_not_zero() -> None:
    ledger = Ledger()
    r = run_rule(
        SAFETY,
        ledger,
        LI,
        Period.month(2025, 3),
        {"hazards_closed_in_48h": 12},
        condition=inspections_at_least_12,
        at=AT,
    )
    assert r.outcome.status is OutcomeStatus.NO_DATA
    assert len(ledger) == 0


def test_the_condition_sees_only_the_indicators_it_declares() -> None:
    seen: list[set[str]] = []

    def spy(values: Mapping[str, Decimal | None]) -> bool:
        seen.append(set(values))
        return True

    run_rule(
        SAFETY,
        Ledger(),
        LI,
        Period.month(2025, 3),
        {"inspection_rounds": 14, "hazards_closed_in_48h": 7, "salary": 1},
        condition=spy,
        at=AT,
    )
    assert seen == [{"inspection_rounds"}]


def test_rerunning_the_same_month_awards_nothing_twice() -> None:
    ledger = Ledger()
    values = {"inspection_rounds": 14, "hazards_closed_in_48h": 7}
    for _ in range(3):
        run_rule(
            SAFETY,
            ledger,
            LI,
            Period.month(2025, 3),
            values,
            condition=inspections_at_least_12,
            at=AT,
        )
    assert len(ledger) == 1
    assert ledger.balance(Account.of(LI, "points")) == Decimal(30)


def test_a_rerun_with_late_evidence_writes_the_delta() -> None:
    """7 → 11 hazards closed moves from the 30 tier to the 50 tier: delta +20."""
    ledger = Ledger()
    march = Period.month(2025, 3)
    run_rule(
        SAFETY,
        ledger,
        LI,
        march,
        {"inspection_rounds": 14, "hazards_closed_in_48h": 7},
        condition=inspections_at_least_12,
        at=AT,
    )
    r = run_rule(
        SAFETY,
        ledger,
        LI,
        march,
        {"inspection_rounds": 14, "hazards_closed_in_48h": 11},
        condition=inspections_at_least_12,
        at=AT,
    )
    assert [e.kind for e in r.entries] == [EntryKind.DELTA]
    assert r.entries[0].amount == Decimal(20)
    assert ledger.balance(Account.of(LI, "points")) == Decimal(50)


def test_a_rerun_that_no_longer_meets_the_condition_amends_to_zero() -> None:
    ledger = Ledger()
    march = Period.month(2025, 3)
    values = {"inspection_rounds": 14, "hazards_closed_in_48h": 7}
    run_rule(SAFETY, ledger, LI, march, values, condition=inspections_at_least_12, at=AT)
    corrected = {"inspection_rounds": 10, "hazards_closed_in_48h": 7}
    r = run_rule(SAFETY, ledger, LI, march, corrected, condition=inspections_at_least_12, at=AT)
    assert r.entries[0].amount == Decimal(-30)
    assert ledger.balance(Account.of(LI, "points")) == Decimal(0)


def test_a_rerun_without_data_leaves_the_award_alone() -> None:
    ledger = Ledger()
    march = Period.month(2025, 3)
    values = {"inspection_rounds": 14, "hazards_closed_in_48h": 7}
    run_rule(SAFETY, ledger, LI, march, values, condition=inspections_at_least_12, at=AT)
    r = run_rule(SAFETY, ledger, LI, march, {}, condition=inspections_at_least_12, at=AT)
    assert r.entries == ()
    assert ledger.balance(Account.of(LI, "points")) == Decimal(30)


def test_cooldown_in_periods_blocks_the_next_n_periods() -> None:
    """Awarded in January with a 2-month cooldown → February and March blocked, April pays."""
    rule = IncentiveRule(
        id="drill-leave",
        reward=FixedReward("leave_days", 1),
        cadence=Cadence("month", cooldown_periods=2),
        condition=Condition("drills_attended >= 2", ["drills_attended"]),
    )
    ledger = Ledger()

    def drills(values: Mapping[str, Decimal | None]) -> bool | None:
        v = values["drills_attended"]
        return None if v is None else v >= 2

    statuses = []
    for month in (1, 2, 3, 4):
        r = run_rule(
            rule,
            ledger,
            LI,
            Period.month(2025, month),
            {"drills_attended": 3},
            condition=drills,
            at=AT,
        )
        statuses.append(r.outcome.status)
    assert statuses == [
        OutcomeStatus.AWARD,
        OutcomeStatus.COOLDOWN,
        OutcomeStatus.COOLDOWN,
        OutcomeStatus.AWARD,
    ]
    assert ledger.balance(Account.of(LI, "leave_days")) == Decimal(2)


def test_cooldown_in_days_counts_from_the_end_of_the_awarded_period() -> None:
    """Daily rule, 7-day cooldown: awarded on 3 March → 4..10 March blocked, 11 March pays."""
    rule = IncentiveRule(
        id="photo-points",
        reward=FixedReward("points", 5),
        cadence=Cadence("day", cooldown_days=7),
    )
    ledger = Ledger()
    out = {}
    for day in (3, 4, 10, 11):
        r = run_rule(rule, ledger, LI, Period.day(dt.date(2025, 3, day)), {}, condition=None, at=AT)
        out[day] = r.outcome.status
    assert out == {
        3: OutcomeStatus.AWARD,
        4: OutcomeStatus.COOLDOWN,
        10: OutcomeStatus.COOLDOWN,
        11: OutcomeStatus.AWARD,
    }


def test_per_award_cap_limits_one_award() -> None:
    """2 points per inspection round, 40 rounds → 80, capped per award at 50."""
    rule = IncentiveRule(
        id="rounds",
        reward=RateReward("inspection_rounds", 2, "points"),
        cadence=Cadence("month"),
        caps=Caps(per_award=50),
    )
    out = evaluate_rule(
        rule, LI, Period.month(2025, 3), {"inspection_rounds": 40}, condition=None, ledger=Ledger()
    )
    assert out.uncapped == Decimal(80)
    assert out.amount == Decimal(50)
    assert any("per_award" in note for note in out.explanation)


def test_per_subject_year_cap_uses_the_headroom_left_in_the_calendar_year() -> None:
    """Fixed 40 points a month, 100 a year: Jan 40, Feb 40, Mar 20, Apr 0; next January 40."""
    rule = IncentiveRule(
        id="monthly-40",
        reward=FixedReward("points", 40),
        cadence=Cadence("month"),
        caps=Caps(per_subject_year=100),
    )
    ledger = Ledger()
    amounts = []
    for year, month in ((2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1)):
        r = run_rule(rule, ledger, LI, Period.month(year, month), {}, condition=None, at=AT)
        amounts.append(r.outcome.amount)
    assert amounts == [Decimal(40), Decimal(40), Decimal(20), Decimal(0), Decimal(40)]
    assert ledger.balance(Account.of(LI, "points")) == Decimal(140)


def test_commission_reward_reads_bookings_and_quota_from_indicators() -> None:
    """§2.6 [SRC RevOps Masters] inside a rule: V=100k, Q=500k, B=650k → $145,000."""
    plan = CommissionPlan(
        "base_plus_overage",
        (CommissionTier(0, "0.5"), CommissionTier("0.5", 1), CommissionTier(1, "1.5")),
    )
    rule = IncentiveRule(
        id="ae-commission",
        reward=CommissionReward(
            plan,
            credited="credited_bookings",
            quota="quota",
            target_variable=100_000,
            currency="USD",
        ),
        cadence=Cadence("year"),
    )
    ledger = Ledger()
    r = run_rule(
        rule,
        ledger,
        LI,
        Period.year(2025),
        {"credited_bookings": 650_000, "quota": 500_000},
        condition=None,
        at=AT,
    )
    assert r.outcome.amount == Decimal("145000.00")
    assert r.outcome.commission is not None
    assert r.outcome.commission.attainment == Decimal("1.3")
    assert ledger.balance(Account.of(LI, "money", "USD")) == Decimal("145000.00")


def test_period_of_the_wrong_grain_is_refused() -> None:
    with pytest.raises(InvalidPeriod) as err:
        evaluate_rule(
            SAFETY,
            LI,
            Period.quarter(2025, 1),
            {},
            condition=inspections_at_least_12,
            ledger=Ledger(),
        )
    assert err.value.field == "period"
    assert err.value.valid == "a month period"


def test_a_rule_with_a_condition_needs_the_compiled_condition() -> None:
    with pytest.raises(InvalidValue) as err:
        evaluate_rule(SAFETY, LI, Period.month(2025, 3), {}, condition=None, ledger=Ledger())
    assert err.value.field == "condition"


def test_non_numeric_value_is_refused_naming_the_indicator() -> None:
    with pytest.raises(InvalidValue) as err:
        evaluate_rule(
            SAFETY,
            LI,
            Period.month(2025, 3),
            {"inspection_rounds": "many"},
            condition=inspections_at_least_12,
            ledger=Ledger(),
        )
    assert err.value.field == "values.inspection_rounds"


def test_reward_tiers_that_do_not_increase_are_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        TieredReward("x", [RewardTier(5, 10), RewardTier(5, 20)], kind="points")
    assert err.value.field == "tiers[1].at"
    assert err.value.valid == "a value > 5"


def test_negative_money_rate_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        IncentiveRule("m", RateReward("units", "-0.5", "money", unit="EUR"), Cadence("month"))
    assert err.value.field == "reward.rate"
    assert err.value.valid == "an amount >= 0 (only points may be deducted)"


def test_negative_commission_rate_is_refused() -> None:
    plan = CommissionPlan("marginal", (CommissionTier(0, 1),))
    with pytest.raises(InvalidValue) as err:
        CommissionReward(plan, credited="b", quota=1, rate="-0.1", currency="EUR")
    assert err.value.field == "rate"
    assert err.value.valid == "a rate >= 0"


def test_negative_caps_and_cooldowns_are_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        Caps(per_period=-1)
    assert err.value.field == "per_period"
    with pytest.raises(InvalidValue) as err:
        Cadence("month", cooldown_periods=-1)
    assert err.value.field == "cooldown_periods"
    with pytest.raises(InvalidValue) as err:
        Cadence("fortnight")
    assert err.value.field == "per"


def test_condition_must_declare_what_it_reads() -> None:
    with pytest.raises(InvalidValue) as err:
        Condition("a > 1", ["a", "a"])
    assert err.value.field == "reads[1]"
    with pytest.raises(InvalidValue) as err:
        Condition("a > 1", [("a", "gossip")])
    assert err.value.field == "reads[0].reporting_kind"


def test_commission_reward_with_kickers_needs_the_target_variable() -> None:
    plan = CommissionPlan("marginal", (CommissionTier(0, 1),), kickers=(Kicker("1.1", "0.05"),))
    with pytest.raises(InvalidValue) as err:
        CommissionReward(plan, credited="b", quota=1, rate="0.1", currency="EUR")
    assert err.value.field == "target_variable"
