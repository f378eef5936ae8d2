"""The reward ledger: append-only, idempotent, with balances and redemptions.

Every reward perfcore grants — points, money, leave days, training seats — is an entry in a
:class:`Ledger`. Entries are never edited or removed; corrections are new entries:

* ``award``      the first grant for an idempotency key ``(rule, subject, period, stage)``;
* ``delta``      an edit of an award (the difference between the new and the current amount);
* ``reversal``   a deletion of an award (minus everything still standing on its line);
* ``clawback``   a partial or full take-back after the fact (cancelled contract, fraud), linked to
  the original award — the only correction that carries its own trigger id;
* ``redemption`` points / days / seats spent on training or leave (negative, balance-checked).

An award, its deltas, reversals and clawbacks form one *line* (see :class:`LineSummary`), named by
the award's :class:`IdempotencyKey`. Writing the same thing twice changes nothing: awarding a key
that already stands with the same amount, amending to the amount that already stands, reversing a
reversed line, repeating a clawback id or a redemption request id all return without a new entry.

Balances are the exact sum of the entries of an account. A redemption never drives a balance below
zero (:class:`InsufficientBalance` carries the available amount); a clawback may, because money or
points already spent are then owed back — that debt is netted against later awards.

Design: perfcore's rule is an append-only, idempotent ledger in which a clawback is a negative
entry linked to the original award, never an edit (the usual sales-compensation practice, e.g.
https://getgangly.com/blog/sales-clawback). The idempotency key follows Horilla's bonus points,
which skip an award when one with the same (employee, instance, reason) exists
(https://github.com/horilla-opensource/horilla, ``pms/models.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from attrs import define, field

from perfcore.domain.accounts import (
    Account,
    EntryKind,
    IdempotencyKey,
    InsufficientBalance,
    LedgerEntry,
    LineSummary,
    RewardKind,
    check_key_part,
    parse_key,
)
from perfcore.domain.errors import Conflict, InvalidValue, NotFound
from perfcore.domain.values import as_decimal, ensure_aware

__all__ = [
    "Account",
    "EntryKind",
    "IdempotencyKey",
    "InsufficientBalance",
    "Ledger",
    "LedgerEntry",
    "LineSummary",
    "RewardKind",
]


def _positive(value: object, name: str) -> Decimal:
    d = as_decimal(value, field=name)
    if d <= 0:
        raise InvalidValue(f"{name} must be > 0, got {d}", field=name, valid="a number > 0")
    return d


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise InvalidValue(
            "a reason is required", field="reason", valid="non-empty text saying why"
        )
    return reason


@define
class Ledger:
    """An append-only, idempotent reward ledger (see module docstring).

    The ledger is an in-memory aggregate; storage adapters persist :attr:`entries` and rebuild it
    with :meth:`from_entries`. All write methods take the write time ``at`` (timezone-aware) and
    return the entry they wrote, or ``None``/the existing entry when the write was a repeat.
    """

    _id_factory: Callable[[int], str] = field(default=lambda seq: f"e{seq:06d}", kw_only=True)
    _entries: list[LedgerEntry] = field(factory=list, init=False)
    _by_idem: dict[str, LedgerEntry] = field(factory=dict, init=False)
    _lines: dict[str, list[LedgerEntry]] = field(factory=dict, init=False)
    _line_index: dict[tuple[str, str], list[str]] = field(factory=dict, init=False)
    _balances: dict[Account, Decimal] = field(factory=dict, init=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_entries(
        cls, entries: Iterable[LedgerEntry], *, id_factory: Callable[[int], str] | None = None
    ) -> Ledger:
        """Rebuild a ledger from stored entries (in ``seq`` order).

        Raises:
            Conflict: duplicate entry ids or idempotency keys, or a gap in ``seq``.
        """
        ledger = cls() if id_factory is None else cls(id_factory=id_factory)
        seen_ids: set[str] = set()
        for i, e in enumerate(sorted(entries, key=lambda x: x.seq)):
            if e.seq != i + 1:
                raise Conflict(
                    f"entry {e.entry_id} has seq {e.seq}, expected {i + 1}",
                    field=f"entries[{i}].seq",
                    valid="consecutive sequence numbers from 1",
                )
            if e.entry_id in seen_ids or e.idempotency_key in ledger._by_idem:
                raise Conflict(
                    f"entry {e.entry_id} repeats an id or idempotency key",
                    field=f"entries[{i}]",
                    valid="unique entry ids and idempotency keys",
                )
            seen_ids.add(e.entry_id)
            ledger._append(e)
        return ledger

    # ------------------------------------------------------------------ reading
    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """All entries in write order (a snapshot; the ledger itself is append-only)."""
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(tuple(self._entries))

    def balance(self, account: Account) -> Decimal:
        """Exact balance of ``account`` (``Decimal(0)`` for an account with no entries)."""
        return self._balances.get(account, Decimal(0))

    def balances(self) -> dict[Account, Decimal]:
        """Balance of every account that has at least one entry."""
        return dict(self._balances)

    def entries_for(self, account: Account) -> tuple[LedgerEntry, ...]:
        """The entries of one account, in write order."""
        return tuple(e for e in self._entries if e.account == account)

    def line(self, key: IdempotencyKey) -> LineSummary | None:
        """The standing of the award line ``key``, or ``None`` if it was never awarded."""
        entries = self._lines.get(key.text)
        if not entries:
            return None
        return _summarise(key, entries)

    def lines(self, *, rule_id: str | None = None, subject: str | None = None) -> list[LineSummary]:
        """All award lines, optionally filtered by rule id and subject text, in award order."""
        if rule_id is not None and subject is not None:
            texts: Iterable[str] = self._line_index.get((rule_id, subject), ())
        else:
            texts = self._lines
        out: list[LineSummary] = []
        for text in texts:
            key = parse_key(text)
            if rule_id is not None and key.rule_id != rule_id:
                continue
            if subject is not None and key.subject != subject:
                continue
            out.append(_summarise(key, self._lines[text]))
        return out

    # ------------------------------------------------------------------ writing
    def award(
        self,
        key: IdempotencyKey,
        account: Account,
        amount: object,
        *,
        at: dt.datetime,
        reason: str = "",
        period_key: str | None = None,
    ) -> LedgerEntry:
        """Grant ``amount`` on the line ``key`` — once.

        ``amount`` is > 0, or < 0 for a points deduction (rules that deduct are vetted by
        :class:`perfcore.domain.incentive.IncentiveRule`). A repeat with the same account and
        amount returns the existing award. ``period_key`` defaults to ``key.period_key`` (staged
        schemes record the payment period here).

        Raises:
            InvalidValue: ``amount`` is 0, or negative on a non-points account (field
                ``amount``), or ``at`` is naive.
            Conflict: the line exists with another amount or account (use :meth:`amend`), or it
                was reversed (reinstate it with :meth:`amend`).
        """
        value = as_decimal(amount, field="amount")
        if value == 0 or (value < 0 and account.kind is not RewardKind.POINTS):
            raise InvalidValue(
                f"an award of {value} {account.unit} is not allowed",
                field="amount",
                valid="a number > 0 (a negative deduction only on a points account)",
            )
        ensure_aware(at, field="at")
        existing = self.line(key)
        if existing is not None:
            if existing.reversed:
                raise Conflict(
                    f"award line {key.text} was reversed; it is not re-awarded by a re-run",
                    field="key",
                    valid="amend() to reinstate it explicitly",
                )
            if existing.account != account or existing.granted != value:
                raise Conflict(
                    f"award line {key.text} already stands at {existing.granted} "
                    f"on {existing.account}; asked for {value} on {account}",
                    field="amount",
                    valid=f"{existing.granted} (or use amend() to write a delta)",
                )
            return existing.award
        return self._write(
            account,
            value,
            EntryKind.AWARD,
            key=key,
            idem=key.text,
            links_to=None,
            reason=reason,
            at=at,
            period_key=period_key or key.period_key,
        )

    def amend(
        self, key: IdempotencyKey, new_amount: object, *, at: dt.datetime, reason: str
    ) -> LedgerEntry | None:
        """Edit an award: write a delta so the line's *granted* amount becomes ``new_amount``.

        Clawbacks already taken stay taken; a reversed line is reinstated (its net becomes
        ``new_amount`` plus the clawbacks). Returns ``None`` if nothing needs to change.

        Raises:
            NotFound: no award for ``key``.
            InvalidValue: ``new_amount`` < 0, or ``reason`` empty.
        """
        value = as_decimal(new_amount, field="new_amount")
        _reason(reason)
        ensure_aware(at, field="at")
        line = self._require_line(key)
        if value < 0 and line.account.kind is not RewardKind.POINTS:
            raise InvalidValue(
                f"an award cannot be amended below zero, got {value}",
                field="new_amount",
                valid="a number >= 0 (use reverse() to delete an award)",
            )
        if value < -line.clawed_back:
            raise InvalidValue(
                f"{-line.clawed_back} was already clawed back; cannot amend to {value}",
                field="new_amount",
                valid=f"a number >= {-line.clawed_back}",
            )
        change = value + line.clawed_back - line.net
        if change == 0:
            return None
        n = sum(1 for e in self._lines[key.text] if e.kind is EntryKind.DELTA) + 1
        return self._write_linked(
            line,
            change,
            EntryKind.DELTA,
            key=key,
            idem=f"{key.text}/delta/{n}",
            reason=reason,
            at=at,
        )

    def reverse(self, key: IdempotencyKey, *, at: dt.datetime, reason: str) -> LedgerEntry | None:
        """Delete an award: write minus the line's net. ``None`` if already reversed.

        Raises:
            NotFound: no award for ``key``.
            InvalidValue: ``reason`` empty.
        """
        _reason(reason)
        ensure_aware(at, field="at")
        line = self._require_line(key)
        if line.reversed:
            return None
        n = sum(1 for e in self._lines[key.text] if e.kind is EntryKind.REVERSAL) + 1
        return self._write_linked(
            line,
            -line.net,
            EntryKind.REVERSAL,
            key=key,
            idem=f"{key.text}/reversal/{n}",
            reason=reason,
            at=at,
        )

    def clawback(
        self,
        key: IdempotencyKey,
        *,
        clawback_id: str,
        at: dt.datetime,
        reason: str,
        fraction: object | None = None,
        amount: object | None = None,
    ) -> LedgerEntry:
        """Take back part of an award as a negative entry linked to it.

        Give exactly one of ``fraction`` (0 < f ≤ 1, of the line's *granted* amount — e.g. from
        :func:`perfcore.domain.commission.prorata_clawback_fraction`) or ``amount`` (> 0).
        ``clawback_id`` names the trigger (``cancel:INV-77``); repeating it returns the existing
        entry. Total clawbacks never exceed what the line granted.

        Raises:
            NotFound: no award for ``key``.
            InvalidValue: both/neither of fraction and amount, fraction outside (0, 1], amount
                ≤ 0, more than the line still holds (field and remaining amount in the error),
                empty reason or clawback_id.
            Conflict: the line was reversed, or ``clawback_id`` was used with another amount.
        """
        _reason(reason)
        check_key_part("clawback_id", clawback_id)
        ensure_aware(at, field="at")
        line = self._require_line(key)
        if (fraction is None) == (amount is None):
            raise InvalidValue(
                "give exactly one of fraction or amount",
                field="fraction",
                valid="fraction in (0, 1] or amount > 0",
            )
        if fraction is not None:
            f = as_decimal(fraction, field="fraction")
            if not 0 < f <= 1:
                raise InvalidValue(
                    f"clawback fraction must be in (0, 1], got {f}",
                    field="fraction",
                    valid="0 < fraction <= 1",
                )
            value = line.granted * f
        else:
            value = _positive(amount, "amount")
        idem = f"{key.text}/clawback/{clawback_id}"
        previous = self._repeat(
            idem,
            -value,
            what=f"clawback {clawback_id}",
            field="clawback_id",
            valid="a new clawback id for a new take-back",
        )
        if previous is not None:
            return previous
        if line.reversed or line.granted <= 0:
            raise Conflict(
                f"award line {key.text} holds nothing to claw back (reversed or a deduction)",
                field="key",
                valid="a standing award line",
            )
        remaining = line.granted + line.clawed_back
        if value > remaining:
            raise InvalidValue(
                f"clawback {value} exceeds what the award still holds ({remaining})",
                field="amount" if amount is not None else "fraction",
                valid=f"at most {remaining}",
            )
        return self._write_linked(
            line, -value, EntryKind.CLAWBACK, key=key, idem=idem, reason=reason, at=at
        )

    def redeem(
        self,
        account: Account,
        amount: object,
        *,
        request_id: str,
        at: dt.datetime,
        reason: str,
        period_key: str = "-",
    ) -> LedgerEntry:
        """Spend ``amount`` (> 0) from ``account`` — e.g. 40 points for a training seat.

        ``request_id`` makes the call idempotent: a repeat returns the first entry. The entry's
        amount is ``-amount``.

        Raises:
            InvalidValue: ``amount`` ≤ 0, empty ``reason`` or ``request_id``.
            InsufficientBalance: the balance is below ``amount`` (``available`` on the error).
            Conflict: ``request_id`` was already used for another account or amount.
        """
        value = _positive(amount, "amount")
        _reason(reason)
        check_key_part("request_id", request_id)
        ensure_aware(at, field="at")
        idem = f"redeem|{account}|{request_id}"
        previous = self._repeat(
            idem,
            -value,
            what=f"redemption {request_id}",
            field="request_id",
            valid="a new request id for a new redemption",
        )
        if previous is not None:
            return previous
        available = self.balance(account)
        if value > available:
            raise InsufficientBalance(account=str(account), available=available, requested=value)
        return self._write(
            account,
            -value,
            EntryKind.REDEMPTION,
            key=None,
            idem=idem,
            links_to=None,
            reason=reason,
            at=at,
            period_key=period_key,
        )

    # ------------------------------------------------------------------ internals
    def _require_line(self, key: IdempotencyKey) -> LineSummary:
        line = self.line(key)
        if line is None:
            raise NotFound(
                f"no award for {key.text}", field="key", valid="the key of an existing award"
            )
        return line

    def _repeat(
        self, idem: str, amount: Decimal, *, what: str, field: str, valid: str
    ) -> LedgerEntry | None:
        """The entry already written under ``idem`` (an idempotent repeat), or None.

        Raises:
            Conflict: that entry has another amount than ``amount`` (``field``/``valid`` given).
        """
        previous = self._by_idem.get(idem)
        if previous is not None and previous.amount != amount:
            raise Conflict(
                f"{what} already took {-previous.amount}; asked for {-amount}",
                field=field,
                valid=valid,
            )
        return previous

    def _write_linked(
        self,
        line: LineSummary,
        amount: Decimal,
        kind: EntryKind,
        *,
        key: IdempotencyKey,
        idem: str,
        reason: str,
        at: dt.datetime,
    ) -> LedgerEntry:
        """Write a correction (delta, reversal, clawback) linked to ``line``'s original award,
        on the award's account and period."""
        return self._write(
            line.account,
            amount,
            kind,
            key=key,
            idem=idem,
            links_to=line.award.entry_id,
            reason=reason,
            at=at,
            period_key=line.award.period_key,
        )

    def _write(
        self,
        account: Account,
        amount: Decimal,
        kind: EntryKind,
        *,
        key: IdempotencyKey | None,
        idem: str,
        links_to: str | None,
        reason: str,
        at: dt.datetime,
        period_key: str,
    ) -> LedgerEntry:
        seq = len(self._entries) + 1
        entry = LedgerEntry(
            entry_id=self._id_factory(seq),
            seq=seq,
            account=account,
            amount=amount,
            kind=kind,
            rule_id=key.rule_id if key else "",
            period_key=period_key,
            idempotency_key=idem,
            line_key=key.text if key else "",
            links_to=links_to,
            reason=reason,
            at=at,
        )
        self._append(entry)
        return entry

    def _append(self, entry: LedgerEntry) -> None:
        self._entries.append(entry)
        self._by_idem[entry.idempotency_key] = entry
        if entry.line_key:
            if entry.line_key not in self._lines:
                key = parse_key(entry.line_key)
                self._line_index.setdefault((key.rule_id, key.subject), []).append(entry.line_key)
            self._lines.setdefault(entry.line_key, []).append(entry)
        self._balances[entry.account] = self.balance(entry.account) + entry.amount


def _summarise(key: IdempotencyKey, entries: list[LedgerEntry]) -> LineSummary:
    award = entries[0]
    granted = Decimal(0)
    clawed = Decimal(0)
    net = Decimal(0)
    reversed_ = False
    for e in entries:
        net += e.amount
        if e.kind is EntryKind.REVERSAL:
            # A reversal brings the line to zero; a later delta reinstates it from zero.
            granted, clawed, reversed_ = Decimal(0), Decimal(0), True
        elif e.kind is EntryKind.CLAWBACK:
            clawed += e.amount
        else:
            granted += e.amount
            reversed_ = False
    return LineSummary(key, award.account, award, granted, clawed, net, reversed_)
