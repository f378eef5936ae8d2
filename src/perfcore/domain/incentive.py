"""IncentiveRule: condition over indicator values → reward, with cadence, caps and a safety rule.

A rule is *data*: an id, an optional :class:`Condition` (formula text plus the indicator names it
reads), a reward (:class:`FixedReward`, :class:`RateReward`, :class:`TieredReward` or
:class:`CommissionReward`), a :class:`Cadence` (one award per period of a grain, optional
cooldown) and :class:`Caps`. The formula language lives elsewhere; evaluation takes the compiled
condition as an injected callable ``(values of the read indicators) → True/False/None``, where
``None`` means "cannot be decided" (missing data) and grants nothing.

The reads, conditions and reward shapes are defined in :mod:`perfcore.domain.rewards` and
re-exported here, so ``from perfcore.domain.incentive import TieredReward`` works.

Running a rule (:func:`evaluate_rule` then :func:`apply_outcome`, or :func:`run_rule`) writes to a
:class:`~perfcore.domain.ledger.Ledger` under the key ``(rule, subject, period)``, so re-running it
for the same subject and period never awards twice; if the inputs changed (late evidence) the
difference is written as a delta. Runs are expected in chronological order per subject: cooldown
looks back at earlier awarded periods only.

**Safety-reporting rule** (perfcore's rule, after OSHA's anti-retaliation provision
29 CFR 1904.35(b)(1)(iv) and the 2018 memorandum on incentive programs): a rule may never deduct
points for reporting an injury, a near miss or a hazard. An indicator counts as safety reporting
when it is tagged with a :class:`ReportingKind`, or when its name contains one of
:data:`SAFETY_REPORTING_KEYWORDS`. A rule is refused when it is defined (``PolicyDenied``) if

* it *deducts* (a negative amount, rate or tier) and reads such an indicator anywhere; or
* its condition withholds the reward whenever a report was made — the condition text compares such
  an indicator with zero (``near_miss_reports == 0``, ``<= 0``, ``< 1``): forfeiting a reward for
  reporting is a deduction in effect.

Rewarding reports (``near_miss_reports >= 3`` → 10 points) is allowed and encouraged: that is the
behaviour-based programme the anchors recommend.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Final

from attrs import field, frozen

from perfcore.domain.accounts import optional_non_negative
from perfcore.domain.commission import CommissionResult
from perfcore.domain.errors import InvalidPeriod, InvalidValue, PolicyDenied
from perfcore.domain.ledger import (
    Account,
    IdempotencyKey,
    Ledger,
    LedgerEntry,
    LineSummary,
    RewardKind,
)
from perfcore.domain.rewards import (
    SAFETY_REPORTING_KEYWORDS,
    CommissionReward,
    Condition,
    FixedReward,
    IndicatorRead,
    RateReward,
    ReportingKind,
    Reward,
    RewardTier,
    TieredReward,
)
from perfcore.domain.values import Period, PeriodKind, SubjectRef, as_decimal

__all__ = [
    "SAFETY_REPORTING_KEYWORDS",
    "Cadence",
    "Caps",
    "CommissionReward",
    "Condition",
    "ConditionFn",
    "FixedReward",
    "IncentiveRule",
    "IndicatorRead",
    "OutcomeStatus",
    "RateReward",
    "ReportingKind",
    "Reward",
    "RewardTier",
    "RuleOutcome",
    "RuleRun",
    "TieredReward",
    "apply_outcome",
    "evaluate_rule",
    "run_rule",
]

#: The compiled condition: values of the indicators the condition reads → met / not met / unknown.
ConditionFn = Callable[[Mapping[str, Decimal | None]], bool | None]

_SAFETY_VALID: Final = (
    "rules that read injury / near-miss / hazard reports may only add points, never deduct or "
    "withhold them (behaviour-based safety; OSHA 29 CFR 1904.35(b)(1)(iv))"
)


# --------------------------------------------------------------------------- cadence, caps


def _period_kind(value: object) -> PeriodKind:
    try:
        return PeriodKind(str(value))
    except ValueError:
        raise InvalidValue(
            f"unknown period grain {value!r}",
            field="per",
            valid=", ".join(k.value for k in PeriodKind if k is not PeriodKind.CUSTOM),
        ) from None


@frozen
class Cadence:
    """At most one award per period of grain ``per``; then an optional cooldown.

    ``cooldown_periods = n`` blocks the ``n`` periods after an awarded one; ``cooldown_days = d``
    blocks periods starting within ``d`` days after the end of an awarded one.

    Raises (on construction):
        InvalidValue: ``per`` is not a calendar grain (day, week, month, quarter, year; field
            ``per``); a cooldown that is not a whole number >= 0 (its own field).
    """

    per: PeriodKind = field(converter=_period_kind)
    cooldown_periods: int = 0
    cooldown_days: int = 0

    def __attrs_post_init__(self) -> None:
        if self.per is PeriodKind.CUSTOM:
            raise InvalidValue(
                "a cadence needs a calendar grain", field="per", valid="day, week, month, ..."
            )
        for name in ("cooldown_periods", "cooldown_days"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InvalidValue(
                    f"{name} must be a whole number >= 0, got {v!r}", field=name, valid=">= 0"
                )

    def blocks(self, last_awarded: Period, candidate: Period) -> bool:
        """True if ``candidate`` falls inside the cooldown after ``last_awarded``."""
        end = last_awarded
        for _ in range(self.cooldown_periods):
            end = end.next()
        if self.cooldown_periods and candidate.start <= end.end:
            return True
        limit = last_awarded.end + dt.timedelta(days=self.cooldown_days)
        return bool(self.cooldown_days) and candidate.start <= limit


def _cap_award(value: object) -> Decimal | None:
    return optional_non_negative(value, field="per_award")


def _cap_period(value: object) -> Decimal | None:
    return optional_non_negative(value, field="per_period")


def _cap_year(value: object) -> Decimal | None:
    return optional_non_negative(value, field="per_subject_year")


@frozen
class Caps:
    """Upper bounds on what one rule pays one subject (``None`` = no cap).

    per_award: one award; per_period: all of the rule's lines for the subject in one period;
    per_subject_year: all of them in the calendar year of the period's start.
    Caps bound awards, never deductions.
    """

    per_award: Decimal | None = field(default=None, converter=_cap_award)
    per_period: Decimal | None = field(default=None, converter=_cap_period)
    per_subject_year: Decimal | None = field(default=None, converter=_cap_year)

    def headroom(
        self, raw: Decimal, *, same_period: Decimal, same_year: Decimal
    ) -> tuple[Decimal, list[str]]:
        """Apply the caps to ``raw`` given what other lines already hold; returns notes."""
        notes: list[str] = []
        amount = raw
        if raw <= 0:
            return amount, notes
        for name, cap, used in (
            ("per_award", self.per_award, Decimal(0)),
            ("per_period", self.per_period, same_period),
            ("per_subject_year", self.per_subject_year, same_year),
        ):
            if cap is None:
                continue
            room = max(Decimal(0), cap - used)
            if amount > room:
                notes.append(f"capped by {name} {cap} (already {used}): {amount} -> {room}")
                amount = room
        return amount, notes


# --------------------------------------------------------------------------- the rule


def _check_rule_id(instance: object, attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value.strip() or "|" in value:
        raise InvalidValue(
            f"rule id must be non-empty text without '|', got {value!r}",
            field="id",
            valid="an id such as 'safety-points-monthly'",
        )


def _withholds_on_reports(text: str, name: str) -> bool:
    n = re.escape(name)
    number = r"([0-9]+(?:\.[0-9]*)?)"
    for m in re.finditer(rf"(?<![\w.]){n}\s*(==|<=|<)\s*{number}", text):
        op, v = m.group(1), Decimal(m.group(2))
        if (op == "==" and v == 0) or (op == "<=" and v < 1) or (op == "<" and v <= 1):
            return True
    for m in re.finditer(rf"{number}\s*(==|>=|>)\s*{n}(?![\w.])", text):
        v, op = Decimal(m.group(1)), m.group(2)
        if (op == "==" and v == 0) or (op == ">=" and v < 1) or (op == ">" and v <= 1):
            return True
    return False


@frozen
class IncentiveRule:
    """A rule that turns indicator values for one subject and period into a reward.

    Attributes:
        id: stable rule id (part of every ledger key).
        reward: what is paid (:data:`Reward`).
        cadence: grain of the periods it is run for and the cooldown.
        condition: optional gate; ``None`` means the reward alone decides (e.g. commission).
        caps: :class:`Caps`.
        name: label for people.

    Raises:
        InvalidValue: bad id, negative amounts on a non-points reward (field ``reward.<path>``).
        PolicyDenied: the safety-reporting rule (module docstring); ``field`` names the read,
            ``valid`` states the rule.
    """

    id: str = field(validator=_check_rule_id)
    reward: Reward
    cadence: Cadence
    condition: Condition | None = None
    caps: Caps = Caps()
    name: str = ""

    def __attrs_post_init__(self) -> None:
        deduction = self.reward.deduction_field()
        if deduction is not None:
            self._refuse_safety_deduction(f"reward.{deduction}")
            if self.reward.kind is not RewardKind.POINTS:
                raise InvalidValue(
                    f"a {self.reward.kind.value} reward cannot be negative",
                    field=f"reward.{deduction}",
                    valid="an amount >= 0 (only points may be deducted)",
                )
        if self.condition is not None:
            for i, r in enumerate(self.condition.reads):
                if r.is_safety_reporting and _withholds_on_reports(self.condition.text, r.name):
                    raise PolicyDenied(
                        f"the condition withholds the reward when {r.name!r} is not zero: "
                        "losing a reward for reporting is a deduction for reporting",
                        field=f"condition.reads[{i}]",
                        valid=_SAFETY_VALID,
                    )

    def _refuse_safety_deduction(self, where: str) -> None:
        reads: list[tuple[str, IndicatorRead]] = []
        if self.condition is not None:
            reads += [(f"condition.reads[{i}]", r) for i, r in enumerate(self.condition.reads)]
        reads += [(f"reward.reads[{i}]", r) for i, r in enumerate(self.reward.reads())]
        for path, r in reads:
            if r.is_safety_reporting:
                raise PolicyDenied(
                    f"rule deducts points ({where}) and reads {r.name!r}, which counts "
                    "safety reports: deducting for reporting an injury or near miss is refused",
                    field=path,
                    valid=_SAFETY_VALID,
                )

    @property
    def reads(self) -> tuple[IndicatorRead, ...]:
        """Every indicator the rule reads (condition first, then reward), without repeats."""
        out: dict[str, IndicatorRead] = {}
        for r in (self.condition.reads if self.condition else ()) + self.reward.reads():
            out.setdefault(r.name, r)
        return tuple(out.values())

    def account_for(self, subject: SubjectRef) -> Account:
        """The account this rule credits for ``subject``."""
        return Account.of(subject, self.reward.kind, self.reward.unit)

    def key_for(self, subject: SubjectRef, period: Period) -> IdempotencyKey:
        """The ledger key ``(rule, subject, period)``."""
        return IdempotencyKey(self.id, str(subject), period.key)


# --------------------------------------------------------------------------- evaluation


class OutcomeStatus(enum.StrEnum):
    """Why a run produced the amount it did."""

    AWARD = "award"  # condition met, amount != 0
    ZERO = "zero"  # condition met but the reward is 0 (below the first tier, capped to 0)
    NOT_MET = "not_met"  # condition false
    NO_DATA = "no_data"  # condition undecidable or the reward's measure has no value
    COOLDOWN = "cooldown"  # an earlier award's cooldown covers this period


@frozen
class RuleOutcome:
    """The result of evaluating one rule for one subject and period (nothing written yet).

    ``amount`` is what the line should stand at (after caps); ``uncapped`` before caps.
    """

    rule_id: str
    subject: SubjectRef
    period_key: str
    key: IdempotencyKey
    account: Account
    status: OutcomeStatus
    amount: Decimal
    uncapped: Decimal
    explanation: tuple[str, ...]
    commission: CommissionResult | None = None


@frozen
class RuleRun:
    """An outcome and the ledger entries its application wrote (empty on a repeat)."""

    outcome: RuleOutcome
    entries: tuple[LedgerEntry, ...]


def _line_period(line: LineSummary) -> Period | None:
    try:
        return Period.parse(line.award.period_key)
    except InvalidPeriod:
        return None


def evaluate_rule(
    rule: IncentiveRule,
    subject: SubjectRef,
    period: Period,
    values: Mapping[str, object],
    *,
    condition: ConditionFn | None,
    ledger: Ledger,
) -> RuleOutcome:
    """Decide what ``rule`` pays ``subject`` for ``period`` given indicator ``values``.

    ``values`` maps indicator names to numbers or ``None``; missing names count as ``None``.
    ``condition`` is the compiled :class:`Condition` (required when the rule has one); it receives
    only the values of the indicators the condition declares. ``ledger`` supplies history for the
    cooldown and caps; nothing is written.

    Raises:
        InvalidPeriod: ``period`` is not of the rule's cadence grain (field ``period``).
        InvalidValue: a value is not a number (field ``values.<name>``); the rule has a condition
            but no callable was given (field ``condition``).
    """
    if period.kind is not rule.cadence.per:
        raise InvalidPeriod(
            f"rule {rule.id} runs per {rule.cadence.per.value}, got the period {period.key}",
            field="period",
            valid=f"a {rule.cadence.per.value} period",
        )
    clean: dict[str, Decimal | None] = {}
    for r in rule.reads:
        raw = values.get(r.name)
        clean[r.name] = None if raw is None else as_decimal(raw, field=f"values.{r.name}")
    key = rule.key_for(subject, period)
    account = rule.account_for(subject)

    def outcome(
        status: OutcomeStatus,
        amount: Decimal,
        notes: Sequence[str],
        uncapped: Decimal | None = None,
        commission: CommissionResult | None = None,
    ) -> RuleOutcome:
        return RuleOutcome(
            rule.id,
            subject,
            period.key,
            key,
            account,
            status,
            amount,
            amount if uncapped is None else uncapped,
            tuple(notes),
            commission,
        )

    notes: list[str] = []
    history = [ln for ln in ledger.lines(rule_id=rule.id, subject=str(subject)) if ln.key != key]
    earlier = [
        p
        for ln in history
        if ln.net > 0 and not ln.reversed
        for p in [_line_period(ln)]
        if p is not None and p.start < period.start
    ]
    if earlier:
        last = max(earlier, key=lambda p: p.start)
        if rule.cadence.blocks(last, period):
            return outcome(OutcomeStatus.COOLDOWN, Decimal(0), [f"cooldown after {last.key}"])

    if rule.condition is not None:
        if condition is None:
            raise InvalidValue(
                f"rule {rule.id} has a condition but no compiled condition was given",
                field="condition",
                valid="a callable(values) -> bool | None",
            )
        met = condition({r.name: clean[r.name] for r in rule.condition.reads})
        if met is None:
            return outcome(OutcomeStatus.NO_DATA, Decimal(0), ["condition undecidable (no data)"])
        if not met:
            return outcome(OutcomeStatus.NOT_MET, Decimal(0), [f"not met: {rule.condition.text}"])
        notes.append(f"met: {rule.condition.text}")

    commission = None
    if isinstance(rule.reward, CommissionReward):
        commission = rule.reward.compute_commission(clean)
        raw, why = rule.reward.explain(commission)
    else:
        raw, why = rule.reward.compute(clean)
    notes.append(why)
    if raw is None:
        return outcome(OutcomeStatus.NO_DATA, Decimal(0), notes)

    same_period = sum(
        (ln.net for ln in history if ln.net > 0 and ln.award.period_key == period.key),
        Decimal(0),
    )
    same_year = Decimal(0)
    for ln in history:
        p = _line_period(ln)
        if ln.net > 0 and p is not None and p.start.year == period.start.year:
            same_year += ln.net
    amount, cap_notes = rule.caps.headroom(raw, same_period=same_period, same_year=same_year)
    notes += cap_notes
    status = OutcomeStatus.AWARD if amount != 0 else OutcomeStatus.ZERO
    return outcome(status, amount, notes, raw, commission)


def apply_outcome(
    ledger: Ledger, outcome: RuleOutcome, *, at: dt.datetime
) -> tuple[LedgerEntry, ...]:
    """Bring the ledger line ``outcome.key`` to ``outcome.amount``.

    * no line yet: award it if the amount is not zero;
    * a standing line with another amount: write a delta (late evidence changed the result);
    * the same amount, a reversed line, ``NO_DATA`` or ``COOLDOWN``: write nothing.

    Returns the entries written (empty when nothing changed) — so repeating a run is a no-op.
    """
    if outcome.status in (OutcomeStatus.NO_DATA, OutcomeStatus.COOLDOWN):
        return ()
    line = ledger.line(outcome.key)
    reason = "; ".join(outcome.explanation)
    if line is None:
        if outcome.amount == 0:
            return ()
        return (ledger.award(outcome.key, outcome.account, outcome.amount, at=at, reason=reason),)
    if line.reversed:
        return ()
    delta = ledger.amend(outcome.key, outcome.amount, at=at, reason=f"re-run: {reason}")
    return () if delta is None else (delta,)


def run_rule(
    rule: IncentiveRule,
    ledger: Ledger,
    subject: SubjectRef,
    period: Period,
    values: Mapping[str, object],
    *,
    condition: ConditionFn | None,
    at: dt.datetime,
) -> RuleRun:
    """:func:`evaluate_rule` then :func:`apply_outcome`; same errors as both."""
    outcome = evaluate_rule(rule, subject, period, values, condition=condition, ledger=ledger)
    return RuleRun(outcome, apply_outcome(ledger, outcome, at=at))
