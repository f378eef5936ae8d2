"""The plan's data model: what a plan file may say, as attrs classes that cattrs structures.

These are *specifications* (plain data, validated for shape by cattrs with
``forbid_extra_keys``); :mod:`perfcore.plan.build` turns them into domain objects (indicators,
scoring rules, guidelines ...) and :mod:`perfcore.plan.check` checks the references between them.
Every field is documented in ``docs/plan.md``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from attrs import Factory, frozen

__all__ = [
    "AlertSpec",
    "CalibrationSpec",
    "ConstraintSpec",
    "EvidenceTypeSpec",
    "IncentiveSpec",
    "IndicatorSpec",
    "MilestoneSpec",
    "ObjectiveSpec",
    "OccurredAtSpec",
    "PersonSpec",
    "PlanSpec",
    "ReviewSpec",
    "RewardSpec",
    "RuleSpec",
    "ScoringSpec",
    "SourceSpec",
    "SubjectMapSpec",
    "UnitSpec",
    "WeightsSpec",
]


@frozen
class ConstraintSpec:
    """What values a number field accepts: ``min``/``max`` (inclusive) and ``integer``.
    A value outside is rejected (quarantined) with the field, the value and the range."""

    min: Decimal | None = None
    max: Decimal | None = None
    integer: bool = False


@frozen
class EvidenceTypeSpec:
    """An evidence type: its fields and their formula types (number, text, boolean, date,
    datetime, duration); a trailing ``?`` (``number?``) makes a field optional.
    ``constraints`` bounds number fields (``{inspected: {min: 0, integer: true}}``)."""

    fields: dict[str, str]
    title: str = ""
    constraints: dict[str, ConstraintSpec] = Factory(dict)


@frozen
class SubjectMapSpec:
    """Which column names the subject, in which identity system, and the subject kind.

    ``field`` names one column; ``template`` builds the id from several
    (``"{department}-{team}"``; values are trimmed). With ``system`` set, the id is resolved
    through the identity map of that system (and the ``IdentityResolver``); without, it is used
    as the subject id directly (``kind:id``)."""

    field: str = ""
    template: str = ""
    system: str = ""
    kind: str = "person"


@frozen
class OccurredAtSpec:
    """Which column holds the time the record occurred; ``format`` is a ``strptime`` format
    (default ISO 8601). Dates without a time are taken at 00:00 in the plan's time zone."""

    field: str
    format: str = ""


@frozen
class SourceSpec:
    """A source of evidence and how its columns map to an evidence type.

    ``fields`` maps *evidence field* → *source column*. ``id`` lists the columns whose values form
    the record's external id (idempotency). ``kind``/``config`` name a source plugin
    (``perfcore_register_sources``) for :class:`~perfcore.services.commands.SyncSource`;
    without a kind, rows are pushed with ``IngestBatch``. ``columns``, when given, declares the
    source's column names: every column the mapping names must be one of them. ``version``,
    when given, names the column holding the record's revision number (a whole number ≥ 1): a
    row with a higher revision than the stored one of the same external id is a correction of it
    (the stored version is kept for audit), the same revision again is a duplicate, and a lower
    revision is refused as stale."""

    evidence: str
    subject: SubjectMapSpec
    occurred_at: OccurredAtSpec
    fields: dict[str, str]
    id: list[str] = Factory(list)
    kind: str = ""
    stream: str = ""
    config: dict[str, Any] = Factory(dict)
    columns: list[str] = Factory(list)
    version: str = ""


@frozen
class PersonSpec:
    """A person of the org chart (for reviewers and escalations). ``unit`` places the person in
    an org unit; ``manager`` alone places them in the team that person manages."""

    id: str
    name: str = ""
    manager: str | None = None
    unit: str | None = None
    email: str = ""


@frozen
class UnitSpec:
    """An org unit (a team, a line, a sales region): its manager and parent unit. A ``team``
    subject with the same id escalates to this manager."""

    manager: str | None = None
    parent: str | None = None
    name: str = ""


@frozen
class ScoringSpec:
    """How an indicator value becomes a score (``method`` one of ratio, inverse, reflection,
    baseline_progress, target_range, band_table, step_table). ``points`` are ``[x, y]`` pairs for
    the tables; ``target``/``baseline`` default to the indicator's."""

    method: str
    points: list[list[Decimal]] = Factory(list)
    target: Decimal | None = None
    baseline: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    falloff: Decimal | None = None
    below: Decimal | None = None
    cap: Decimal | None = None


@frozen
class IndicatorSpec:
    """An indicator (MetricFlow vocabulary plus perfcore's judgement). ``type`` is simple,
    ratio, derived or cumulative."""

    type: str = "simple"
    evidence: str | None = None
    agg: str | None = None
    expr: str | None = None
    filter: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    inputs: list[str] = Factory(list)
    window: str | None = None
    grain_to_date: str | None = None
    fill_nulls_with: Decimal | None = None
    title: str = ""
    unit: str = ""
    direction: str = "higher_is_better"
    baseline: Decimal | None = None
    threshold: Decimal | None = None
    target: Decimal | None = None
    stretch: Decimal | None = None
    cap: Decimal | None = None
    scoring: ScoringSpec | None = None


