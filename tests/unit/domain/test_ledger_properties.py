"""Ledger invariants under random operation sequences (hypothesis).

* the balance of every account equals the sum of its entries;
* a redemption never drives a balance negative (refused with InsufficientBalance instead);
* entries are only ever appended: every earlier snapshot is a prefix of the later ledger;
* replaying any operation a second time changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.errors import Conflict, DomainError
from perfcore.domain.ledger import Account, IdempotencyKey, InsufficientBalance, Ledger
from perfcore.domain.values import SubjectRef

AT = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
SUBJECTS = [SubjectRef.person(p) for p in ("A", "B")]
ACCOUNTS = [Account.of(s, "points") for s in SUBJECTS] + [Account.of(SUBJECTS[0], "money", "EUR")]
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(500), places=2)

op = st.one_of(
    st.tuples(st.just("award"), st.integers(0, 2), st.integers(0, 3), amounts),
    st.tuples(st.just("amend"), st.integers(0, 2), st.integers(0, 3), amounts),
    st.tuples(st.just("reverse"), st.integers(0, 2), st.integers(0, 3), amounts),
    st.tuples(st.just("clawback"), st.integers(0, 2), st.integers(0, 3), amounts),
    st.tuples(st.just("redeem"), st.integers(0, 2), st.integers(0, 5), amounts),
)


def apply(ledger: Ledger, operation: tuple[str, int, int, Decimal]) -> None:
    name, acc_i, n, amount = operation
    account = ACCOUNTS[acc_i]
    key = IdempotencyKey("r", f"{account}", f"2025-0{n + 1}")
    try:
        if name == "award":
            ledger.award(key, account, amount, at=AT)
        elif name == "amend":
            ledger.amend(key, amount, at=AT, reason="edit")
        elif name == "reverse":
            ledger.reverse(key, at=AT, reason="delete")
        elif name == "clawback":
            ledger.clawback(key, clawback_id=f"c{amount}", amount=amount, at=AT, reason="claw")
        else:
            before = ledger.balance(account)
            refused: InsufficientBalance | None = None
            try:
                entry = ledger.redeem(account, amount, request_id=f"q{n}", at=AT, reason="seat")
                if entry.seq == len(ledger):  # written just now, not a repeat
                    assert ledger.balance(account) >= 0
            except InsufficientBalance as exc:
                refused = exc
            if refused is not None:
                assert refused.available == before
                assert amount > before
    except (Conflict, DomainError):
        pass  # refused operations write nothing; the invariants below still hold


def check(ledger: Ledger) -> None:
    for account in ACCOUNTS:
        total = sum((e.amount for e in ledger.entries if e.account == account), Decimal(0))
        assert ledger.balance(account) == total


@settings(max_examples=150, deadline=None)
@given(st.lists(op, max_size=40))
def test_balance_always_equals_the_sum_of_entries_and_entries_only_append(
    ops: list[tuple[str, int, int, Decimal]],
) -> None:
    ledger = Ledger()
    for operation in ops:
        before = ledger.entries
        apply(ledger, operation)
        assert ledger.entries[: len(before)] == before
        check(ledger)


@settings(max_examples=150, deadline=None)
@given(st.lists(op, max_size=40))
def test_redemptions_never_drive_a_balance_negative(
    ops: list[tuple[str, int, int, Decimal]],
) -> None:
    """Only redemptions and awards touch these accounts here, so balances stay >= 0."""
    ledger = Ledger()
    for operation in ops:
        if operation[0] in ("award", "redeem"):
            apply(ledger, operation)
            for account in ACCOUNTS:
                assert ledger.balance(account) >= 0


@settings(max_examples=150, deadline=None)
@given(st.lists(op, max_size=30))
def test_repeating_every_operation_immediately_changes_nothing(
    ops: list[tuple[str, int, int, Decimal]],
) -> None:
    once, twice = Ledger(), Ledger()
    for operation in ops:
        apply(once, operation)
        apply(twice, operation)
        apply(twice, operation)
    assert twice.entries == once.entries
