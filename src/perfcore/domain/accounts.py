"""Ledger value types: reward kinds, accounts, idempotency keys, entries and line summaries.

See :mod:`perfcore.domain.ledger` for the ledger itself and its semantics; every name here is
re-exported there.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal

from attrs import frozen

from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import InvalidValue, PolicyDenied
from perfcore.domain.values import SubjectRef, as_decimal

__all__ = [
    "Account",
    "EntryKind",
    "IdempotencyKey",
    "InsufficientBalance",
    "LedgerEntry",
    "LineSummary",
    "RewardKind",
    "check_key_part",
    "non_negative",
    "optional_non_negative",
    "parse_key",
]


def non_negative(value: object, *, field: str) -> Decimal:
    """``value`` as an exact Decimal >= 0 (an amount, cap, rate, share or month count).

    Raises:
        InvalidValue: not a finite number, or negative; ``field`` is the name given and
            ``valid`` reads "a number >= 0".
    """
    d = as_decimal(value, field=field)
    if d < 0:
        raise InvalidValue(f"{field} must be >= 0, got {d}", field=field, valid="a number >= 0")
    return d


def optional_non_negative(value: object, *, field: str) -> Decimal | None:
    """:func:`non_negative`, with ``None`` passed through (an optional cap or amount)."""
    return None if value is None else non_negative(value, field=field)


class RewardKind(enum.StrEnum):
    """What an account holds. Money carries a currency as its unit; the others a fixed unit."""

    POINTS = "points"
    MONEY = "money"
    LEAVE_DAYS = "leave_days"
    TRAINING_SEATS = "training_seats"


_DEFAULT_UNIT: dict[RewardKind, str] = {
    RewardKind.POINTS: "points",
    RewardKind.LEAVE_DAYS: "days",
    RewardKind.TRAINING_SEATS: "seats",
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class EntryKind(enum.StrEnum):
    """The five kinds of ledger entry (module docstring)."""

    AWARD = "award"
    DELTA = "delta"
    REVERSAL = "reversal"
    CLAWBACK = "clawback"
    REDEMPTION = "redemption"


class InsufficientBalance(PolicyDenied):
    """A redemption asked for more than the account holds.

    Attributes:
        account: the account text (``person:E1/points``).
        available: the balance at the time of the request.
        requested: the amount asked for.
    """

    code = "insufficient_balance"

    def __init__(self, *, account: str, available: Decimal, requested: Decimal) -> None:
        self.account = account
        self.available = available
        self.requested = requested
        super().__init__(
            f"cannot redeem {requested} from {account}: only {available} available",
            field="amount",
            valid=f"an amount between 0 and the available balance {available}",
        )


def _unit_for(kind: RewardKind, unit: str | None) -> str:
    if kind is RewardKind.MONEY:
        if unit is None or not _CURRENCY.match(unit):
            raise InvalidValue(
                f"money needs an ISO 4217 currency code, got {unit!r}",
                field="unit",
                valid="three upper-case letters such as 'EUR', 'USD', 'CNY'",
            )
        return unit
    default = _DEFAULT_UNIT[kind]
    if unit is not None and unit != default:
        raise InvalidValue(
            f"{kind.value} are counted in {default!r}, got {unit!r}",
            field="unit",
            valid=repr(default),
        )
    return default


@frozen
class Account:
    """One balance: a subject's holding of one reward kind in one unit.

    Build with :meth:`of` (``Account.of(subject, "money", "EUR")``) so the unit is checked: money
    needs a currency code; points, leave days and training seats have a fixed unit.
    """

    subject: SubjectRef
    kind: RewardKind
    unit: str

    @classmethod
    def of(cls, subject: SubjectRef, kind: RewardKind | str, unit: str | None = None) -> Account:
        """Validated constructor.

        Raises:
            InvalidValue: unknown kind (field ``kind``) or wrong unit (field ``unit``).
        """
        k = parse_choice(RewardKind, kind, field="kind", what="reward kind")
        return cls(subject, k, _unit_for(k, unit))

    def __str__(self) -> str:
        if self.kind is RewardKind.MONEY:
            return f"{self.subject}/money:{self.unit}"
        return f"{self.subject}/{self.kind.value}"


def check_key_part(name: str, value: str) -> None:
    """Refuse empty text or text containing the key separator ``|``.

    Raises:
        InvalidValue: ``value`` is empty or contains ``|``; field ``name``.
    """
    if not value or "|" in value:
        raise InvalidValue(
            f"{name} must be non-empty text without '|', got {value!r}",
            field=name,
            valid="non-empty text without '|'",
        )


@frozen
class IdempotencyKey:
    """The identity of one award line: ``(rule_id, subject, period_key, stage)``.

    ``stage`` is empty for ordinary once-per-period rules; staged schemes put the stage name there
    (and the proposal in ``period_key``-independent form, see :mod:`perfcore.domain.schemes`).
    ``text`` is the stable storage form ``rule|subject|period|stage``.

    Raises (on construction):
        InvalidValue: an empty ``rule_id``/``subject``/``period_key``, or any part containing
            ``|`` (the part's own field name).
    """

    rule_id: str
    subject: str
    period_key: str
    stage: str = ""

    def __attrs_post_init__(self) -> None:
        check_key_part("rule_id", self.rule_id)
        check_key_part("subject", self.subject)
        check_key_part("period_key", self.period_key)
        if "|" in self.stage:
            raise InvalidValue(
                "stage must not contain '|'", field="stage", valid="text without '|'"
            )

    @property
    def text(self) -> str:
        """``rule|subject|period|stage``."""
        return f"{self.rule_id}|{self.subject}|{self.period_key}|{self.stage}"

    def __str__(self) -> str:
        return self.text


@frozen
class LedgerEntry:
    """One immutable ledger entry.

    Attributes:
        entry_id: unique id (default ``e000001`` …, or from the ledger's id factory).
        seq: 1-based position in the ledger.
        account: whose balance moves.
        amount: signed exact amount in the account's unit (awards > 0, redemptions < 0).
        kind: :class:`EntryKind`.
        rule_id: the rule (or scheme) that produced the line; for a redemption, ``""``.
        period_key: the period the entry belongs to (the award's period for corrections).
        idempotency_key: unique per entry; for an award it is the line key's ``text``, for a
            correction the line key plus ``/delta/n``, ``/reversal/n`` or ``/clawback/<id>``, for a
            redemption ``redeem|<account>|<request id>``.
        line_key: the award line this entry belongs to (``""`` for redemptions).
        links_to: ``entry_id`` of the original award for corrections, else ``None``.
        reason: human-readable why (required for corrections and redemptions).
        at: timezone-aware time the entry was written.
    """

    entry_id: str
    seq: int
    account: Account
    amount: Decimal
    kind: EntryKind
    rule_id: str
    period_key: str
    idempotency_key: str
    line_key: str
    links_to: str | None
    reason: str
    at: dt.datetime


@frozen
class LineSummary:
    """The standing of one award line.

    Attributes:
        key: the line's idempotency key.
        account: the account the line credits.
        award: the original award entry.
        granted: award plus deltas (what the line was worth before clawbacks/reversals).
        clawed_back: sum of clawbacks (≤ 0).
        net: everything on the line (award + deltas + clawbacks + reversals).
        reversed: True when the last correction was a reversal and nothing was reinstated since.
    """

    key: IdempotencyKey
    account: Account
    award: LedgerEntry
    granted: Decimal
    clawed_back: Decimal
    net: Decimal
    reversed: bool


def parse_key(text: str) -> IdempotencyKey:
    """Inverse of :attr:`IdempotencyKey.text`."""
    rule_id, subject, period_key, stage = text.split("|")
    return IdempotencyKey(rule_id, subject, period_key, stage)
