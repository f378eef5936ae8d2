"""Lean improvement proposals: staged rewards, each stage paid once (the suggestion scheme).

Savings-share stage uses the most common cash formula, 10 % of first-year savings (IRS
Employment Trends, https://www.managementtoday.co.uk/uk-suggestions-welcome/article/411781).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.errors import Conflict, InvalidTransition, InvalidValue, InvalidWeight
from perfcore.domain.ledger import Account, Ledger, RewardKind
from perfcore.domain.schemes import Proposal, SchemeStage, StagedScheme, award_stage
from perfcore.domain.values import Period, SubjectRef

AT = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
WANG = SubjectRef.person("WANG")
ZHAO = SubjectRef.person("ZHAO")
MAY = Period.month(2025, 5)

SCHEME = StagedScheme(
    "lean-proposals",
    (
        SchemeStage("adopted", amount=200, approval_level="supervisor"),
        SchemeStage("produced_benefit", savings_share="0.10", cap=5000),
        SchemeStage("rolled_out", amount=1000, approval_level="plant manager"),
    ),
    kind=RewardKind.MONEY,
    unit="CNY",
)
PROPOSAL = Proposal("P-2025-017", ((WANG, Decimal("0.6")), (ZHAO, Decimal("0.4"))))


def cny(s: SubjectRef) -> Account:
    return Account.of(s, "money", "CNY")


def test_three_stages_pay_in_order_split_by_share() -> None:
    """adopted 200 → 120/80; benefit 10 % of 18,000 = 1,800 → 1,080/720; rolled out 1,000 →
    600/400. WANG 1,800, ZHAO 1,200."""
    ledger = Ledger()
    award_stage(SCHEME, ledger, PROPOSAL, "adopted", period=MAY, at=AT)
    award_stage(SCHEME, ledger, PROPOSAL, "produced_benefit", period=MAY, at=AT, savings=18_000)
    award_stage(SCHEME, ledger, PROPOSAL, "rolled_out", period=Period.month(2025, 9), at=AT)
    assert ledger.balance(cny(WANG)) == Decimal("1800.00")
    assert ledger.balance(cny(ZHAO)) == Decimal("1200.00")
    keys = [e.idempotency_key for e in ledger.entries if e.account == cny(WANG)]
    assert keys == [
        "lean-proposals|person:WANG|proposal:P-2025-017|adopted",
        "lean-proposals|person:WANG|proposal:P-2025-017|produced_benefit",
        "lean-proposals|person:WANG|proposal:P-2025-017|rolled_out",
    ]
    assert ledger.entries[-1].period_key == "2025-09"


def test_each_stage_is_paid_once() -> None:
    ledger = Ledger()
    first = award_stage(SCHEME, ledger, PROPOSAL, "adopted", period=MAY, at=AT)
    again = award_stage(SCHEME, ledger, PROPOSAL, "adopted", period=MAY, at=AT)
    assert len(first) == 2
    assert again == ()
    assert ledger.balance(cny(WANG)) == Decimal("120.00")


def test_savings_share_is_capped() -> None:
    """10 % of 80,000 = 8,000, capped at 5,000 for the stage."""
    ledger = Ledger()
    solo = Proposal.single("P-9", WANG)
    award_stage(SCHEME, ledger, solo, "adopted", period=MAY, at=AT)
    award_stage(SCHEME, ledger, solo, "produced_benefit", period=MAY, at=AT, savings=80_000)
    assert ledger.balance(cny(WANG)) == Decimal("5200")


def test_a_later_stage_before_the_earlier_one_is_an_invalid_transition() -> None:
    ledger = Ledger()
    with pytest.raises(InvalidTransition) as err:
        award_stage(SCHEME, ledger, PROPOSAL, "rolled_out", period=MAY, at=AT)
    assert err.value.current == "proposed"
    assert err.value.requested == "rolled_out"
    assert err.value.allowed == ("adopted",)
    assert err.value.field == "stage"


def test_repaying_a_stage_with_other_savings_is_a_conflict() -> None:
    ledger = Ledger()
    solo = Proposal.single("P-9", WANG)
    award_stage(SCHEME, ledger, solo, "adopted", period=MAY, at=AT)
    award_stage(SCHEME, ledger, solo, "produced_benefit", period=MAY, at=AT, savings=10_000)
    with pytest.raises(Conflict):
        award_stage(SCHEME, ledger, solo, "produced_benefit", period=MAY, at=AT, savings=20_000)


def test_rounding_remainder_goes_to_the_first_proposer() -> None:
    """200 split in thirds: 66.67 + 66.67 + 66.67 = 200.01 → the first takes 66.66."""
    third = Decimal(1) / 3
    shares = ((WANG, third), (ZHAO, third), (SubjectRef.person("LIU"), 1 - 2 * third))
    proposal = Proposal("P-3", shares)
    ledger = Ledger()
    award_stage(SCHEME, ledger, proposal, "adopted", period=MAY, at=AT)
    assert ledger.balance(cny(WANG)) == Decimal("66.66")
    assert ledger.balance(cny(ZHAO)) == Decimal("66.67")
    assert sum(e.amount for e in ledger.entries) == Decimal(200)


def test_shares_must_sum_to_one() -> None:
    with pytest.raises(InvalidWeight) as err:
        Proposal("P-1", ((WANG, Decimal("0.5")), (ZHAO, Decimal("0.4"))))
    assert err.value.field == "proposers"
    assert "0.9" in err.value.message
    assert err.value.valid == "shares summing to 1"


def test_savings_stage_without_savings_is_refused() -> None:
    ledger = Ledger()
    award_stage(SCHEME, ledger, PROPOSAL, "adopted", period=MAY, at=AT)
    with pytest.raises(InvalidValue) as err:
        award_stage(SCHEME, ledger, PROPOSAL, "produced_benefit", period=MAY, at=AT)
    assert err.value.field == "savings"


def test_unknown_stage_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidValue) as err:
        award_stage(SCHEME, Ledger(), PROPOSAL, "celebrated", period=MAY, at=AT)
    assert err.value.valid == "adopted, produced_benefit, rolled_out"


def test_stage_needs_exactly_one_of_amount_or_savings_share() -> None:
    with pytest.raises(InvalidValue) as err:
        SchemeStage("x", amount=1, savings_share="0.1")
    assert err.value.field == "amount"
    assert err.value.valid == "exactly one of amount, savings_share"
