"""Audit: reward kinds named by issue 4 that had no rule-level test.

Issue 4 "IncentiveRule and ledger": reward tiers in points, money, leave days **and training
seats**, redeemable with balance checks (perfcore's rule). Points, money and leave days
were already pinned through rules; this file pins training seats end to end. Numbers are worked
by hand in each docstring.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import pytest

from perfcore.domain.incentive import (
    Cadence,
    Condition,
    FixedReward,
    IncentiveRule,
    OutcomeStatus,
    RewardTier,
    TieredReward,
    run_rule,
)
from perfcore.domain.ledger import Account, InsufficientBalance, Ledger
from perfcore.domain.values import Period, SubjectRef

AT = dt.datetime(2025, 7, 1, 6, 0, tzinfo=dt.UTC)
LI = SubjectRef.person("LI")
SEATS = Account.of(LI, "training_seats")


def kaizens_at_least_3(values: Mapping[str, Decimal | None]) -> bool | None:
    """Stands in for the compiled formula ``kaizens_adopted >= 3``."""
    v = values["kaizens_adopted"]
    return None if v is None else v >= 3


def test_a_rule_awards_training_seats_into_their_own_account_and_they_redeem() -> None:
    """One seat per quarter with ≥ 3 adopted kaizens: Q1 (4 kaizens) and Q2 (3) pay, Q3 (2) does
    not → balance 2 seats; redeeming 1 seat leaves 1; a second request for 2 is refused with
    the available 1; points stay untouched (0)."""
    rule = IncentiveRule(
        id="kaizen-seat",
        reward=FixedReward("training_seats", 1),
        cadence=Cadence("quarter"),
        condition=Condition("kaizens_adopted >= 3", ["kaizens_adopted"]),
    )
    ledger = Ledger()
    statuses = [
        run_rule(
            rule,
            ledger,
            LI,
            Period.quarter(2025, q),
            {"kaizens_adopted": n},
            condition=kaizens_at_least_3,
            at=AT,
        ).outcome.status
        for q, n in ((1, 4), (2, 3), (3, 2))
    ]
    assert statuses == [OutcomeStatus.AWARD, OutcomeStatus.AWARD, OutcomeStatus.NOT_MET]
    assert ledger.balance(SEATS) == Decimal(2)
    assert ledger.balance(Account.of(LI, "points")) == Decimal(0)

    ledger.redeem(SEATS, 1, request_id="TPM-101", at=AT, reason="TPM basics course")
    assert ledger.balance(SEATS) == Decimal(1)
    with pytest.raises(InsufficientBalance) as err:
        ledger.redeem(SEATS, 2, request_id="TPM-102", at=AT, reason="two more seats")
    assert err.value.available == Decimal(1)
    assert ledger.balance(SEATS) == Decimal(1)


def test_tiered_training_seats_pay_the_highest_tier_reached_once_per_period() -> None:
    """Tiers at 3 kaizens → 1 seat and at 6 → 2 seats; 7 kaizens reach the 6-tier → 2 seats.
    Re-running the same quarter awards nothing twice (perfcore's rule: idempotent)."""
    rule = IncentiveRule(
        id="kaizen-seats-tiered",
        reward=TieredReward(
            "kaizens_adopted", [RewardTier(3, 1), RewardTier(6, 2)], kind="training_seats"
        ),
        cadence=Cadence("quarter"),
    )
    ledger = Ledger()
    for _ in range(2):
        run_rule(
            rule, ledger, LI, Period.quarter(2025, 1), {"kaizens_adopted": 7}, condition=None, at=AT
        )
    assert ledger.balance(SEATS) == Decimal(2)
    assert len(ledger) == 1
