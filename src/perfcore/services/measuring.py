"""Scoring one subject for one period with the plan: evidence rows → indicator values
(:func:`perfcore.domain.measure.compute_values`) → scorecard
(:func:`perfcore.domain.scorecard.build_scorecard`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from perfcore.domain.indicator import Cumulative, Derived
from perfcore.domain.measure import IndicatorValue, compute_values
from perfcore.domain.scorecard import Scorecard, build_scorecard
from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.records import AcceptedEvidence

__all__ = ["compute_indicator_values", "evidence_for", "rows_by_type", "score_subject"]


def rows_by_type(evidence: Iterable[AcceptedEvidence]) -> dict[str, list[dict[str, object]]]:
    """Group stored evidence into the row mappings the measure module reads."""
    out: dict[str, list[dict[str, object]]] = {}
    for ev in evidence:
        out.setdefault(ev.evidence_type, []).append(ev.row())
    return out


def evidence_for(
    uow: AbstractUnitOfWork, plan: Plan, subject: SubjectRef, period: Period
) -> list[AcceptedEvidence]:
    """The subject's evidence that can count for ``period``: the rows inside it, or every row up
    to its end when the plan has cumulative indicators (they look back)."""
    start, end = period.bounds(plan.tz)
    looks_back = any(isinstance(i.current.definition, Cumulative) for i in plan.indicators.values())
    found: list[AcceptedEvidence] = uow.evidence.list(
        subject=subject, start=None if looks_back else start, end=end
    )
    return found


def _compiler(plan: Plan) -> Callable[[str], Callable[..., Any]]:
    owner: dict[str, str | None] = {}
    for ind in plan.indicators.values():
        version = ind.current
        d = version.definition
        texts = [getattr(d, "expr", None), getattr(d, "filter", None)]
        for text in texts:
            if text:
                owner.setdefault(text, None if isinstance(d, Derived) else version.evidence_type)

    def compile_text(text: str) -> Callable[..., Any]:
        return plan.compiler(owner.get(text))(text)

    return compile_text


def compute_indicator_values(
    plan: Plan, period: Period, rows: Mapping[str, Iterable[Mapping[str, object]]]
) -> dict[str, IndicatorValue]:
    """Every plan indicator's value for one subject's ``rows`` in ``period``."""
    return compute_values(
        plan.versions_for(period), rows, period=period, tz=plan.tz, compile=_compiler(plan)
    )


def score_subject(
    plan: Plan, subject: SubjectRef, period: Period, evidence: Iterable[AcceptedEvidence]
) -> tuple[dict[str, Decimal | None], Scorecard | None, int]:
    """Values, scorecard (``None`` without objectives) and evidence count for one subject."""
    rows = rows_by_type(evidence)
    values = compute_indicator_values(plan, period, rows)
    count = 0
    start, end = period.bounds(plan.tz)
    for type_rows in rows.values():
        for row in type_rows:
            at = row["occurred_at"]
            if isinstance(at, dt.datetime) and start <= at < end:
                count += 1
    card: Scorecard | None = None
    if plan.scorecard:
        versions = plan.versions_for(period)
        card = build_scorecard(
            subject,
            period,
            {n: versions[n] for n in plan.scorecard},
            {n: values[n] for n in plan.scorecard},
            plan.weights,
            objective_of=plan.objective_of,
            objective_weights=plan.objective_weights,
        )
    return {n: v.value for n, v in values.items()}, card, count
