"""Indicators: what is measured (MetricFlow's vocabulary) and how it is judged (perfcore's).

An :class:`Indicator` is a named, versioned definition. Each :class:`IndicatorVersion` holds

* a *definition* in MetricFlow's metric types —
  :class:`Simple` (``agg`` over ``expr`` of the rows passing ``filter``),
  :class:`Ratio` (``numerator`` / ``denominator``: two other indicators, so a ratio is always a
  ratio of sums — ISO 22400's rule — never a mean of row ratios),
  :class:`Derived` (``expr`` over other indicators listed in ``inputs``),
  :class:`Cumulative` (like simple, over a trailing ``window`` or ``grain_to_date``);
* what perfcore adds — the evidence type it reads, unit,
  :class:`~perfcore.domain.scoring.Direction`, baseline, threshold / target / stretch, the
  scoring rule, an optional cap;
* ``valid_from``: the version applies to periods that *start* on or after this date, so a
  definition changed in the middle of a period keeps the old version for that period and every
  period already scored (:meth:`Indicator.version_for`).

Expressions (``expr``, ``filter``) are stored as text; ``perfcore.formula`` compiles them. The
domain never imports the formula language: :mod:`perfcore.domain.measure` receives compiled
callables from the caller.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal
from itertools import pairwise
from typing import Final

from attrs import evolve, field, frozen

from perfcore.domain.errors import (
    CycleError,
    InvalidScoring,
    InvalidValue,
    NotFound,
)
from perfcore.domain.indicator_definition import (
    Agg,
    Cumulative,
    Definition,
    Derived,
    IndicatorType,
    Ratio,
    Simple,
    Window,
    WindowUnit,
    check_name,
)
from perfcore.domain.scoring import (
    AttainmentRatio,
    BandTable,
    BaselineProgress,
    Direction,
    InverseRatio,
    Reflection,
    ScoringRule,
    StepTable,
    TargetRange,
)
from perfcore.domain.values import Period, as_decimal

__all__ = [
    "Agg",
    "Cumulative",
    "Definition",
    "Derived",
    "Indicator",
    "IndicatorType",
    "IndicatorVersion",
    "Ratio",
    "Simple",
    "Timing",
    "Window",
    "WindowUnit",
    "dependency_order",
]


# --------------------------------------------------------------------------- versions


class Timing(enum.StrEnum):
    """When a KPI is computed (ISO 22400-1 §4.3 KPI attribute "timing")."""

    REAL_TIME = "real_time"
    PERIODIC = "periodic"
    ON_DEMAND = "on_demand"


def _timing(value: object) -> Timing | None:
    if value is None:
        return None
    try:
        return Timing(str(value))
    except ValueError:
        raise InvalidValue(
            f"unknown timing {value!r}",
            field="timing",
            valid=", ".join(t.value for t in Timing),
        ) from None


def _audience(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _direction(value: object) -> Direction:
    try:
        return Direction(str(value))
    except ValueError:
        raise InvalidValue(
            f"unknown direction {value!r}",
            field="direction",
            valid=", ".join(d.value for d in Direction),
        ) from None


def _valid_from(value: object) -> dt.date:
    if isinstance(value, Period):
        return value.start
    if isinstance(value, dt.datetime):
        raise InvalidValue(
            "valid_from is a date (or period), not an instant",
            field="valid_from",
            valid="a date such as 2025-04-01 or a period such as 2025-Q2",
        )
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return Period.parse(value, field="valid_from").start
    raise InvalidValue(
        f"{value!r} is not a date", field="valid_from", valid="a date or a period text"
    )


def _opt_num(name: str, value: object) -> Decimal | None:
    return None if value is None else as_decimal(value, field=name)


def _baseline(v: object) -> Decimal | None:
    return _opt_num("baseline", v)


def _threshold(v: object) -> Decimal | None:
    return _opt_num("threshold", v)


def _target(v: object) -> Decimal | None:
    return _opt_num("target", v)


def _stretch(v: object) -> Decimal | None:
    return _opt_num("stretch", v)


def _cap(v: object) -> Decimal | None:
    return _opt_num("cap", v)


_RULES_FOR: Final = {
    Direction.HIGHER_IS_BETTER: (AttainmentRatio, BaselineProgress, BandTable, StepTable),
    Direction.LOWER_IS_BETTER: (InverseRatio, Reflection, BaselineProgress, BandTable, StepTable),
    Direction.TARGET_RANGE: (TargetRange,),
}
_KNOWN_RULES: Final = (
    AttainmentRatio,
    InverseRatio,
    Reflection,
    BaselineProgress,
    TargetRange,
    BandTable,
    StepTable,
)


@frozen
class IndicatorVersion:
    """One version of an indicator's definition, scoring and targets.

    Attributes:
        number: version number, 1, 2, ... (increasing within an indicator).
        valid_from: first date of the first period this version scores (a ``Period`` or period
            text is accepted and means its start date).
        definition: :class:`Simple`, :class:`Ratio`, :class:`Derived` or :class:`Cumulative`.
        evidence_type: the evidence type a simple/cumulative indicator reads (``None`` for ratio
            and derived, which read other indicators).
        unit: display unit (``"%"``, ``"pcs"``, ``"min"``); free text.
        direction: higher_is_better, lower_is_better or target_range.
        baseline, threshold, target, stretch: reference values in ``unit``; optional.
        scoring: the :class:`~perfcore.domain.scoring.ScoringRule`; when omitted a higher-is-better
            indicator with a target above 0 scores by attainment ratio A/T. Lower-is-better and
            target-range indicators must name their rule.
        cap: maximum score per line, applied before weighting; optional.
        note: why this version exists (shown in explanations).
        timing, audience: ISO 22400-1 §4.3 KPI attributes (real_time / periodic / on_demand;
            e.g. ("operator", "supervisor")), descriptive.

    Raises (on construction):
        InvalidValue: bad number, dates, direction, or threshold/target/stretch out of order for
            the direction (field named).
        InvalidScoring: the scoring rule does not fit the direction, its target differs from the
            version's target, or no rule was given where one is required (field ``scoring``).
    """

    number: int = field()
    valid_from: dt.date = field(converter=_valid_from)
    definition: Definition = field()
    evidence_type: str | None = None
    unit: str = ""
    direction: Direction = field(default=Direction.HIGHER_IS_BETTER, converter=_direction)
    baseline: Decimal | None = field(default=None, converter=_baseline)
    threshold: Decimal | None = field(default=None, converter=_threshold)
    target: Decimal | None = field(default=None, converter=_target)
    stretch: Decimal | None = field(default=None, converter=_stretch)
    scoring: ScoringRule | None = None
    cap: Decimal | None = field(default=None, converter=_cap)
    note: str = ""
    timing: Timing | None = field(default=None, converter=_timing)
    audience: tuple[str, ...] = field(default=(), converter=_audience)

    @number.validator
    def _check_number(self, _a: object, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidValue(
                f"version number {value!r} is not a positive integer",
                field="number",
                valid="1, 2, 3, ...",
            )

    @definition.validator
    def _check_definition(self, _a: object, value: object) -> None:
        if not isinstance(value, Simple | Ratio | Derived | Cumulative):
            raise InvalidValue(
                f"{type(value).__name__} is not an indicator definition",
                field="definition",
                valid="simple, ratio, derived or cumulative",
            )

    def __attrs_post_init__(self) -> None:
        reads_rows = isinstance(self.definition, Simple | Cumulative)
        if reads_rows and not self.evidence_type:
            raise InvalidValue(
                f"a {self.definition.type.value} indicator must name the evidence type it reads",
                field="evidence_type",
                valid="an evidence type name such as 'inspection'",
            )
        self._check_order()
        self._check_scoring()

    def _check_order(self) -> None:
        named = [
            (n, v)
            for n, v in (
                ("threshold", self.threshold),
                ("target", self.target),
                ("stretch", self.stretch),
            )
            if v is not None
        ]
        lower = self.direction is Direction.LOWER_IS_BETTER
        for (pn, pv), (n, v) in pairwise(named):
            if (v > pv) if lower else (v < pv):
                word = "at or below" if lower else "at or above"
                raise InvalidValue(
                    f"{n} {v} is out of order with {pn} {pv} for a {self.direction.value} "
                    "indicator",
                    field=n,
                    valid=f"a value {word} {pn} {pv}",
                )
        if self.cap is not None and self.cap < 0:
            raise InvalidScoring(
                f"cap {self.cap} is negative", field="cap", valid="a cap of 0 or more"
            )

    def _check_scoring(self) -> None:
        rule = self.scoring
        if rule is None:
            if self.direction is not Direction.HIGHER_IS_BETTER:
                raise InvalidScoring(
                    f"a {self.direction.value} indicator must name its scoring method",
                    field="scoring",
                    valid=(
                        "inverse_ratio, reflection, baseline_progress, band_table or step_table"
                        if self.direction is Direction.LOWER_IS_BETTER
                        else "target_range"
                    ),
                )
            if self.target is None:
                raise InvalidScoring(
                    "no scoring rule and no target to score against",
                    field="scoring",
                    valid="a target above 0 (attainment ratio) or an explicit scoring rule",
                )
            if self.target <= 0:
                raise InvalidScoring(
                    f"ratio scoring needs a target above 0, got {self.target}",
                    field="target",
                    valid="target > 0, or a band table (scoring: band_table) for this indicator",
                )
            return
        if not isinstance(rule, ScoringRule):
            raise InvalidScoring(
                f"{type(rule).__name__} is not a scoring rule",
                field="scoring",
                valid="a scoring rule object (ratio, band_table, ...)",
            )
        if isinstance(rule, _KNOWN_RULES):
            allowed = _RULES_FOR[self.direction]
            fits = isinstance(rule, allowed)
            if isinstance(rule, BandTable | StepTable) and self.direction is not rule.direction:
                fits = False
            if isinstance(rule, BaselineProgress):
                fits = (rule.target > rule.baseline) == (
                    self.direction is Direction.HIGHER_IS_BETTER
                )
            if not fits:
                names = sorted({cls.__name__ for cls in allowed})
                raise InvalidScoring(
                    f"{rule.kind} scoring does not fit a {self.direction.value} indicator",
                    field="scoring",
                    valid=", ".join(names) + f" (with direction {self.direction.value})",
                )
        rule_target = getattr(rule, "target", None)
        if (
            isinstance(rule_target, Decimal)
            and self.target is not None
            and rule_target != self.target
        ):
            raise InvalidScoring(
                f"the scoring rule's target {rule_target} differs from the indicator's "
                f"target {self.target}",
                field="scoring.target",
                valid=f"{self.target}",
            )

    @property
    def rule(self) -> ScoringRule:
        """The scoring rule in force (the default attainment ratio when none was given)."""
        if self.scoring is not None:
            return self.scoring
        assert self.target is not None  # guaranteed by validation
        return AttainmentRatio(self.target)

    def attainment(self, value: Decimal) -> Decimal | None:
        """Actual / target, or ``None`` without a target above 0."""
        if self.target is None or self.target <= 0:
            return None
        return value / self.target


# --------------------------------------------------------------------------- indicator


def _versions(value: Iterable[IndicatorVersion]) -> tuple[IndicatorVersion, ...]:
    return tuple(value)


@frozen
class Indicator:
    """A named indicator with its versions (oldest first).

    Raises (on construction):
        InvalidValue: bad ``name``; no versions; version numbers or ``valid_from`` dates not
            strictly increasing (field ``versions[i].number`` / ``versions[i].valid_from``).
    """

    name: str = field()
    versions: tuple[IndicatorVersion, ...] = field(converter=_versions)
    title: str = ""

    @name.validator
    def _check(self, _a: object, value: str) -> None:
        check_name(value, field="name")

    def __attrs_post_init__(self) -> None:
        if not self.versions:
            raise InvalidValue(
                f"indicator {self.name!r} has no version",
                field="versions",
                valid="at least one IndicatorVersion",
            )
        for i, v in enumerate(self.versions):
            if not isinstance(v, IndicatorVersion):
                raise InvalidValue(
                    f"{type(v).__name__} is not an IndicatorVersion",
                    field=f"versions[{i}]",
                    valid="IndicatorVersion",
                )
            if i == 0:
                continue
            prev = self.versions[i - 1]
            if v.number <= prev.number:
                raise InvalidValue(
                    f"version {v.number} does not follow version {prev.number}",
                    field=f"versions[{i}].number",
                    valid=f"a number above {prev.number}",
                )
            if v.valid_from <= prev.valid_from:
                raise InvalidValue(
                    f"version {v.number} valid from {v.valid_from} does not start after "
                    f"version {prev.number} ({prev.valid_from})",
                    field=f"versions[{i}].valid_from",
                    valid=f"a date after {prev.valid_from}",
                )

    @property
    def current(self) -> IndicatorVersion:
        """The newest version."""
        return self.versions[-1]

    def version_for(self, period: Period | dt.date) -> IndicatorVersion:
        """The version in force for ``period``: the newest whose ``valid_from`` ≤ period start.

        A version that becomes valid inside the period does not apply to it; that period (and any
        earlier one) keeps the version it was scored with.

        Raises:
            NotFound: the period starts before the first version (field ``period``).
        """
        start = period.start if isinstance(period, Period) else period
        found = [v for v in self.versions if v.valid_from <= start]
        if not found:
            raise NotFound(
                f"indicator {self.name!r} has no version in force on {start}",
                field="period",
                valid=f"periods starting on or after {self.versions[0].valid_from}",
            )
        return found[-1]

    def revise(
        self,
        *,
        valid_from: Period | dt.date | str,
        scored_through: dt.date | Period | None = None,
        **changes: object,
    ) -> Indicator:
        """A new indicator with one more version: the current version with ``changes`` applied.

        ``changes`` are :class:`IndicatorVersion` fields (``definition=...``, ``target=...``,
        ``scoring=...``, ``note=...``). ``scored_through`` is the last date of the periods already
        scored; the new version must start after it.

        Raises:
            InvalidValue: ``valid_from`` not after the current version's, or not after
                ``scored_through`` (field ``valid_from``); any version validation error.
        """
        start = _valid_from(valid_from)
        if scored_through is not None:
            last = scored_through.end if isinstance(scored_through, Period) else scored_through
            if start <= last:
                raise InvalidValue(
                    f"periods through {last} are already scored; a new version cannot start on "
                    f"{start}",
                    field="valid_from",
                    valid=f"a date after {last}",
                )
        try:
            new = evolve(self.current, number=self.current.number + 1, valid_from=start, **changes)  # type: ignore[arg-type]
        except TypeError as exc:
            raise InvalidValue(
                f"unknown version field in {sorted(changes)} ({exc})",
                field="changes",
                valid="IndicatorVersion fields",
            ) from None
        return Indicator(self.name, (*self.versions, new), self.title)


# --------------------------------------------------------------------------- graph


def dependency_order(
    definitions: Mapping[str, Definition | IndicatorVersion],
    *,
    known: Iterable[str] = (),
) -> tuple[str, ...]:
    """Indicator names ordered so every indicator comes after the ones it references.

    ``definitions`` maps name → definition (or version); ``known`` are extra names that may be
    referenced without being defined here (values supplied from elsewhere). Ordering is
    deterministic (alphabetical among independent indicators).

    Raises:
        InvalidValue: a reference to an unknown indicator (field
            ``indicators.<name>.inputs[i]`` / ``.numerator`` / ``.denominator``).
        CycleError: derived/ratio references form a cycle; ``path`` lists it, first name repeated
            at the end (field ``indicators.<name>``).
    """
    defs: dict[str, Definition] = {
        name: (d.definition if isinstance(d, IndicatorVersion) else d)
        for name, d in definitions.items()
    }
    extra = set(known)
    for name, d in defs.items():
        refs = d.references()
        for i, ref in enumerate(refs):
            if ref not in defs and ref not in extra:
                where = ("numerator", "denominator")[i] if isinstance(d, Ratio) else f"inputs[{i}]"
                raise InvalidValue(
                    f"indicator {name!r} references unknown indicator {ref!r}",
                    field=f"indicators.{name}.{where}",
                    valid=", ".join(sorted(set(defs) | extra)) or "no indicators defined",
                )
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(name: str, stack: list[str]) -> None:
        if state.get(name) == 2 or name not in defs:
            return
        if state.get(name) == 1:
            cycle = [*stack[stack.index(name) :], name]
            raise CycleError(
                f"indicators reference each other in a cycle: {' -> '.join(cycle)}",
                field=f"indicators.{cycle[0]}",
                path=cycle,
            )
        state[name] = 1
        stack.append(name)
        for ref in sorted(defs[name].references()):
            visit(ref, stack)
        stack.pop()
        state[name] = 2
        order.append(name)

    for name in sorted(defs):
        visit(name, [])
    return tuple(order)
