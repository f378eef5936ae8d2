"""Target challenge diagnosis: too easy, healthy or too hard — and is anyone gaming the targets?

The challenge scenario: growth stalls both when targets are too easy (attainment consistently
> 130 %) and too hard (< 70 %); at the start of each quarter manager and employee run a challenge
diagnosis and the system recommends coaching resources; watch for managers who quietly lower
their people's targets once data becomes transparent. The population rules are perfcore's own,
built on published quota-attainment norms: a healthy plan has roughly 55-65 % of reps at quota
(https://salescompdesign.cortadogroup.ai/glossary/quota-attainment-distribution) or about 60 %
(https://gtmnow.com/do-not-hit-your-sales-quota/).

Three diagnoses, each with a :class:`RecommendedAction` category and a sentence saying why:

* :func:`diagnose_subject` — one subject's attainment history. *Consistently* means every one of
  the last ``consecutive_periods`` periods (default 2, after §2.5's "≥ 2 cycles" sandbagging
  signal). All above ``too_easy_above`` (1.30) → too easy → ``stretch_target``; all below
  ``too_hard_below`` (0.70) → too hard → ``coaching_resource_pack``; otherwise healthy. Both bounds
  are strict: exactly 130 % or 70 % is healthy.
* :func:`diagnose_population` — the hit rate h = share of the population with attainment ≥ 1
  (A ≥ T). h > 0.8 too easy, h < 0.4 too hard (§2.5; healthy plans have ~55–65 % at quota), both
  → ``review_target_setting``. When at least ``polarised_share`` (25 %) of people are above the
  too-easy bound *and* as many below the too-hard bound, the distribution is polarised (bimodal)
  — an allocation/territory problem, not a people problem → ``review_allocation``. Populations
  smaller than ``min_population`` (4, the calibration suppression size) are not diagnosed.
* :func:`flag_target_lowering` — target changes that make a target easier (lower for
  higher-is-better, higher for lower-is-better), made *after* the subject's results for that
  period became visible, grouped by the subject's manager; a manager with at least
  ``lowering_min_changes`` (2) such changes is flagged → ``review_target_setting``.

Attainment is a ratio (1 = 100 % of target), exact Decimal; it is computed upstream with the
indicator's direction (:mod:`perfcore.domain.scoring`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction

from attrs import field, frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.review_sla import escalation_chain
from perfcore.domain.values import (
    PERCENT_PLACES,
    OrgChart,
    Period,
    SubjectRef,
    as_decimal,
    ensure_aware,
    quantize,
)

__all__ = [
    "AttainmentPoint",
    "ChallengeLevel",
    "ChallengePolicy",
    "ManagerFlag",
    "PopulationDiagnosis",
    "RecommendedAction",
    "ResultVisibility",
    "SubjectDiagnosis",
    "TargetChange",
    "diagnose_population",
    "diagnose_subject",
    "flag_target_lowering",
    "hit_rate",
]


class ChallengeLevel(enum.StrEnum):
    """How challenging a target is."""

    TOO_EASY = "too_easy"
    HEALTHY = "healthy"
    TOO_HARD = "too_hard"
    POLARISED = "polarised"  # population only: many far above and many far below
    INSUFFICIENT_DATA = "insufficient_data"


class RecommendedAction(enum.StrEnum):
    """Category of the follow-up a diagnosis recommends."""

    STRETCH_TARGET = "stretch_target"
    COACHING_RESOURCE_PACK = "coaching_resource_pack"
    REVIEW_TARGET_SETTING = "review_target_setting"
    REVIEW_ALLOCATION = "review_allocation"
    KEEP = "keep"
    COLLECT_MORE_DATA = "collect_more_data"


def _dec(value: object) -> Decimal:
    return as_decimal(value, field="challenge_policy")


@frozen
class ChallengePolicy:
    """Thresholds of the diagnosis (defaults: perfcore's rules, see the module docstring).

    Raises (on construction):
        InvalidValue: ``too_hard_below`` not below ``too_easy_above``, non-positive bounds,
            counts below 1, or rates/shares outside 0..1.
    """

    too_easy_above: Decimal = field(default=Decimal("1.30"), converter=_dec)
    too_hard_below: Decimal = field(default=Decimal("0.70"), converter=_dec)
    consecutive_periods: int = 2
    hit_rate_too_easy_above: Decimal = field(default=Decimal("0.8"), converter=_dec)
    hit_rate_too_hard_below: Decimal = field(default=Decimal("0.4"), converter=_dec)
    polarised_share: Decimal = field(default=Decimal("0.25"), converter=_dec)
    min_population: int = 4
    lowering_min_changes: int = 2

    def __attrs_post_init__(self) -> None:
        if not Decimal(0) < self.too_hard_below < self.too_easy_above:
            raise InvalidValue(
                f"too_hard_below {self.too_hard_below} must be positive and below "
                f"too_easy_above {self.too_easy_above}",
                field="challenge_policy.too_hard_below",
                valid="0 < too_hard_below < too_easy_above, e.g. 0.70 and 1.30",
            )
        for name in ("consecutive_periods", "min_population", "lowering_min_changes"):
            if getattr(self, name) < 1:
                raise InvalidValue(
                    f"{name} must be at least 1",
                    field=f"challenge_policy.{name}",
                    valid="an integer >= 1",
                )
        if not (
            Decimal(0) <= self.hit_rate_too_hard_below < self.hit_rate_too_easy_above <= Decimal(1)
        ):
            raise InvalidValue(
                "hit-rate bounds must satisfy 0 <= too_hard_below < too_easy_above <= 1",
                field="challenge_policy.hit_rate_too_hard_below",
                valid="e.g. 0.4 and 0.8",
            )
        if not Decimal(0) < self.polarised_share <= Decimal("0.5"):
            raise InvalidValue(
                f"polarised_share {self.polarised_share} is outside (0, 0.5]",
                field="challenge_policy.polarised_share",
                valid="a share in (0, 0.5], e.g. 0.25",
            )


def _pct(ratio: Decimal | Fraction) -> str:
    d = ratio if isinstance(ratio, Decimal) else Decimal(ratio.numerator) / ratio.denominator
    return f"{quantize(d * 100, PERCENT_PLACES).normalize():f} %"


def _to_attainment(value: object) -> Decimal:
    return as_decimal(value, field="attainment")


@frozen
class AttainmentPoint:
    """Attainment of one period as a ratio (``Decimal("1.35")`` = 135 % of target)."""

    period: Period
    attainment: Decimal = field(converter=_to_attainment)


@frozen
class SubjectDiagnosis:
    """One subject's challenge level over the last periods, with action and reason."""

    subject: SubjectRef
    level: ChallengeLevel
    action: RecommendedAction
    considered: tuple[AttainmentPoint, ...]
    reason: str


def diagnose_subject(
    subject: SubjectRef,
    history: Iterable[AttainmentPoint],
    policy: ChallengePolicy | None = None,
) -> SubjectDiagnosis:
    """Classify ``subject``'s last ``policy.consecutive_periods`` attainments.

    ``history`` may be in any order; it is sorted by period start.

    Raises:
        InvalidValue: two points for the same period (field ``history[i].period``).
    """
    p = policy or ChallengePolicy()
    points = sorted(history, key=lambda a: (a.period.start, a.period.end))
    for i in range(1, len(points)):
        if points[i].period == points[i - 1].period:
            raise InvalidValue(
                f"two attainments for period {points[i].period}",
                field=f"history[{i}].period",
                valid="one attainment per period",
            )
    n = p.consecutive_periods
    last = tuple(points[-n:])
    shown = ", ".join(f"{a.period} {_pct(a.attainment)}" for a in last)
    if len(last) < n:
        return SubjectDiagnosis(
            subject,
            ChallengeLevel.INSUFFICIENT_DATA,
            RecommendedAction.COLLECT_MORE_DATA,
            last,
            f"{subject} has {len(last)} period(s) of attainment; {n} are needed to call a "
            "target consistently too easy or too hard.",
        )
    if all(a.attainment > p.too_easy_above for a in last):
        return SubjectDiagnosis(
            subject,
            ChallengeLevel.TOO_EASY,
            RecommendedAction.STRETCH_TARGET,
            last,
            f"{subject} exceeded {_pct(p.too_easy_above)} of target in each of the last {n} "
            f"periods ({shown}): the target is too easy; set a stretch target.",
        )
    if all(a.attainment < p.too_hard_below for a in last):
        return SubjectDiagnosis(
            subject,
            ChallengeLevel.TOO_HARD,
            RecommendedAction.COACHING_RESOURCE_PACK,
            last,
            f"{subject} stayed below {_pct(p.too_hard_below)} of target in each of the last {n} "
            f"periods ({shown}): the target is too hard for now; offer the coaching resource "
            "pack and check the target.",
        )
    return SubjectDiagnosis(
        subject,
        ChallengeLevel.HEALTHY,
        RecommendedAction.KEEP,
        last,
        f"{subject}'s last {n} periods ({shown}) are not consistently outside "
        f"{_pct(p.too_hard_below)}–{_pct(p.too_easy_above)}: the target is challenging.",
    )


def hit_rate(attainments: Iterable[object]) -> Fraction | None:
    """Share of attainments ≥ 1 (A ≥ T) as an exact fraction; ``None`` for an empty population.

    Raises:
        InvalidValue: a value is not a number (field ``attainments[i]``).
    """
    values = [as_decimal(a, field=f"attainments[{i}]") for i, a in enumerate(attainments)]
    if not values:
        return None
    return Fraction(sum(1 for v in values if v >= 1), len(values))


@frozen
class PopulationDiagnosis:
    """Hit rate of one target across a population, with level, action and reason.

    ``too_easy_share`` / ``too_hard_share`` are the shares above the subject too-easy bound and
    below the too-hard bound (exact fractions).
    """

    target_ref: str
    population: int
    hits: int
    hit_rate: Fraction | None
    too_easy_share: Fraction | None
    too_hard_share: Fraction | None
    level: ChallengeLevel
    action: RecommendedAction
    reason: str


def diagnose_population(
    target_ref: str,
    attainments: Mapping[SubjectRef, object],
    policy: ChallengePolicy | None = None,
) -> PopulationDiagnosis:
    """Diagnose one target (``target_ref``, e.g. an indicator key) across a population.

    Raises:
        InvalidValue: an attainment is not a number (field ``attainments[<subject>]``).
    """
    p = policy or ChallengePolicy()
    values = {s: as_decimal(a, field=f"attainments[{s}]") for s, a in attainments.items()}
    n = len(values)
    if n < p.min_population:
        return PopulationDiagnosis(
            target_ref,
            n,
            sum(1 for v in values.values() if v >= 1),
            None,
            None,
            None,
            ChallengeLevel.INSUFFICIENT_DATA,
            RecommendedAction.COLLECT_MORE_DATA,
            f"Only {n} people have a result for {target_ref}; at least {p.min_population} are "
            "needed before a population hit rate is shown.",
        )
    hits = sum(1 for v in values.values() if v >= 1)
    rate = Fraction(hits, n)
    easy = Fraction(sum(1 for v in values.values() if v > p.too_easy_above), n)
    hard = Fraction(sum(1 for v in values.values() if v < p.too_hard_below), n)
    share = Fraction(p.polarised_share)
    head = f"{hits} of {n} people ({_pct(rate)}) reached the {target_ref} target"
    if easy >= share and hard >= share:
        level, action = ChallengeLevel.POLARISED, RecommendedAction.REVIEW_ALLOCATION
        reason = (
            f"{head}, but {_pct(easy)} are above {_pct(p.too_easy_above)} and {_pct(hard)} below "
            f"{_pct(p.too_hard_below)}: results are polarised, which points to how targets or "
            "territories were allocated rather than to the people."
        )
    elif rate > Fraction(p.hit_rate_too_easy_above):
        level, action = ChallengeLevel.TOO_EASY, RecommendedAction.REVIEW_TARGET_SETTING
        reason = (
            f"{head}; more than {_pct(p.hit_rate_too_easy_above)} hitting it means the target is "
            "too easy for this population; review how it was set."
        )
    elif rate < Fraction(p.hit_rate_too_hard_below):
        level, action = ChallengeLevel.TOO_HARD, RecommendedAction.REVIEW_TARGET_SETTING
        reason = (
            f"{head}; fewer than {_pct(p.hit_rate_too_hard_below)} hitting it means the target is "
            "too hard for this population; review how it was set."
        )
    else:
        level, action = ChallengeLevel.HEALTHY, RecommendedAction.KEEP
        reason = (
            f"{head}, within {_pct(p.hit_rate_too_hard_below)}–"
            f"{_pct(p.hit_rate_too_easy_above)}: the target is challenging but reachable."
        )
    return PopulationDiagnosis(target_ref, n, hits, rate, easy, hard, level, action, reason)


def _aware(value: dt.datetime) -> dt.datetime:
    return ensure_aware(value, field="changed_at")


def _aware_visible(value: dt.datetime) -> dt.datetime:
    return ensure_aware(value, field="visible_at")


@frozen
class TargetChange:
    """A recorded change of one subject's target for one period.

    ``eases`` is True when the change makes the target easier to reach: a lower value for
    higher-is-better targets, a higher value when ``lower_is_better``.
    """

    subject: SubjectRef
    target_ref: str
    period: Period
    old_target: Decimal = field(converter=_to_attainment)
    new_target: Decimal = field(converter=_to_attainment)
    changed_at: dt.datetime = field(converter=_aware)
    changed_by: str
    lower_is_better: bool = False

    @property
    def eases(self) -> bool:
        """True if the new target is easier than the old one."""
        if self.lower_is_better:
            return self.new_target > self.old_target
        return self.new_target < self.old_target


@frozen
class ResultVisibility:
    """When results for ``period`` became visible — for one ``subject``, or for everyone
    (``subject=None``, e.g. the plant dashboard went live). A subject-specific entry wins."""

    period: Period
    visible_at: dt.datetime = field(converter=_aware_visible)
    subject: SubjectRef | None = None


@frozen
class ManagerFlag:
    """A manager whose people's targets were eased after results became visible."""

    manager_id: str
    changes: tuple[TargetChange, ...]
    subjects: tuple[SubjectRef, ...]
    action: RecommendedAction
    reason: str


def flag_target_lowering(
    changes: Iterable[TargetChange],
    visibility: Iterable[ResultVisibility],
    org: OrgChart,
    policy: ChallengePolicy | None = None,
) -> list[ManagerFlag]:
    """Flag managers whose people's targets were eased after results became visible.

    A change counts when it :attr:`~TargetChange.eases` the target and ``changed_at`` is at or
    after the time the subject's results for that period became visible. Changes for periods
    whose results were never visible do not count (that is ordinary target setting). Each change
    is attributed to the subject's manager (first on the reporting line), or to ``changed_by``
    when the subject has no manager in the org chart. Flags are sorted by manager id.
    """
    p = policy or ChallengePolicy()
    general: dict[Period, dt.datetime] = {}
    specific: dict[tuple[SubjectRef, Period], dt.datetime] = {}
    for v in visibility:
        if v.subject is None:
            general[v.period] = min(v.visible_at, general.get(v.period, v.visible_at))
        else:
            key = (v.subject, v.period)
            specific[key] = min(v.visible_at, specific.get(key, v.visible_at))
    by_manager: dict[str, list[TargetChange]] = {}
    for c in changes:
        if not c.eases:
            continue
        seen_at = specific.get((c.subject, c.period), general.get(c.period))
        if seen_at is None or c.changed_at < seen_at:
            continue
        chain = escalation_chain(c.subject, org)
        manager = chain[0] if chain else c.changed_by
        by_manager.setdefault(manager, []).append(c)
    flags: list[ManagerFlag] = []
    for manager in sorted(by_manager):
        found = sorted(by_manager[manager], key=lambda c: (c.changed_at, str(c.subject)))
        if len(found) < p.lowering_min_changes:
            continue
        subjects = tuple(sorted({c.subject for c in found}))
        listed = "; ".join(
            f"{c.subject} {c.target_ref} {c.period}: {c.old_target} → {c.new_target} "
            f"on {c.changed_at.date().isoformat()} by {c.changed_by}"
            for c in found
        )
        flags.append(
            ManagerFlag(
                manager,
                tuple(found),
                subjects,
                RecommendedAction.REVIEW_TARGET_SETTING,
                f"{len(found)} targets of {len(subjects)} people reporting to {manager} were "
                f"made easier after their results became visible ({listed}); review how these "
                "targets are set.",
            )
        )
    return flags
