"""Scorecard: one subject and period — values → attainment → scores → objective scores → total.

Computation only: the caller passes the indicator versions in force, their computed values
(:class:`~perfcore.domain.measure.IndicatorValue` or bare decimals), weights, and optionally which
objective each indicator belongs to with objective weights (plain data, so this module does not
depend on the objective aggregate).

Rules (perfcore's own):

* line score = the version's scoring rule applied to the value, then the per-indicator ``cap``
  (before weighting, so over-achievement on one line cannot mask misses on others);
* total S = Σ wᵢ·sᵢ / Σ wᵢ over the lines **with a value**. A line without a value is excluded and
  the renormalisation is reported (:attr:`Scorecard.excluded`, :attr:`Scorecard.effective_weights`),
  never hidden;
* with objective weights: each objective's score is the weighted mean of its lines, and the total is
  the weighted mean of the objectives that have a score (same exclusion rule);
* arithmetic is exact (exact decimal sums, one correctly rounded division at 28 significant
  digits) and independent of input order; rounding happens only in the ``*_display`` helpers:
  scores 3 dp, percentages 2 dp (ROUND_HALF_UP).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction

from attrs import frozen

from perfcore.domain.errors import DomainError, InvalidValue, InvalidWeight
from perfcore.domain.indicator import IndicatorVersion
from perfcore.domain.measure import IndicatorValue
from perfcore.domain.scoring import apply_cap
from perfcore.domain.values import (
    PERCENT_PLACES,
    SCORE_PLACES,
    Period,
    SubjectRef,
    as_decimal,
    quantize,
)

__all__ = [
    "ObjectiveScore",
    "Scorecard",
    "ScorecardLine",
    "build_scorecard",
    "check_weights",
    "weighted_mean",
]

_MAX_IDS_SHOWN = 5
_EXACT_PRECISION = 200


def _to_decimal(q: Fraction) -> Decimal:
    return Decimal(q.numerator) / Decimal(q.denominator)


def weighted_mean(pairs: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Σ wᵢ·sᵢ / Σ wᵢ over ``(weight, score)`` pairs, exactly.

    The sums are exact (rationals if ever needed) and the one division is correctly rounded, so the
    result does not depend on the order of the pairs and lies within the minimum and maximum
    score of the pairs with a positive weight. ``None`` when there are no
    pairs or all weights are 0. Weights are assumed already checked (:func:`check_weights`).
    """
    items = list(pairs)
    try:
        with localcontext() as ctx:  # exact sums: any rounding raises Inexact
            ctx.prec = _EXACT_PRECISION
            ctx.traps[Inexact] = True
            num = sum((w * s for w, s in items), Decimal(0))
            den = sum((w for w, _ in items), Decimal(0))
    except Inexact:  # pragma: no cover - needs > 200 significant digits
        qn = sum((Fraction(w) * Fraction(s) for w, s in items), Fraction(0))
        qd = sum((Fraction(w) for w, _ in items), Fraction(0))
        return None if qd == 0 else _to_decimal(qn / qd)
    if den == 0:
        return None
    return num / den


def check_weights(
    weights: Mapping[str, object],
    *,
    field: str = "weights",
    require_total: object | None = None,
) -> dict[str, Decimal]:
    """Convert weights to decimals and check them: each ≥ 0 and not all 0.

    ``require_total`` (e.g. 100) additionally demands that the weights add up to exactly that
    decimal total (perfcore's rule: the check uses the exact decimal sum and the error reports
    the actual total).

    Raises:
        InvalidWeight: a negative or non-numeric weight (field ``weights.<name>``), every weight
            0, or a sum different from ``require_total`` (field ``weights``, actual total in the
            message).
    """
    out: dict[str, Decimal] = {}
    for name, raw in weights.items():
        where = f"{field}.{name}"
        try:
            w = as_decimal(raw, field=where)
        except InvalidValue as exc:
            raise InvalidWeight(exc.message, field=where, valid="a number >= 0") from None
        if w < 0:
            raise InvalidWeight(f"weight {w} is negative", field=where, valid="a number >= 0")
        out[name] = w
    if out and not any(out.values()):
        raise InvalidWeight(
            f"all {len(out)} weights are 0 (total 0)",
            field=field,
            valid="at least one weight above 0",
        )
    if require_total is not None:
        wanted = as_decimal(require_total, field=f"{field}.required_total")
        actual = sum(out.values(), Decimal(0))
        if actual != wanted:
            raise InvalidWeight(
                f"weights add up to {_num(actual)}, not {_num(wanted)}",
                field=field,
                valid=f"weights that add up to exactly {_num(wanted)}",
            )
    return out


def _pct(d: Decimal) -> str:
    return f"{quantize(d * 100, PERCENT_PLACES)} %"


