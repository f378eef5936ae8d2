"""The reward ledger: append-only, idempotent awards, deltas, reversals, redemptions.

perfcore's rules; numbers worked by hand in each test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from perfcore.domain.errors import Conflict, InvalidValue, NotFound, PolicyDenied
from perfcore.domain.ledger import (
    Account,
    EntryKind,
    IdempotencyKey,
    InsufficientBalance,
    Ledger,
    RewardKind,
)
from perfcore.domain.values import SubjectRef

AT = dt.datetime(2025, 4, 1, 8, 0, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(days=3)
ANA = SubjectRef.person("ANA")
POINTS = Account.of(ANA, "points")
EUR = Account.of(ANA, "money", "EUR")
KEY = IdempotencyKey("safety-points", str(ANA), "2025-03")


def test_award_credits_the_account_and_records_the_key() -> None:
    ledger = Ledger()
    entry = ledger.award(KEY, POINTS, 40, at=AT, reason="12 inspection rounds")
    assert entry.kind is EntryKind.AWARD
    assert entry.amount == Decimal(40)
    assert entry.idempotency_key == "safety-points|person:ANA|2025-03|"
    assert entry.rule_id == "safety-points"
    assert entry.period_key == "2025-03"
    assert ledger.balance(POINTS) == Decimal(40)


def test_awarding_the_same_key_twice_awards_nothing_twice() -> None:
    ledger = Ledger()
    first = ledger.award(KEY, POINTS, 40, at=AT)
    again = ledger.award(KEY, POINTS, 40, at=LATER)
    assert again == first
    assert len(ledger) == 1
    assert ledger.balance(POINTS) == Decimal(40)


def test_awarding_the_same_key_with_another_amount_is_a_conflict_pointing_to_amend() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 40, at=AT)
    with pytest.raises(Conflict) as err:
        ledger.award(KEY, POINTS, 45, at=AT)
    assert err.value.field == "amount"
    assert "amend()" in (err.value.valid or "")


def test_editing_an_award_writes_a_delta_linked_to_it() -> None:
    ledger = Ledger()
    award = ledger.award(KEY, POINTS, 40, at=AT)
    delta = ledger.amend(KEY, 55, at=LATER, reason="late inspection records")
    assert delta is not None
    assert delta.kind is EntryKind.DELTA
    assert delta.amount == Decimal(15)  # 55 − 40
    assert delta.links_to == award.entry_id
    assert ledger.balance(POINTS) == Decimal(55)
    assert ledger.entries[0] == award  # the original is untouched


def test_amending_to_the_standing_amount_writes_nothing() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 40, at=AT)
    assert ledger.amend(KEY, 40, at=LATER, reason="re-run") is None
    assert len(ledger) == 1


def test_deleting_an_award_writes_a_reversal_and_keeps_the_award() -> None:
    ledger = Ledger()
    award = ledger.award(KEY, POINTS, 40, at=AT)
    ledger.amend(KEY, 55, at=AT, reason="late data")
    reversal = ledger.reverse(KEY, at=LATER, reason="awarded to the wrong team")
    assert reversal is not None
    assert reversal.kind is EntryKind.REVERSAL
    assert reversal.amount == Decimal(-55)
    assert reversal.links_to == award.entry_id
    assert ledger.balance(POINTS) == Decimal(0)
    assert len(ledger) == 3
    line = ledger.line(KEY)
    assert line is not None
    assert line.reversed


def test_reversing_twice_is_a_no_op_and_a_reversed_line_is_not_re_awarded() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 40, at=AT)
    ledger.reverse(KEY, at=AT, reason="wrong")
    assert ledger.reverse(KEY, at=LATER, reason="wrong") is None
    with pytest.raises(Conflict) as err:
        ledger.award(KEY, POINTS, 40, at=LATER)
    assert err.value.field == "key"


def test_a_reversed_line_can_be_reinstated_explicitly_by_amend() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 40, at=AT)
    ledger.reverse(KEY, at=AT, reason="wrong")
    delta = ledger.amend(KEY, 30, at=LATER, reason="reinstated at 30 after review")
    assert delta is not None
    assert delta.amount == Decimal(30)
    line = ledger.line(KEY)
    assert line is not None
    assert not line.reversed
    assert line.net == Decimal(30)


def test_corrections_of_a_missing_award_are_not_found() -> None:
    ledger = Ledger()
    with pytest.raises(NotFound) as err:
        ledger.reverse(KEY, at=AT, reason="x")
    assert err.value.field == "key"


def test_corrections_need_a_reason() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 40, at=AT)
    with pytest.raises(InvalidValue) as err:
        ledger.reverse(KEY, at=AT, reason=" ")
    assert err.value.field == "reason"


def test_zero_award_and_negative_money_award_are_refused() -> None:
    ledger = Ledger()
    with pytest.raises(InvalidValue) as err:
        ledger.award(KEY, POINTS, 0, at=AT)
    assert err.value.field == "amount"
    with pytest.raises(InvalidValue) as err:
        ledger.award(KEY, EUR, -10, at=AT)
    assert "only on a points account" in (err.value.valid or "")


def test_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        Ledger().award(KEY, POINTS, 1, at=dt.datetime(2025, 4, 1))
    assert err.value.field == "at"


def test_money_needs_a_currency_and_points_have_a_fixed_unit() -> None:
    with pytest.raises(InvalidValue) as err:
        Account.of(ANA, "money")
    assert err.value.field == "unit"
    assert "three upper-case letters" in (err.value.valid or "")
    with pytest.raises(InvalidValue) as err:
        Account.of(ANA, "points", "stars")
    assert err.value.valid == "'points'"
    with pytest.raises(InvalidValue) as err:
        Account.of(ANA, "vouchers")
    assert err.value.field == "kind"
    assert str(Account.of(ANA, RewardKind.MONEY, "CNY")) == "person:ANA/money:CNY"


def test_redemption_for_training_debits_points() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 120, at=AT)
    entry = ledger.redeem(
        POINTS, 80, request_id="TR-9", at=LATER, reason="training seat: TPM basics"
    )
    assert entry.kind is EntryKind.REDEMPTION
    assert entry.amount == Decimal(-80)
    assert ledger.balance(POINTS) == Decimal(40)


def test_redemption_repeat_with_the_same_request_id_debits_once() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 120, at=AT)
    a = ledger.redeem(POINTS, 80, request_id="TR-9", at=LATER, reason="seat")
    b = ledger.redeem(POINTS, 80, request_id="TR-9", at=LATER, reason="seat")
    assert a == b
    assert ledger.balance(POINTS) == Decimal(40)


def test_redemption_beyond_the_balance_is_refused_with_the_available_amount() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 120, at=AT)
    ledger.redeem(POINTS, 80, request_id="TR-9", at=LATER, reason="seat")
    with pytest.raises(InsufficientBalance) as err:
        ledger.redeem(POINTS, 50, request_id="LV-1", at=LATER, reason="one leave day")
    assert isinstance(err.value, PolicyDenied)
    assert err.value.available == Decimal(40)
    assert err.value.requested == Decimal(50)
    assert err.value.field == "amount"
    assert err.value.valid == "an amount between 0 and the available balance 40"
    assert ledger.balance(POINTS) == Decimal(40)


def test_leave_days_redeem_from_their_own_account() -> None:
    days = Account.of(ANA, "leave_days")
    ledger = Ledger()
    ledger.award(IdempotencyKey("drill-leave", "person:ANA", "2025"), days, "1.5", at=AT)
    ledger.redeem(days, "0.5", request_id="LV-2", at=LATER, reason="half day off")
    assert ledger.balance(days) == Decimal("1.0")
    assert ledger.balance(POINTS) == Decimal(0)


def test_rebuilding_from_stored_entries_gives_the_same_balances() -> None:
    ledger = Ledger()
    ledger.award(KEY, POINTS, 120, at=AT)
    ledger.amend(KEY, 100, at=AT, reason="fix")
    ledger.redeem(POINTS, 30, request_id="TR-1", at=LATER, reason="seat")
    copy = Ledger.from_entries(reversed(ledger.entries))
    assert copy.entries == ledger.entries
    assert copy.balances() == ledger.balances()
    assert copy.line(KEY) == ledger.line(KEY)


def test_rebuilding_refuses_gaps_and_duplicate_keys() -> None:
    ledger = Ledger()
    entry = ledger.award(KEY, POINTS, 1, at=AT)
    with pytest.raises(Conflict) as err:
        Ledger.from_entries([entry, entry])
    assert err.value.field == "entries[1].seq"
    twin = attrs.evolve(entry, seq=2, entry_id="other")
    with pytest.raises(Conflict) as err:
        Ledger.from_entries([entry, twin])
    assert err.value.field == "entries[1]"
    assert err.value.valid == "unique entry ids and idempotency keys"
