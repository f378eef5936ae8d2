"""What an incentive rule reads and pays: indicator reads, conditions and reward shapes.

* :class:`IndicatorRead` — an indicator a rule reads, optionally tagged as safety reporting
  (:class:`ReportingKind`; untagged names are matched against :data:`SAFETY_REPORTING_KEYWORDS`);
* :class:`Condition` — formula text in ``perfcore.formula`` syntax plus the indicators it reads
  (the domain keeps it as data and never imports the formula language);
* reward shapes — :class:`FixedReward`, :class:`RateReward`, :class:`TieredReward` (step table)
  and :class:`CommissionReward` (a :class:`~perfcore.domain.commission.CommissionPlan`); the
  :data:`Reward` union. Each exposes ``reads()``, ``deduction_field()`` (where it would deduct, for
  the safety-reporting rule in :mod:`perfcore.domain.incentive`) and ``compute(values)``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final

from attrs import field, frozen

from perfcore.domain.choices import parse_choice
from perfcore.domain.commission import CommissionPlan, CommissionResult
from perfcore.domain.errors import DomainError, InvalidValue
from perfcore.domain.ledger import Account, RewardKind
from perfcore.domain.values import SubjectRef, as_decimal, quantize

__all__ = [
    "SAFETY_REPORTING_KEYWORDS",
    "CommissionReward",
    "Condition",
    "FixedReward",
    "IndicatorRead",
    "RateReward",
    "ReportingKind",
    "Reward",
    "RewardTier",
    "TieredReward",
]

#: Name fragments (case-insensitive) that mark an indicator as safety reporting.
SAFETY_REPORTING_KEYWORDS: Final = (
    "injur",
    "near_miss",
    "nearmiss",
    "near-miss",
    "incident_report",
    "first_aid",
    "hazard_report",
)


class ReportingKind(enum.StrEnum):
    """Explicit tag for an indicator that counts safety reports."""

    INJURY_REPORT = "injury_report"
    NEAR_MISS_REPORT = "near_miss_report"
    HAZARD_REPORT = "hazard_report"


def _check_name(instance: object, attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(
            f"indicator name must be non-empty text, got {value!r}",
            field="name",
            valid="an indicator name such as 'inspections_done'",
        )


def _reporting_kind(value: object) -> ReportingKind | None:
    if value is None or isinstance(value, ReportingKind):
        return value
    return parse_choice(ReportingKind, value, field="reporting_kind", what="reporting kind")


@frozen
class IndicatorRead:
    """An indicator a rule reads, optionally tagged as safety reporting."""

    name: str = field(validator=_check_name)
    reporting_kind: ReportingKind | None = field(default=None, converter=_reporting_kind)

    @property
    def is_safety_reporting(self) -> bool:
        """Tagged with a :class:`ReportingKind`, or named like one (keywords, module docstring)."""
        if self.reporting_kind is not None:
            return True
        low = self.name.lower()
        return any(k in low for k in SAFETY_REPORTING_KEYWORDS)


def _read(value: object) -> IndicatorRead:
    if isinstance(value, IndicatorRead):
        return value
    if isinstance(value, str):
        return IndicatorRead(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return IndicatorRead(value[0], value[1])
    raise InvalidValue(
        f"cannot read an indicator from {value!r}",
        field="reads",
        valid="a name, (name, reporting_kind) or IndicatorRead",
    )


def _reads(values: Sequence[object]) -> tuple[IndicatorRead, ...]:
    out: list[IndicatorRead] = []
    for i, v in enumerate(values):
        try:
            out.append(_read(v))
        except DomainError as exc:
            raise exc.at(f"reads[{i}]") from None
    return tuple(out)


@frozen
class Condition:
    """Formula text (``perfcore.formula`` syntax) and the indicators it reads.

    Raises:
        InvalidValue: empty text (``text``), duplicate reads (``reads[i]``). A condition with no
            reads is allowed (a constant), but then it can see no values at all.
    """

    text: str
    reads: tuple[IndicatorRead, ...] = field(converter=_reads)

    def __attrs_post_init__(self) -> None:
        if not self.text.strip():
            raise InvalidValue(
                "condition text is empty", field="text", valid="a formula over the reads"
            )
        seen: set[str] = set()
        for i, r in enumerate(self.reads):
            if r.name in seen:
                raise InvalidValue(
                    f"indicator {r.name!r} is listed twice", field=f"reads[{i}]", valid="unique"
                )
            seen.add(r.name)


# --------------------------------------------------------------------------- rewards


def _kind(value: object) -> RewardKind:
    return parse_choice(RewardKind, value, field="kind", what="reward kind")


def _amount(value: object) -> Decimal:
    return as_decimal(value, field="amount")


def _rate(value: object) -> Decimal:
    return as_decimal(value, field="rate")


def _at(value: object) -> Decimal:
    return as_decimal(value, field="at")


def _optional_places(places: int | None) -> None:
    if places is not None and not 0 <= places <= 6:
        raise InvalidValue(f"places must be 0..6, got {places}", field="places", valid="0..6")


def _money_unit(kind: RewardKind, unit: str | None) -> None:
    Account.of(SubjectRef.person("check"), kind, unit)  # validates kind/unit pairing


@frozen
class FixedReward:
    """A fixed amount whenever the condition is met (negative = a points deduction)."""

    kind: RewardKind = field(converter=_kind)
    amount: Decimal = field(converter=_amount)
    unit: str | None = None

    def __attrs_post_init__(self) -> None:
        _money_unit(self.kind, self.unit)

    def reads(self) -> tuple[IndicatorRead, ...]:
        """Indicators the reward itself reads (none)."""
        return ()

    def deduction_field(self) -> str | None:
        """Field path of the first negative amount, or ``None`` if the reward never deducts."""
        return "amount" if self.amount < 0 else None

    def compute(self, values: Mapping[str, Decimal | None]) -> tuple[Decimal | None, str]:
        """``(amount, explanation)``; the amount is always the fixed amount."""
        return self.amount, f"fixed {self.amount} {self.kind.value}"


@frozen
class RateReward:
    """``value of measure × rate`` (e.g. 2 points per inspection round done).

    ``places`` rounds the result half-up (money defaults to 2; ``None`` keeps it exact).
    """

    measure: IndicatorRead = field(converter=_read)
    rate: Decimal = field(converter=_rate)
    kind: RewardKind = field(converter=_kind)
    unit: str | None = None
    places: int | None = None

    def __attrs_post_init__(self) -> None:
        _money_unit(self.kind, self.unit)
        _optional_places(self.places)

    def reads(self) -> tuple[IndicatorRead, ...]:
        """The measured indicator."""
        return (self.measure,)

    def deduction_field(self) -> str | None:
        """``"rate"`` when the rate is negative."""
        return "rate" if self.rate < 0 else None

    def compute(self, values: Mapping[str, Decimal | None]) -> tuple[Decimal | None, str]:
        """``(value × rate, explanation)``, or ``(None, why)`` when the measure has no value."""
        v = values.get(self.measure.name)
        if v is None:
            return None, f"{self.measure.name} has no value"
        amount = v * self.rate
        places = (
            self.places
            if self.places is not None
            else (2 if self.kind is RewardKind.MONEY else None)
        )
        if places is not None:
            amount = quantize(amount, places)
        return amount, f"{self.measure.name} {v} x {self.rate} = {amount}"


@frozen
class RewardTier:
    """Pay ``amount`` once the measure reaches ``at`` (inclusive)."""

    at: Decimal = field(converter=_at)
    amount: Decimal = field(converter=_amount)


@frozen
class TieredReward:
    """Step table: the highest tier the measure reaches pays its amount; below the first, 0.

    Tiers must have strictly increasing ``at``; amounts may not be negative unless the reward is
    points (a deduction table).

    Raises (on construction):
        InvalidValue: no tiers (``tiers``); an ``at`` not above the previous one
            (``tiers[i].at``); unknown ``kind``; money without a currency ``unit``.
    """

    measure: IndicatorRead = field(converter=_read)
    tiers: tuple[RewardTier, ...] = field(converter=tuple)
    kind: RewardKind = field(converter=_kind)
    unit: str | None = None

    def __attrs_post_init__(self) -> None:
        _money_unit(self.kind, self.unit)
        if not self.tiers:
            raise InvalidValue(
                "a tiered reward needs at least one tier",
                field="tiers",
                valid="tiers with increasing 'at'",
            )
        for i in range(1, len(self.tiers)):
            if self.tiers[i].at <= self.tiers[i - 1].at:
                raise InvalidValue(
                    f"tiers must increase: at={self.tiers[i - 1].at} then at={self.tiers[i].at}",
                    field=f"tiers[{i}].at",
                    valid=f"a value > {self.tiers[i - 1].at}",
                )

    def reads(self) -> tuple[IndicatorRead, ...]:
        """The measured indicator."""
        return (self.measure,)

    def deduction_field(self) -> str | None:
        """Path of the first negative tier amount, or ``None``."""
        for i, t in enumerate(self.tiers):
            if t.amount < 0:
                return f"tiers[{i}].amount"
        return None

    def compute(self, values: Mapping[str, Decimal | None]) -> tuple[Decimal | None, str]:
        """``(amount of the highest reached tier or 0, explanation)``; ``None`` without data."""
        v = values.get(self.measure.name)
        if v is None:
            return None, f"{self.measure.name} has no value"
        reached = [t for t in self.tiers if v >= t.at]
        if not reached:
            return Decimal(0), f"{self.measure.name} {v} is below the first tier {self.tiers[0].at}"
        top = reached[-1]
        return top.amount, f"{self.measure.name} {v} reaches tier at {top.at}: {top.amount}"


def _read_or_number(value: object) -> IndicatorRead | Decimal:
    if isinstance(value, IndicatorRead | str):
        return _read(value)
    return as_decimal(value, field="value")


def _optional_read_or_number(value: object) -> IndicatorRead | Decimal | None:
    return None if value is None else _read_or_number(value)


def _optional_read(value: object) -> IndicatorRead | None:
    return None if value is None else _read(value)


def _optional_decimal(value: object) -> Decimal | None:
    return None if value is None else as_decimal(value, field="rate")


@frozen
class CommissionReward:
    """Money from a :class:`~perfcore.domain.commission.CommissionPlan`.

    ``credited`` (bookings) is read from an indicator; ``quota`` and ``target_variable`` are
    indicators or fixed numbers; give ``rate`` or ``target_variable``. ``ramp`` / ``proration``
    name optional indicators whose value (0, 1] scales the quota (missing → 1). Amounts are in
    ``currency``; the plan's semantics and sources are in :mod:`perfcore.domain.commission`.

    Raises (on construction):
        InvalidValue: neither or both of ``rate`` and ``target_variable`` (``rate``); a plan with
            kickers or a payout cap in multiples of V but no ``target_variable``; a negative
            ``rate``; a currency that is not an ISO 4217 code (field ``unit``).
    """

    plan: CommissionPlan
    credited: IndicatorRead = field(converter=_read)
    quota: IndicatorRead | Decimal = field(converter=_read_or_number)
    currency: str
    rate: Decimal | None = field(default=None, converter=_optional_decimal)
    target_variable: IndicatorRead | Decimal | None = field(
        default=None, converter=_optional_read_or_number
    )
    ramp: IndicatorRead | None = field(default=None, converter=_optional_read)
    proration: IndicatorRead | None = field(default=None, converter=_optional_read)

    @property
    def kind(self) -> RewardKind:
        """Always money."""
        return RewardKind.MONEY

    @property
    def unit(self) -> str:
        """The currency."""
        return self.currency

    def __attrs_post_init__(self) -> None:
        _money_unit(RewardKind.MONEY, self.currency)
        if (self.rate is None) == (self.target_variable is None):
            raise InvalidValue(
                "give exactly one of rate or target_variable",
                field="rate",
                valid="rate >= 0, or target_variable (indicator or number)",
            )
        needs_variable = bool(self.plan.kickers) or self.plan.payout_cap_multiple is not None
        if needs_variable and self.target_variable is None:
            raise InvalidValue(
                "this plan has kickers or a payout cap in multiples of the target variable",
                field="target_variable",
                valid="target_variable (indicator or number) instead of rate",
            )
        if self.rate is not None and self.rate < 0:
            raise InvalidValue(
                f"negative commission rate {self.rate}", field="rate", valid="a rate >= 0"
            )

    def reads(self) -> tuple[IndicatorRead, ...]:
        """Every indicator the commission reads."""
        items = (self.credited, self.quota, self.target_variable, self.ramp, self.proration)
        return tuple(x for x in items if isinstance(x, IndicatorRead))

    def deduction_field(self) -> str | None:
        """Commission never deducts (clawbacks are ledger corrections)."""
        return None

    def compute_commission(self, values: Mapping[str, Decimal | None]) -> CommissionResult | None:
        """The commission result, or ``None`` if a required value is missing."""

        def get(x: IndicatorRead | Decimal | None) -> Decimal | None:
            if isinstance(x, IndicatorRead):
                return values.get(x.name)
            return x

        credited, quota = get(self.credited), get(self.quota)
        variable = get(self.target_variable)
        if credited is None or quota is None or (self.rate is None and variable is None):
            return None
        ramp = get(self.ramp) if self.ramp is not None else None
        proration = get(self.proration) if self.proration is not None else None
        return self.plan.compute(
            quota=quota,
            credited=credited,
            rate=self.rate,
            target_variable=variable if self.rate is None else None,
            ramp=ramp if ramp is not None else 1,
            proration=proration if proration is not None else 1,
        )

    def compute(self, values: Mapping[str, Decimal | None]) -> tuple[Decimal | None, str]:
        """``(commission amount, explanation)``; ``None`` without data."""
        return self.explain(self.compute_commission(values))

    def explain(self, result: CommissionResult | None) -> tuple[Decimal | None, str]:
        """``(amount, explanation)`` for an already computed commission result."""
        if result is None:
            return None, "credited, quota or target variable has no value"
        return result.amount, (
            f"{self.plan.method.value} commission at attainment {result.attainment}: "
            f"{result.amount} {self.currency}"
        )


Reward = FixedReward | RateReward | TieredReward | CommissionReward