def _num(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return "0" if text == "-0" else text


@frozen
class ScorecardLine:
    """One indicator on a scorecard, with everything needed to explain its score.

    Attributes:
        indicator: indicator name.
        version: version number used; ``valid_from`` its first date.
        objective: objective id the line rolls up to, or ``None``.
        weight: the weight given; ``effective_weight`` its share of the total after excluding lines
            without a value (``None`` when the line is excluded).
        value: the indicator value (``None`` = no value); ``unit`` its unit.
        evidence_count / evidence_ids: the evidence behind the value.
        attainment: actual / target (``None`` without a target above 0).
        rule: the scoring rule's kind; ``rule_text`` its readable description.
        raw_score: the rule's score before the cap; ``score`` after it (``None`` when excluded).
        cap: the per-indicator cap, if any; ``capped`` whether it bit.
        diagnostics: why a value is missing, or why a line could not be scored.
        explanation: one paragraph a person can read.
    """

    indicator: str
    version: int
    valid_from: str
    objective: str | None
    weight: Decimal
    effective_weight: Decimal | None
    value: Decimal | None
    unit: str
    evidence_count: int
    evidence_ids: tuple[str, ...]
    attainment: Decimal | None
    rule: str
    rule_text: str
    raw_score: Decimal | None
    cap: Decimal | None
    capped: bool
    score: Decimal | None
    diagnostics: tuple[str, ...]
    explanation: str

    @property
    def included(self) -> bool:
        """True when the line has a score and counts in the total."""
        return self.score is not None

    @property
    def score_display(self) -> Decimal | None:
        """Score rounded to 3 dp for presentation."""
        return None if self.score is None else quantize(self.score, SCORE_PLACES)

    @property
    def attainment_percent(self) -> Decimal | None:
        """Attainment in percent, 2 dp."""
        if self.attainment is None:
            return None
        return quantize(self.attainment * 100, PERCENT_PLACES)


@frozen
class ObjectiveScore:
    """An objective's score: weighted mean of its lines that have a score."""

    objective: str
    weight: Decimal | None
    effective_weight: Decimal | None
    score: Decimal | None
    lines: tuple[str, ...]
    excluded: tuple[str, ...]

    @property
    def score_display(self) -> Decimal | None:
        """Score rounded to 3 dp."""
        return None if self.score is None else quantize(self.score, SCORE_PLACES)


@frozen
class Scorecard:
    """The scored result for one subject and period.

    Attributes:
        subject: ``person:E1`` style text.
        period: the period scored.
        lines: one :class:`ScorecardLine` per indicator, in input order.
        objectives: one :class:`ObjectiveScore` per objective (empty without an objective map).
        total: the weighted total, exact; ``None`` when nothing had a value.
        excluded: indicators left out of the total because they had no score.
        effective_weights: indicator → its share of the total after renormalisation.
        notes: sentences about renormalisation and exclusions.
    """

    subject: str
    period: Period
    lines: tuple[ScorecardLine, ...]
    objectives: tuple[ObjectiveScore, ...]
    total: Decimal | None
    excluded: tuple[str, ...]
    effective_weights: Mapping[str, Decimal]
    notes: tuple[str, ...]

    @property
    def renormalised(self) -> bool:
        """True when some line was excluded and the others' weights were scaled up."""
        return bool(self.excluded)

    @property
    def total_display(self) -> Decimal | None:
        """Total rounded to 3 dp."""
        return None if self.total is None else quantize(self.total, SCORE_PLACES)

    def line(self, indicator: str) -> ScorecardLine:
        """The line of ``indicator``.

        Raises:
            InvalidValue: no such line (field ``indicator``).
        """
        for ln in self.lines:
            if ln.indicator == indicator:
                return ln
        raise InvalidValue(
            f"no line for {indicator!r}",
            field="indicator",
            valid=", ".join(ln.indicator for ln in self.lines),
        )

    def explain(self) -> str:
        """The whole scorecard as readable text: one paragraph per line, then the total."""
        head = f"Scorecard for {self.subject}, {self.period.key}"
        parts = [head, *(f"- {ln.explanation}" for ln in self.lines)]
        parts.extend(
            f"Objective {o.objective}: "
            + (f"score {o.score_display}" if o.score is not None else "no score")
            + (f", weight {_num(o.weight)}" if o.weight is not None else "")
            for o in self.objectives
        )
        parts.extend(self.notes)
        parts.append(
            f"Total: {self.total_display}" if self.total is not None else "Total: no value"
        )
        return "\n".join(parts)


def _value_of(name: str, raw: IndicatorValue | Decimal | int | str | None) -> IndicatorValue:
    if isinstance(raw, IndicatorValue):
        return raw
    if raw is None:
        return IndicatorValue(name, None, diagnostics=("no value supplied",))
    return IndicatorValue(name, as_decimal(raw, field=f"values.{name}"))


@frozen
class _Scored:
    """First pass over one line: the numbers, before weights are renormalised."""

    indicator: str
    version: IndicatorVersion
    iv: IndicatorValue
    weight: Decimal
    objective: str | None
    raw: Decimal | None
    score: Decimal | None
    attainment: Decimal | None
    diagnostics: tuple[str, ...]


def _score(
    name: str, version: IndicatorVersion, iv: IndicatorValue, weight: Decimal, objective: str | None
) -> _Scored:
    diagnostics = list(iv.diagnostics)
    if iv.version is not None and iv.version != version.number:
        diagnostics.append(
            f"value computed with version {iv.version} but scored with version {version.number}"
        )
    raw: Decimal | None = None
    score: Decimal | None = None
    attainment = None if iv.value is None else version.attainment(iv.value)
    if iv.value is not None:
        try:
            raw = version.rule.score(iv.value)
        except DomainError as exc:
            diagnostics.append(f"could not score: {exc}")
        else:
            score = apply_cap(raw, version.cap)
    return _Scored(name, version, iv, weight, objective, raw, score, attainment, tuple(diagnostics))


def _line(d: _Scored, effective: Decimal | None, rule_text: str) -> ScorecardLine:
    version, iv, raw, score, weight = d.version, d.iv, d.raw, d.score, d.weight
    capped = raw is not None and score is not None and score < raw
    ids = iv.evidence_ids
    shown = ", ".join(ids[:_MAX_IDS_SHOWN]) + (" …" if len(ids) > _MAX_IDS_SHOWN else "")
    unit = f" {version.unit}" if version.unit else ""
    text = [f"{d.indicator} v{version.number} (valid from {version.valid_from.isoformat()}):"]
    records = f"{iv.evidence_count} evidence record(s)" + (f" ({shown})" if shown else "")
    if iv.value is None:
        text.append(f"no value ({records});")
    else:
        text.append(f"value {_num(iv.value)}{unit} from {records};")
    if d.attainment is not None:
        text.append(f"actual/target {_pct(d.attainment)};")
    text.append(f"scoring: {rule_text};")
    if score is not None and raw is not None:
        text.append(f"score {quantize(raw, SCORE_PLACES)}")
        if capped and version.cap is not None:
            text.append(f"capped at {_num(version.cap)} → {quantize(score, SCORE_PLACES)}")
        text.append(f"× weight {_num(weight)}.")
    else:
        text.append(f"excluded from the total (weight {_num(weight)} shared among the others).")
    if d.diagnostics:
        text.append("Notes: " + "; ".join(d.diagnostics) + ".")
    return ScorecardLine(
        indicator=d.indicator,
        version=version.number,
        valid_from=version.valid_from.isoformat(),
        objective=d.objective,
        weight=weight,
        effective_weight=effective,
        value=iv.value,
        unit=version.unit,
        evidence_count=iv.evidence_count,
        evidence_ids=ids,
        attainment=d.attainment,
        rule=version.rule.kind,
        rule_text=rule_text,
        raw_score=raw,
        cap=version.cap,
        capped=capped,
        score=score,
        diagnostics=d.diagnostics,
        explanation=" ".join(text),
    )


def _share(weight: Decimal, total: Fraction) -> Decimal:
    return _to_decimal(Fraction(weight) / total)


def build_scorecard(
    subject: SubjectRef | str,
    period: Period,
    versions: Mapping[str, IndicatorVersion],
    values: Mapping[str, IndicatorValue | Decimal | int | str | None],
    weights: Mapping[str, object] | None = None,
    *,
    objective_of: Mapping[str, str] | None = None,
    objective_weights: Mapping[str, object] | None = None,
    weights_total: object | None = None,
) -> Scorecard:
    """Score one subject for one period.

    Args:
        subject: who is scored (``SubjectRef`` or its text).
        period: the period scored.
        versions: indicator name → version in force for ``period``; the order gives the line order.
        values: indicator name → value (an ``IndicatorValue`` from
            :func:`~perfcore.domain.measure.compute_values`, a number, or ``None``); a missing
            name means no value.
        weights: indicator name → weight ≥ 0 (decimals allowed); ``None`` = every weight 1.
        objective_of: indicator name → objective id (optional).
        objective_weights: objective id → weight ≥ 0; when given, the total is the weighted mean
            of objective scores and every line must belong to a weighted objective.
        weights_total: if given (e.g. 100), the indicator weights must add up to exactly this.

    Returns:
        A :class:`Scorecard`.

    Raises:
        InvalidWeight: negative/non-numeric weights (field ``weights.<name>`` or
            ``objective_weights.<id>``), all weights 0, or a missing weight.
        InvalidValue: weights/objectives naming an unknown indicator, or a line without an
            objective when objective weights are given (field ``objective_of.<name>``).
    """
    names = list(versions)
    w = check_weights(
        weights if weights is not None else dict.fromkeys(names, 1), require_total=weights_total
    )
    for name in w:
        if name not in versions:
            raise InvalidValue(
                f"weight given for unknown indicator {name!r}",
                field=f"weights.{name}",
                valid=", ".join(names),
            )
    for name in names:
        if name not in w:
            raise InvalidWeight(
                f"indicator {name!r} has no weight",
                field=f"weights.{name}",
                valid="a number >= 0 for every indicator on the scorecard",
            )
    obj_of = dict(objective_of or {})
    for name in obj_of:
        if name not in versions:
            raise InvalidValue(
                f"objective given for unknown indicator {name!r}",
                field=f"objective_of.{name}",
                valid=", ".join(names),
            )
    ow = check_weights(objective_weights, field="objective_weights") if objective_weights else {}
    if objective_weights is not None:
        for name in names:
            obj = obj_of.get(name)
            if obj is None:
                raise InvalidValue(
                    f"indicator {name!r} belongs to no objective",
                    field=f"objective_of.{name}",
                    valid=", ".join(sorted(ow)) or "an objective id",
                )
            if obj not in ow:
                raise InvalidWeight(
                    f"objective {obj!r} has no weight",
                    field=f"objective_weights.{obj}",
                    valid="a number >= 0 for every objective used",
                )

    lines = [
        _score(n, versions[n], _value_of(n, values.get(n)), w[n], obj_of.get(n)) for n in names
    ]
    excluded = tuple(ln.indicator for ln in lines if ln.score is None)
    notes: list[str] = []

    groups: dict[str, list[_Scored]] = {}
    for ln in lines:
        if ln.objective is not None:
            groups.setdefault(ln.objective, []).append(ln)
    obj_scores: dict[str, Decimal | None] = {
        obj: weighted_mean((ln.weight, ln.score) for ln in group if ln.score is not None)
        for obj, group in groups.items()
    }

    effective: dict[str, Decimal] = {}
    if ow:
        scored = {o: s for o, s in obj_scores.items() if s is not None and ow[o] > 0}
        total = weighted_mean((ow[o], s) for o, s in scored.items())
        ow_total = Fraction(sum((ow[o] for o in scored), Decimal(0)))
        for obj, group in groups.items():
            inside = Fraction(sum((ln.weight for ln in group if ln.score is not None), Decimal(0)))
            if obj not in scored or inside == 0:
                continue
            share = Fraction(ow[obj]) / ow_total
            for ln in group:
                if ln.score is not None:
                    effective[ln.indicator] = _to_decimal(share * Fraction(ln.weight) / inside)
        dropped = sorted(o for o, sc in obj_scores.items() if sc is None)
        if dropped:
            notes.append(
                "Objectives without a score, left out of the total: " + ", ".join(dropped) + "."
            )
    else:
        total = weighted_mean((ln.weight, ln.score) for ln in lines if ln.score is not None)
        used = Fraction(sum((ln.weight for ln in lines if ln.score is not None), Decimal(0)))
        if used:
            effective = {
                ln.indicator: _share(ln.weight, used) for ln in lines if ln.score is not None
            }
    if excluded:
        shares = ", ".join(f"{k} {_pct(v)}" for k, v in effective.items())
        notes.append(
            f"Renormalised: {', '.join(excluded)} had no score and "
            f"{'is' if len(excluded) == 1 else 'are'} excluded; effective weights {shares}."
        )
    described: dict[int, str] = {}  # one describe() per distinct rule object
    final: list[ScorecardLine] = []
    for ln in lines:
        rule = ln.version.rule
        text = described.get(id(rule))
        if text is None:
            text = described[id(rule)] = rule.describe()
        final.append(_line(ln, effective.get(ln.indicator), text))
    objectives = tuple(
        ObjectiveScore(
            objective=obj,
            weight=ow.get(obj),
            effective_weight=None,
            score=obj_scores[obj],
            lines=tuple(ln.indicator for ln in group),
            excluded=tuple(ln.indicator for ln in group if ln.score is None),
        )
        for obj, group in groups.items()
    )
    if ow:
        scored_total = Fraction(
            sum((ow[o.objective] for o in objectives if o.score is not None), Decimal(0))
        )
        if scored_total:
            objectives = tuple(
                ObjectiveScore(
                    o.objective,
                    o.weight,
                    _share(ow[o.objective], scored_total) if o.score is not None else None,
                    o.score,
                    o.lines,
                    o.excluded,
                )
                for o in objectives
            )
    return Scorecard(
        subject=str(subject),
        period=period,
        lines=tuple(final),
        objectives=objectives,
        total=total,
        excluded=excluded,
        effective_weights=effective,
        notes=tuple(notes),
    )
