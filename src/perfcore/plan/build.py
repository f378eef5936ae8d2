"""Plan checks and construction: a structured :class:`PlanSpec` → a :class:`Plan`, or every
problem found.

Each check reports through :class:`_Builder.problem` with the YAML path of the offending value,
so messages read ``plan.yaml:12:7: objectives.quality.indicators.fpy: unknown indicator 'fpy';
did you mean 'fpy_rate'? valid: ...``. Domain constructors do the domain validation; their typed
errors (:class:`~perfcore.domain.errors.DomainError`, with a field path) are re-located into the
plan file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from os import PathLike as _OsPathLike
from typing import Any, TypeVar

from perfcore.domain.calibration.guidelines import BucketRule, DistributionGuideline
from perfcore.domain.calibration.normalise import Method
from perfcore.domain.errors import DomainError
from perfcore.domain.evidence import Bounds, EvidenceType
from perfcore.domain.incentive import Cadence, Condition, FixedReward, IncentiveRule
from perfcore.domain.indicator import (
    Cumulative,
    Definition,
    Derived,
    Indicator,
    IndicatorVersion,
    Ratio,
    Simple,
    dependency_order,
)
from perfcore.domain.review_scoring import (
    ComponentConfig,
    ComponentKind,
    RatingScale,
    ScoringConfig,
)
from perfcore.domain.review_sla import SlaPolicy
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
from perfcore.domain.values import OrgChart, OrgUnit, PeriodKind, Person, SubjectRef, zone
from perfcore.plan.compiled import Plan
from perfcore.plan.formulas import Compiled, FormulaError, compile_formula
from perfcore.plan.model import (
    ConstraintSpec,
    IncentiveSpec,
    IndicatorSpec,
    PlanSpec,
    RuleSpec,
    ScoringSpec,
)
from perfcore.plan.problems import Problem, did_you_mean
from perfcore.plan.sources import check_sources
from perfcore.plan.yamlnodes import Marks, Path

__all__ = ["build_plan"]

T = TypeVar("T")
PathLike = str | _OsPathLike[str]

FIELD_TYPES = ("boolean", "date", "datetime", "duration", "number", "text")
INDICATOR_TYPES = ("cumulative", "derived", "ratio", "simple")
AGGS = ("average", "count", "count_distinct", "max", "median", "min", "sum")
METHODS = (
    "band_table",
    "baseline_progress",
    "inverse",
    "ratio",
    "reflection",
    "step_table",
    "target_range",
)
PERIODS = ("day", "month", "quarter", "week", "year")
LOCALES = ("en", "zh")
ALERT_KINDS = ("fluctuation", "threshold")
COMPONENTS = {
    "indicator": ComponentKind.INDICATOR,
    "self": ComponentKind.SELF,
    "peer": ComponentKind.PEER,
    "manager": ComponentKind.MANAGER,
}
REWARD_KINDS = ("leave_days", "money", "points", "training_seats")
SUBJECT_KINDS = ("person", "team")
ENFORCE = ("block", "warn")
NORMALISATIONS = tuple(sorted(m.value for m in Method))
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_SLA_PATHS: dict[str, Path] = {
    "sla.respond_within": ("sla_hours",),
    "sla.reminders_before": ("reminders_before_hours",),
    "sla.escalation_interval": ("escalation_interval_hours",),
    "sla.max_levels": ("escalation_levels",),
    "sla": (),
}
OPERATORS = ("<", "<=", "=", ">", ">=", "between")


class Unscored:
    """The scoring rule of a helper indicator that is not on the scorecard (a numerator, an
    input of a derived indicator): it has a value but no score of its own."""

    kind = "unscored"

    def score(self, value: Decimal) -> Decimal:
        """Never used for scorecards; 0 for completeness."""
        return Decimal(0)

    def describe(self) -> str:
        """One line."""
        return "not scored (helper indicator)"


def _split(field_path: str) -> Path:
    out: list[str | int] = []
    for name, index in _PATH_PART.findall(field_path):
        out.append(int(index) if index else name)
    return tuple(out)


def _plan_path(domain_field: str, rename: dict[str, Path]) -> Path:
    """The plan path of a domain error's field, through ``rename`` (longest prefix first; a
    key ending in ``.*`` maps the prefix and everything below it to exactly its path, for
    domain internals that have no plan field of their own)."""
    for prefix in sorted(rename, key=len, reverse=True):
        if prefix.endswith(".*"):
            base = prefix[:-2]
            tail = domain_field[len(base) :]
            if domain_field.startswith(base) and (not tail or tail[0] in ".["):
                return rename[prefix]
            continue
        rest = domain_field[len(prefix) :]
        if domain_field.startswith(prefix) and (not rest or rest[0] in ".["):
            return (*rename[prefix], *_split(rest))
    return _split(domain_field)


class _Builder:
    def __init__(self, spec: PlanSpec, marks: Marks) -> None:
        self.spec = spec
        self.marks = marks
        self.problems: list[Problem] = []

    def problem(self, path: Path, message: str, *, key: bool = False) -> None:
        self.problems.append(self.marks.problem(path, message, key=key))

    def unknown(self, path: Path, what: str, name: str, valid: list[str] | Any) -> None:
        hint = did_you_mean(name, valid)
        self.problem(path, f"unknown {what} {name!r}" + (f"; {hint}" if hint else ""))

    def domain(
        self,
        path: Path,
        build: Callable[[], T],
        *,
        rename: dict[str, Path] | None = None,
    ) -> T | None:
        """Run a domain constructor; a DomainError becomes a problem at path + its field.

        This is the one place domain field paths are translated into the plan's: ``rename``
        maps a domain field path prefix (``"sla.respond_within"``, ``"components[0]"``) to the
        plan's path of the same thing (``("sla_hours",)``); the longest matching prefix wins
        and the rest of the domain path is kept."""
        try:
            return build()
        except DomainError as err:
            full = (*path, *_plan_path(err.field, rename or {}))
            valid = f" (valid: {err.valid})" if err.valid else ""
            self.problem(full, f"{err.message}{valid}")
            return None

    def formula(
        self, path: Path, text: str, schema: dict[str, str], *, want: str | None = None
    ) -> Compiled | None:
        try:
            compiled = compile_formula(text, schema)
        except FormulaError as err:
            line, column = self.marks.at(path)
            if err.span is not None and path in self.marks.values:
                column += err.span[0] - 1 + (1 if self.marks.quoted.get(path) else 0)
            hint = f"; {err.hint}" if err.hint else ""
            self.problems.append(
                Problem(
                    self.marks.file,
                    line,
                    column,
                    ".".join(str(p) for p in path),
                    f"{err.message}{hint}",
                )
            )
            return None
        if want is not None and compiled.result_type != want:
            self.problem(
                path, f"the formula gives {compiled.result_type}, but {want} is required here"
            )
            return None
        return compiled


def _choice(b: _Builder, path: Path, value: str, valid: tuple[str, ...], what: str) -> bool:
    if value not in valid:
        b.unknown(path, what, value, valid)
        return False
    return True


def _check_top(b: _Builder) -> tuple[dt.tzinfo, PeriodKind]:
    spec = b.spec
    if spec.perfcore != 1:
        b.problem(("perfcore",), f"unsupported plan schema version {spec.perfcore}; valid: 1")
    tz = b.domain(("time_zone",), lambda: zone(spec.time_zone, field=""))
    _choice(b, ("period",), spec.period, PERIODS, "period")
    _choice(b, ("locale",), spec.locale, LOCALES, "locale")
    kind = PeriodKind(spec.period) if spec.period in PERIODS else PeriodKind.MONTH
    return (tz if tz is not None else dt.UTC), kind


def _declare(
    name: str, fields: dict[str, str], bounds: dict[str, Bounds]
) -> Callable[[], EvidenceType]:
    return lambda: EvidenceType.declare(name, fields, bounds)


def _check_evidence(b: _Builder) -> dict[str, EvidenceType]:
    out: dict[str, EvidenceType] = {}
    for etype, ev in b.spec.evidence.items():
        before = len(b.problems)
        for name, kind in ev.fields.items():
            path = ("evidence", etype, "fields", name)
            _choice(b, path, kind.removesuffix("?"), FIELD_TYPES, "field type")
            if not name.isidentifier():
                b.problem(path, f"field name {name!r} is not a valid name", key=True)
        bounds = _constraints(b, etype, ev.fields, ev.constraints)
        if len(b.problems) == before:
            declared = b.domain(("evidence", etype), _declare(etype, dict(ev.fields), bounds))
            if declared is not None:
                out[etype] = declared
    return out


def _constraints(
    b: _Builder, etype: str, fields: dict[str, str], given: dict[str, ConstraintSpec]
) -> dict[str, Bounds]:
    out: dict[str, Bounds] = {}
    numbers = [n for n, kind in fields.items() if kind.removesuffix("?") == "number"]
    for name, c in given.items():
        path: Path = ("evidence", etype, "constraints", name)
        if name not in fields:
            b.problem(
                path,
                f"unknown field {name!r} of evidence type {etype!r}; " + did_you_mean(name, fields),
                key=True,
            )
        elif name not in numbers:
            b.problem(
                path,
                f"only number fields take min, max or integer; {name!r} is "
                f"{fields[name].removesuffix('?')}; valid: {', '.join(numbers) or 'no fields'}",
            )
        else:
            bound = b.domain(path, _bounds(c))
            if bound is not None:
                out[name] = bound
    return out


def _bounds(c: ConstraintSpec) -> Callable[[], Bounds]:
    return lambda: Bounds(c.min, c.max, c.integer)


def _check_sources(b: _Builder) -> None:
    evidence = b.spec.evidence
    for sname, src in b.spec.sources.items():
        base: Path = ("sources", sname)
        ev = evidence.get(src.evidence)
        if ev is None:
            b.unknown((*base, "evidence"), "evidence type", src.evidence, evidence)
            continue
        for fname in src.fields:
            if fname not in ev.fields:
                b.problem(
                    (*base, "fields", fname),
                    f"unknown field {fname!r} of evidence type {src.evidence!r}; "
                    + did_you_mean(fname, ev.fields),
                    key=True,
                )
        _choice(b, (*base, "subject", "kind"), src.subject.kind, SUBJECT_KINDS, "subject kind")
        if bool(src.subject.field) == bool(src.subject.template):
            b.problem((*base, "subject"), "give exactly one of field or template")


def _parser(text: str) -> Callable[[], SubjectRef]:
    return lambda: SubjectRef.parse(text, field="")


def _identities(b: _Builder) -> dict[tuple[str, str], SubjectRef]:
    out: dict[tuple[str, str], SubjectRef] = {}
    for system, mapping in b.spec.identities.items():
        for external, text in mapping.items():
            ref = b.domain(("identities", system, external), _parser(text))
            if ref is not None:
                out[(system, external)] = ref
    return out


def _org(b: _Builder) -> OrgChart:
    spec = b.spec
    known = {p.id for p in spec.people}
    units: dict[str, OrgUnit] = {}
    for uid, unit in spec.units.items():
        if unit.manager is not None and unit.manager not in known:
            b.unknown(("units", uid, "manager"), "person", unit.manager, known)
        if unit.parent is not None and unit.parent not in spec.units:
            b.unknown(("units", uid, "parent"), "unit", unit.parent, spec.units)
    manager_of = {p.id: p.manager for p in spec.people}
    for i, p in enumerate(spec.people):
        if p.manager is not None and p.manager not in known:
            b.unknown(("people", i, "manager"), "person", p.manager, known)
        if p.unit is not None and p.unit not in spec.units:
            b.unknown(("people", i, "unit"), "unit", p.unit, spec.units)
    if b.problems:
        return OrgChart.build([], [])
    for uid, unit in spec.units.items():
        units[uid] = OrgUnit(uid, unit.name, manager_id=unit.manager, parent_id=unit.parent)
    people: list[Person] = []
    for p in spec.people:
        unit_id = p.unit
        if unit_id is None and p.manager is not None:
            unit_id = f"team-of-{p.manager}"
            if unit_id not in units:
                boss = manager_of.get(p.manager)
                units[unit_id] = OrgUnit(
                    unit_id,
                    f"team of {p.manager}",
                    manager_id=p.manager,
                    parent_id=f"team-of-{boss}" if boss else None,
                )
        people.append(Person(p.id, p.name, unit_id=unit_id))
    # parents named for managers who manage nobody yet
    for org_unit in list(units.values()):
        parent = org_unit.parent_id
        if parent is not None and parent not in units:
            mgr = parent.removeprefix("team-of-")
            units[parent] = OrgUnit(parent, f"team of {mgr}", manager_id=mgr, parent_id=None)
    built = b.domain(("people",), lambda: OrgChart.build(people, list(units.values())))
    return built if built is not None else OrgChart.build([], [])


def _rule(b: _Builder, path: Path, ind: IndicatorSpec, s: ScoringSpec) -> ScoringRule | None:
    if not _choice(b, (*path, "method"), s.method, METHODS, "scoring method"):
        return None
    target = s.target if s.target is not None else ind.target
    baseline = s.baseline if s.baseline is not None else ind.baseline
    direction = ind.direction
    points: list[tuple[object, object]] = []
    for i, p in enumerate(s.points):
        if len(p) != 2:
            b.problem((*path, "points", i), "a point is [x, y]")
            return None
        points.append((p[0], p[1]))

    def need(name: str, value: Decimal | None) -> bool:
        if value is None:
            b.problem(path, f"scoring method {s.method} needs {name}")
            return False
        return True

    builders: dict[str, Callable[[], ScoringRule | None]] = {
        "ratio": lambda: AttainmentRatio(target) if need("a target", target) else None,
        "inverse": lambda: InverseRatio(target, s.cap) if need("a target", target) else None,
        "reflection": lambda: Reflection(target) if need("a target", target) else None,
        "baseline_progress": lambda: (
            BaselineProgress(baseline, target)
            if need("a baseline", baseline) and need("a target", target)
            else None
        ),
        "target_range": lambda: (
            TargetRange(s.low, s.high, s.falloff if s.falloff is not None else Decimal(0))
            if need("low", s.low) and need("high", s.high)
            else None
        ),
        "band_table": lambda: BandTable(points, direction=direction),
        "step_table": lambda: StepTable(
            points, direction=direction, below=s.below if s.below is not None else Decimal(0)
        ),
    }
    rename: dict[str, Path] = {}
    for i in range(len(points)):
        rename[f"points[{i}].x"] = ("points", i, 0)
        rename[f"points[{i}].y"] = ("points", i, 1)
    return b.domain(path, builders[s.method], rename=rename)


def _definition(b: _Builder, path: Path, ind: IndicatorSpec) -> Definition | None:
    kind = ind.type
    if not _choice(b, (*path, "type"), kind, INDICATOR_TYPES, "indicator type"):
        return None
    if kind in ("simple", "cumulative"):
        if ind.agg is None:
            b.problem(path, f"a {kind} indicator needs agg; valid: {', '.join(AGGS)}")
            return None
        if not _choice(b, (*path, "agg"), ind.agg, AGGS, "aggregation"):
            return None
        if kind == "simple":
            return b.domain(
                path,
                lambda: Simple(ind.agg, ind.expr, ind.filter, ind.fill_nulls_with),
            )
        return b.domain(
            path,
            lambda: Cumulative(
                ind.agg, ind.expr, ind.filter, window=ind.window, grain_to_date=ind.grain_to_date
            ),
        )
    if kind == "ratio":
        if ind.numerator is None or ind.denominator is None:
            b.problem(path, "a ratio indicator needs numerator and denominator")
            return None
        return b.domain(path, lambda: Ratio(ind.numerator or "", ind.denominator or ""))
    if ind.expr is None:
        b.problem(path, "a derived indicator needs expr")
        return None
    return b.domain(path, lambda: Derived(ind.expr or "", tuple(ind.inputs)))


def _version(
    definition: Definition, rule: ScoringRule | None, ind: IndicatorSpec
) -> Callable[[], IndicatorVersion]:
    return lambda: IndicatorVersion(
        number=1,
        valid_from=dt.date(2000, 1, 1),
        definition=definition,
        evidence_type=ind.evidence,
        unit=ind.unit,
        direction=ind.direction,
        baseline=ind.baseline,
        threshold=ind.threshold,
        target=ind.target,
        stretch=ind.stretch,
        scoring=rule,
        cap=ind.cap,
    )


def _indicator(name: str, version: IndicatorVersion, title: str) -> Callable[[], Indicator]:
    return lambda: Indicator(name, (version,), title=title)


def _indicators(b: _Builder, scored: set[str]) -> dict[str, Indicator]:
    spec = b.spec
    names = list(spec.indicators)
    out: dict[str, Indicator] = {}
    definitions: dict[str, Definition] = {}
    for name, ind in spec.indicators.items():
        path: Path = ("indicators", name)
        before = len(b.problems)
        if ind.type in ("simple", "cumulative"):
            if ind.evidence is None:
                b.problem(path, f"a {ind.type} indicator needs evidence (the type it reads)")
            elif ind.evidence not in spec.evidence:
                b.unknown((*path, "evidence"), "evidence type", ind.evidence, spec.evidence)
        for ref_field in ("numerator", "denominator"):
            ref = getattr(ind, ref_field)
            if ref is not None and ref not in spec.indicators:
                b.unknown((*path, ref_field), "indicator", ref, names)
        for i, ref in enumerate(ind.inputs):
            if ref not in spec.indicators:
                b.unknown((*path, "inputs", i), "indicator", ref, names)
        _choice(
            b,
            (*path, "direction"),
            ind.direction,
            tuple(d.value for d in Direction),
            "direction",
        )
        schema = (
            {k: v.removesuffix("?") for k, v in spec.evidence[ind.evidence].fields.items()}
            if ind.evidence is not None and ind.evidence in spec.evidence
            else None
        )
        if schema is not None and ind.type in ("simple", "cumulative"):
            if ind.expr is not None:
                b.formula((*path, "expr"), ind.expr, dict(schema))
            if ind.filter is not None:
                b.formula((*path, "filter"), ind.filter, dict(schema), want="boolean")
        if ind.type == "derived" and ind.expr is not None:
            b.formula((*path, "expr"), ind.expr, dict.fromkeys(ind.inputs, "number"))
        if len(b.problems) > before:
            continue
        definition = _definition(b, path, ind)
        if definition is None:
            continue
        definitions[name] = definition
        rule: ScoringRule | None = None
        if ind.scoring is not None:
            rule = _rule(b, (*path, "scoring"), ind, ind.scoring)
            if rule is None:
                continue
        elif name not in scored and ind.target is None:
            rule = Unscored()
        version = b.domain(path, _version(definition, rule, ind))
        if version is None:
            continue
        built = b.domain(path, _indicator(name, version, ind.title))
        if built is not None:
            out[name] = built
    if definitions and len(definitions) == len(spec.indicators):
        b.domain(("indicators",), lambda: dependency_order(definitions))
    return out


def _objectives(
    b: _Builder,
) -> tuple[tuple[str, ...], dict[str, Decimal], dict[str, str], dict[str, Decimal]]:
    spec = b.spec
    names = list(spec.indicators)
    order: list[str] = []
    weights: dict[str, Decimal] = {}
    objective_of: dict[str, str] = {}
    objective_weights: dict[str, Decimal] = {}
    sum_to = spec.weights.sum_to
    for oid, obj in spec.objectives.items():
        path: Path = ("objectives", oid)
        objective_weights[oid] = obj.weight
        if obj.weight < 0:
            b.problem((*path, "weight"), f"weight {obj.weight} is negative; valid: >= 0")
        if not obj.indicators:
            b.problem((*path, "indicators"), "an objective needs at least one indicator")
        for name, weight in obj.indicators.items():
            ipath = (*path, "indicators", name)
            if name not in spec.indicators:
                b.problem(
                    ipath, f"unknown indicator {name!r}; {did_you_mean(name, names)}", key=True
                )
                continue
            if name in objective_of:
                b.problem(
                    ipath,
                    f"indicator {name!r} is already in objective {objective_of[name]!r}; "
                    "an indicator belongs to one objective",
                    key=True,
                )
                continue
            if weight < 0:
                b.problem(ipath, f"weight {weight} is negative; valid: >= 0")
            objective_of[name] = oid
            weights[name] = weight
            order.append(name)
        if sum_to is not None and obj.indicators:
            total = sum(obj.indicators.values(), Decimal(0))
            if total != sum_to:
                b.problem(
                    (*path, "indicators"),
                    f"indicator weights sum to {total}, but weights.sum_to requires {sum_to}",
                )
    _all_zero(b, spec.objectives, weights, objective_weights)
    if sum_to is not None and spec.objectives:
        total = sum(objective_weights.values(), Decimal(0))
        if total != sum_to:
            b.problem(
                ("objectives",),
                f"objective weights sum to {total}, but weights.sum_to requires {sum_to}",
            )
    return tuple(order), weights, objective_of, objective_weights


def _all_zero(
    b: _Builder,
    objectives: dict[str, Any],
    weights: dict[str, Decimal],
    objective_weights: dict[str, Decimal],
) -> None:
    """Weights that could never give a score: every indicator weight 0, every objective weight
    0, or an objective whose indicator weights are all 0 (scoring would fail or be empty)."""
    valid = "valid: at least one weight > 0"
    if objective_weights and not any(objective_weights.values()):
        first = next(iter(objective_weights))
        b.problem(
            ("objectives", first, "weight"),
            f"every objective weight is 0, so no total can be scored; {valid}",
        )
    for oid, obj in objectives.items():
        ws = [weights[n] for n in obj.indicators if n in weights]
        if ws and len(ws) == len(obj.indicators) and not any(ws):
            b.problem(
                ("objectives", oid, "indicators", next(iter(obj.indicators))),
                f"every indicator weight of objective {oid!r} is 0, so it can never be "
                f"scored; {valid}",
            )


def _alerts(b: _Builder) -> None:
    names = list(b.spec.indicators)
    for aid, alert in b.spec.alerts.items():
        path: Path = ("alerts", aid)
        if alert.indicator not in b.spec.indicators:
            b.unknown((*path, "indicator"), "indicator", alert.indicator, names)
        if not _choice(b, (*path, "kind"), alert.kind, ALERT_KINDS, "alert kind"):
            continue
        if alert.kind == "threshold" and alert.below is None and alert.above is None:
            b.problem(path, "a threshold alert needs below or above (or both)")
        if alert.kind == "fluctuation":
            if alert.change is None or alert.change <= 0:
                b.problem(path, "a fluctuation alert needs change > 0 (0.2 = 20 %)")
            if alert.window < 1:
                b.problem((*path, "window"), "window must be at least 1 period")
        if alert.grain is not None:
            _choice(b, (*path, "grain"), alert.grain, PERIODS, "grain")
        if alert.sla_hours is not None and alert.sla_hours <= 0:
            b.problem((*path, "sla_hours"), "sla_hours must be positive")


def _reviews(b: _Builder) -> tuple[SlaPolicy, ScoringConfig]:
    r = b.spec.reviews
    path: Path = ("reviews",)
    before = len(b.problems)
    if r.sla_hours <= 0:
        b.problem((*path, "sla_hours"), f"sla_hours {r.sla_hours} is not positive; valid: >= 1")
    for i, h in enumerate(r.reminders_before_hours):
        if r.sla_hours > 0 and not 0 < h < r.sla_hours:
            b.problem(
                (*path, "reminders_before_hours", i),
                f"a reminder {h} hours before the deadline is outside the response window; "
                f"valid: 1 to {r.sla_hours - 1} (less than sla_hours {r.sla_hours})",
            )
    if r.escalation_interval_hours <= 0:
        b.problem(
            (*path, "escalation_interval_hours"),
            f"escalation_interval_hours {r.escalation_interval_hours} is not positive; valid: >= 1",
        )
    if r.escalation_levels < 1:
        b.problem(
            (*path, "escalation_levels"),
            f"escalation_levels {r.escalation_levels} is below 1; valid: >= 1",
        )
    names: list[str] = []
    sla = None
    if len(b.problems) == before:
        sla = b.domain(
            path,
            lambda: SlaPolicy(
                respond_within=dt.timedelta(hours=r.sla_hours),
                reminders_before=tuple(dt.timedelta(hours=h) for h in r.reminders_before_hours),
                escalation_interval=dt.timedelta(hours=r.escalation_interval_hours),
                max_levels=r.escalation_levels,
            ),
            rename=_SLA_PATHS,
        )
    components: list[ComponentConfig] = []
    for name, weight in r.components.items():
        kind = COMPONENTS.get(name)
        if kind is None:
            b.problem(
                (*path, "components", name),
                f"unknown review component {name!r}; {did_you_mean(name, COMPONENTS)}",
                key=True,
            )
            continue
        components.append(ComponentConfig(kind, weight, enabled=weight > 0))
        names.append(name)
    config = None
    if components:
        rename: dict[str, Path] = {
            f"components[{i}]": ("components", name) for i, name in enumerate(names)
        }
        rename.update({f"components[{i}].weight": ("components", n) for i, n in enumerate(names)})
        rename.update({"components": ("components",), "scale": ("scale_min",)})
        config = b.domain(
            path,
            lambda: ScoringConfig(
                components=tuple(components),
                scale=RatingScale(r.scale_min, r.scale_max, step=None),
            ),
            rename=rename,
        )
    return sla or SlaPolicy(), config or ScoringConfig()


def _bucket_rule(rs: RuleSpec) -> Callable[[], BucketRule]:
    return lambda: BucketRule(rs.bucket, rs.op, rs.value, rs.upper)


def _guideline(b: _Builder) -> DistributionGuideline | None:
    c = b.spec.calibration
    path: Path = ("calibration",)
    _choice(b, (*path, "enforce"), c.enforce, ENFORCE, "enforcement")
    _choice(b, (*path, "method"), c.method, NORMALISATIONS, "normalisation method")
    if not c.targets and not c.buckets:
        return None
    if set(c.targets) != set(c.buckets):
        b.problem(
            (*path, "targets"),
            "calibration targets and buckets must name the same buckets; buckets: "
            + ", ".join(c.buckets),
        )
        return None
    rules: list[BucketRule] = []
    for i, rs in enumerate(c.rules):
        if not _choice(b, (*path, "rules", i, "op"), rs.op, OPERATORS, "operator"):
            continue
        rule = b.domain((*path, "rules", i), _bucket_rule(rs))
        if rule is not None:
            rules.append(rule)
    ordered = {name: c.targets[name] for name in c.buckets}
    return b.domain(path, lambda: DistributionGuideline.of(ordered, rules))


def _incentive_rule(
    rid: str, inc: IncentiveSpec, reads: list[str], period: PeriodKind
) -> Callable[[], IncentiveRule]:
    return lambda: IncentiveRule(
        id=rid,
        reward=FixedReward(inc.reward.kind, inc.reward.amount, inc.reward.unit),
        cadence=Cadence(per=period),
        condition=Condition(inc.when, tuple(reads)),
        name=inc.title,
    )


def _incentives(
    b: _Builder, period: PeriodKind
) -> tuple[dict[str, IncentiveRule], dict[str, Compiled]]:
    rules: dict[str, IncentiveRule] = {}
    conditions: dict[str, Compiled] = {}
    schema = dict.fromkeys(b.spec.indicators, "number")
    for rid, inc in b.spec.incentives.items():
        path: Path = ("incentives", rid)
        _choice(b, (*path, "reward", "kind"), inc.reward.kind, REWARD_KINDS, "reward kind")
        if inc.reward.amount < 0:
            b.problem(
                (*path, "reward", "amount"),
                f"reward amount {inc.reward.amount} is negative; valid: >= 0 (a rule awards; "
                "clawbacks are ledger reversals of an award, not rules)",
            )
            continue
        if inc.cadence != "once_per_period":
            b.unknown((*path, "cadence"), "cadence", inc.cadence, ["once_per_period"])
        compiled = b.formula((*path, "when"), inc.when, schema, want="boolean")
        if compiled is None or inc.reward.kind not in REWARD_KINDS:
            continue
        reads = sorted(n for n in schema if re.search(rf"\b{re.escape(n)}\b", inc.when))
        rule = b.domain(
            path,
            _incentive_rule(rid, inc, reads, period),
            rename={"condition.*": ("when",), "reward": ("reward",), "cadence": ("cadence",)},
        )
        if rule is not None:
            rules[rid] = rule
            conditions[rid] = compiled
    return rules, conditions


def _milestones(b: _Builder) -> None:
    known = {p.id for p in b.spec.people}
    if not known:
        return
    for mid, m in b.spec.milestones.items():
        if m.owner not in known:
            b.unknown(("milestones", mid, "owner"), "person", m.owner, known)
        for i, who in enumerate(m.escalate_to):
            if who not in known:
                b.unknown(("milestones", mid, "escalate_to", i), "person", who, known)


def build_plan(
    spec: PlanSpec,
    marks: Marks,
    *,
    source: str,
    content_hash: str,
    base_dir: PathLike | None = None,
) -> Plan | list[Problem]:
    """Check ``spec`` and build the :class:`Plan`; returns the problems instead when any.

    ``base_dir`` (the plan file's folder) is where relative source file paths are looked up
    (then the working directory) to check mapped columns against a readable file's header."""
    b = _Builder(spec, marks)
    tz, period_kind = _check_top(b)
    evidence_types = _check_evidence(b)
    _check_sources(b)
    b.problems.extend(check_sources(spec, marks, base_dir=base_dir))
    identities = _identities(b)
    org = _org(b)
    order, weights, objective_of, objective_weights = _objectives(b)
    indicators = _indicators(b, set(order))
    _alerts(b)
    sla, review_config = _reviews(b)
    guideline = _guideline(b)
    rules, conditions = _incentives(b, period_kind)
    _milestones(b)
    if b.problems:
        return b.problems
    return Plan(
        spec=spec,
        file=marks.file,
        source=source,
        content_hash=content_hash,
        tz=tz,
        period_kind=period_kind,
        locale=spec.locale,
        indicators=indicators,
        scorecard=order,
        weights=weights,
        objective_of=objective_of,
        objective_weights=objective_weights,
        org=org,
        identities=identities,
        sla=sla,
        review_config=review_config,
        guideline=guideline,
        incentive_rules=rules,
        conditions=conditions,
        evidence_types=evidence_types,
    )
