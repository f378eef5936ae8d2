"""Clawbacks: pro-rata take-backs as negative ledger entries linked to the original award.

Pro-rata clawback (https://getgangly.com/blog/sales-clawback): claw = C·(1 − months_active/term); a
12-month contract cancelled after 6 months → 50 %. perfcore's rule: a clawback is a negative entry
linked to the award, never an edit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.commission import prorata_clawback_amount, prorata_clawback_fraction
from perfcore.domain.errors import Conflict, InvalidValue
from perfcore.domain.ledger import Account, EntryKind, IdempotencyKey, Ledger
from perfcore.domain.values import SubjectRef

AT = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
REP = SubjectRef.person("REP-7")
USD = Account.of(REP, "money", "USD")
KEY = IdempotencyKey("ae-commission", str(REP), "2025-Q1")


def booked(amount: str = "13000.00") -> Ledger:
    ledger = Ledger()
    ledger.award(KEY, USD, amount, at=AT, reason="Q1 commission")
    return ledger


def test_twelve_month_contract_cancelled_after_six_months_claws_back_half() -> None:
    """§2.6: 12-month term, 6 months active → fraction 0.5."""
    assert prorata_clawback_fraction(6, 12) == Decimal("0.5")
    assert prorata_clawback_amount("13000.00", 6, 12) == Decimal("6500.00")


def test_pro_rata_clawback_is_a_negative_entry_linked_to_the_original_award() -> None:
    ledger = booked()
    award = ledger.entries[0]
    claw = ledger.clawback(
        KEY,
        clawback_id="cancel:ACME-2025-01",
        fraction=prorata_clawback_fraction(6, 12),
        at=AT + dt.timedelta(days=180),
        reason="ACME cancelled after 6 of 12 months",
    )
    assert claw.kind is EntryKind.CLAWBACK
    assert claw.amount == Decimal("-6500.000")  # 13,000.00 × 0.5
    assert claw.links_to == award.entry_id
    assert ledger.entries[0] == award  # never edited
    assert ledger.balance(USD) == Decimal("6500.00")
    line = ledger.line(KEY)
    assert line is not None
    assert line.granted == Decimal("13000.00")
    assert line.clawed_back == Decimal("-6500.000")


def test_repeating_a_clawback_trigger_takes_back_once() -> None:
    ledger = booked()
    first = ledger.clawback(KEY, clawback_id="cancel:X", fraction="0.5", at=AT, reason="cancel")
    again = ledger.clawback(KEY, clawback_id="cancel:X", fraction="0.5", at=AT, reason="cancel")
    assert again == first
    assert ledger.balance(USD) == Decimal("6500.000")


def test_same_trigger_with_another_amount_is_a_conflict() -> None:
    ledger = booked()
    ledger.clawback(KEY, clawback_id="cancel:X", fraction="0.5", at=AT, reason="cancel")
    with pytest.raises(Conflict) as err:
        ledger.clawback(KEY, clawback_id="cancel:X", amount=100, at=AT, reason="cancel")
    assert err.value.field == "clawback_id"


def test_clawbacks_never_exceed_what_the_award_granted() -> None:
    ledger = booked("1000")
    ledger.clawback(KEY, clawback_id="c1", amount=700, at=AT, reason="partial refund")
    with pytest.raises(InvalidValue) as err:
        ledger.clawback(KEY, clawback_id="c2", amount=400, at=AT, reason="second refund")
    assert err.value.field == "amount"
    assert err.value.valid == "at most 300"


def test_clawback_fraction_outside_zero_to_one_is_refused() -> None:
    ledger = booked()
    with pytest.raises(InvalidValue) as err:
        ledger.clawback(KEY, clawback_id="c", fraction="1.5", at=AT, reason="x")
    assert err.value.field == "fraction"
    assert err.value.valid == "0 < fraction <= 1"


def test_clawback_then_reversal_reverses_only_what_still_stands() -> None:
    """13,000 − 6,500 clawed → reversal writes −6,500, balance 0."""
    ledger = booked()
    ledger.clawback(KEY, clawback_id="c", fraction="0.5", at=AT, reason="cancel")
    rev = ledger.reverse(KEY, at=AT, reason="deal was fraudulent")
    assert rev is not None
    assert rev.amount == Decimal("-6500.000")
    assert ledger.balance(USD) == Decimal(0)


def test_amend_after_clawback_keeps_the_clawback() -> None:
    """Award 1,000, claw 250, amend granted to 1,200 → delta +200, balance 950."""
    ledger = booked("1000")
    ledger.clawback(KEY, clawback_id="c", amount=250, at=AT, reason="partial")
    delta = ledger.amend(KEY, 1200, at=AT, reason="late bookings")
    assert delta is not None
    assert delta.amount == Decimal(200)
    assert ledger.balance(USD) == Decimal(950)
    with pytest.raises(InvalidValue) as err:
        ledger.amend(KEY, 100, at=AT, reason="too low")
    assert err.value.field == "new_amount"
    assert err.value.valid == "a number >= 250"


def test_months_active_beyond_the_term_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        prorata_clawback_fraction(13, 12)
    assert err.value.field == "months_active"
    assert err.value.valid == "0..12"