@frozen
class ObjectiveSpec:
    """An objective: its weight in the total and its indicators with their weights."""

    indicators: dict[str, Decimal]
    weight: Decimal = Decimal(1)
    title: str = ""


@frozen
class WeightsSpec:
    """Weight checks: ``sum_to`` (e.g. 100) requires the objective weights, and the indicator
    weights inside each objective, to add up exactly to it."""

    sum_to: Decimal | None = None


@frozen
class AlertSpec:
    """An alert rule over one indicator.

    ``kind: threshold`` fires when the value is ``below`` or ``above`` a bound;
    ``kind: fluctuation`` fires when the value moves by more than ``change`` (a fraction, 0.2 =
    20 %) from the mean of the ``window`` previous periods of the same grain. ``grain`` defaults
    to the plan's period. With ``open_review`` the alert opens a review with the review SLA
    (or ``sla_hours``)."""

    indicator: str
    kind: str = "threshold"
    below: Decimal | None = None
    above: Decimal | None = None
    change: Decimal | None = None
    window: int = 3
    grain: str | None = None
    open_review: bool = True
    sla_hours: int | None = None
    title: str = ""


@frozen
class ReviewSpec:
    """Review rules: SLA (hours from the triggering event), reminders (hours *before* the
    deadline), escalation up the reporting line (interval between levels, number of levels),
    component weights (indicator, self, peer, manager) and the rating scale."""

    sla_hours: int = 48
    reminders_before_hours: list[int] = Factory(lambda: [24])
    escalation_interval_hours: int = 24
    escalation_levels: int = 2
    components: dict[str, Decimal] = Factory(lambda: {"indicator": Decimal(100)})
    scale_min: Decimal = Decimal(1)
    scale_max: Decimal = Decimal(5)


@frozen
class RuleSpec:
    """One bucket constraint of a distribution guideline (``op`` = < <= > >= between)."""

    bucket: str
    op: str
    value: Decimal
    upper: Decimal | None = None


@frozen
class CalibrationSpec:
    """Calibration guidelines: ``buckets`` maps each bucket (low → high) to the ratings in it,
    ``targets`` the target share per bucket (summing to 1), extra bucket ``rules``, what to do on
    a breach at lock (warn or block), the rating scale and the normalisation method used for
    suggestions."""

    buckets: dict[str, list[Decimal]] = Factory(dict)
    targets: dict[str, Decimal] = Factory(dict)
    rules: list[RuleSpec] = Factory(list)
    enforce: str = "warn"
    method: str = "zscore"
    scale_min: Decimal = Decimal(1)
    scale_max: Decimal = Decimal(5)


@frozen
class RewardSpec:
    """A reward: ``kind`` points, money, leave_days or training_seats; ``amount`` exact."""

    amount: Decimal
    kind: str = "points"
    unit: str | None = None


@frozen
class IncentiveSpec:
    """An incentive rule: when the boolean formula ``when`` over the subject's indicator values
    for a period is true, award ``reward`` — once per period per subject."""

    when: str
    reward: RewardSpec
    cadence: str = "once_per_period"
    title: str = ""
    safety_reporting: bool = False


@frozen
class MilestoneSpec:
    """A project milestone (NPI): owner, due date, weight, deliverables, escalation targets."""

    owner: str
    due: dt.date
    title: str = ""
    weight: Decimal = Decimal(1)
    deliverables: list[str] = Factory(list)
    escalate_to: list[str] = Factory(list)


@frozen
class NotifierSpec:
    """A notification channel: a notifier ``kind`` registered by a plugin
    (``perfcore_register_notifiers``: console, wecom, dingtalk, feishu, slack, webhook, smtp, or
    a third party's) and its ``config``, structured into the kind's config class."""

    kind: str
    config: dict[str, Any] = Factory(dict)


@frozen
class PlanSpec:
    """A whole plan (``perfcore: 1`` is the schema version)."""

    perfcore: int
    name: str
    evidence: dict[str, EvidenceTypeSpec]
    indicators: dict[str, IndicatorSpec]
    time_zone: str = "UTC"
    period: str = "month"
    locale: str = "en"
    sources: dict[str, SourceSpec] = Factory(dict)
    identities: dict[str, dict[str, str]] = Factory(dict)
    people: list[PersonSpec] = Factory(list)
    units: dict[str, UnitSpec] = Factory(dict)
    objectives: dict[str, ObjectiveSpec] = Factory(dict)
    weights: WeightsSpec = WeightsSpec()
    alerts: dict[str, AlertSpec] = Factory(dict)
    reviews: ReviewSpec = ReviewSpec()
    calibration: CalibrationSpec = CalibrationSpec()
    incentives: dict[str, IncentiveSpec] = Factory(dict)
    milestones: dict[str, MilestoneSpec] = Factory(dict)
    notifiers: dict[str, NotifierSpec] = Factory(dict)
    route: dict[str, list[str]] = Factory(dict)
    description: str = ""
