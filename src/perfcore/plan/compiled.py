"""The compiled plan: domain objects built from a checked plan file, ready for the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from attrs import define, field

from perfcore.domain.calibration.guidelines import DistributionGuideline
from perfcore.domain.evidence import EvidenceType
from perfcore.domain.incentive import IncentiveRule
from perfcore.domain.indicator import Indicator, IndicatorVersion
from perfcore.domain.review_scoring import ScoringConfig
from perfcore.domain.review_sla import SlaPolicy
from perfcore.domain.values import OrgChart, Period, PeriodKind, SubjectRef
from perfcore.plan.formulas import Compiled, compile_formula
from perfcore.plan.model import PlanSpec

__all__ = ["Plan"]


@define(eq=False)
class Plan:
    """A loaded, checked plan.

    Attributes:
        spec: the structured plan file (:class:`~perfcore.plan.model.PlanSpec`).
        file / source / content_hash: where it came from, its text and SHA-256.
        tz / period_kind / locale: time zone, scoring period grain, notification language.
        indicators: name → domain :class:`~perfcore.domain.indicator.Indicator`.
        scorecard: the indicators on the scorecard (those in objectives), in plan order, with
            ``weights`` (indicator → weight), ``objective_of`` and ``objective_weights``.
        org: the org chart from ``people``/``units``.
        identities: ``(system, external id)`` → subject.
        sla / review_config: review SLA policy and component scoring configuration.
        evidence_types: name → domain :class:`~perfcore.domain.evidence.EvidenceType`.
        guideline: the calibration distribution guideline (``None`` when not given).
        incentive_rules: rule id → domain :class:`~perfcore.domain.incentive.IncentiveRule`;
            ``conditions``: rule id → compiled condition.
    """

    spec: PlanSpec
    file: str
    source: str
    content_hash: str
    tz: dt.tzinfo
    period_kind: PeriodKind
    locale: str
    indicators: dict[str, Indicator]
    scorecard: tuple[str, ...]
    weights: dict[str, Decimal]
    objective_of: dict[str, str]
    objective_weights: dict[str, Decimal]
    org: OrgChart
    identities: dict[tuple[str, str], SubjectRef]
    sla: SlaPolicy
    review_config: ScoringConfig
    guideline: DistributionGuideline | None
    incentive_rules: dict[str, IncentiveRule]
    conditions: dict[str, Compiled]
    evidence_types: dict[str, EvidenceType] = field(factory=dict)
    _cache: dict[tuple[str, str], Compiled] = field(factory=dict)

    @property
    def name(self) -> str:
        """The plan's name."""
        return self.spec.name

    def evidence_schema(self, evidence_type: str) -> dict[str, str]:
        """Field → type name (without the optional marker ``?``) of an evidence type (``{}``
        for an unknown type)."""
        spec = self.spec.evidence.get(evidence_type)
        if spec is None:
            return {}
        return {name: kind.removesuffix("?") for name, kind in spec.fields.items()}

    def compiler(self, evidence_type: str | None) -> Callable[[str], Callable[..., Any]]:
        """``text → evaluate`` for expressions over ``evidence_type`` rows (for
        :func:`perfcore.domain.measure.compute_values`); derived expressions (``None`` type) see
        every indicator as a number."""

        def compile_text(text: str) -> Callable[..., Any]:
            key = (evidence_type or "", text)
            found = self._cache.get(key)
            if found is None:
                schema = (
                    self.evidence_schema(evidence_type)
                    if evidence_type
                    else dict.fromkeys(self.indicators, "number")
                )
                found = compile_formula(text, schema)
                self._cache[key] = found
            return found.evaluate

        return compile_text

    def versions_for(self, period: Period) -> dict[str, IndicatorVersion]:
        """Indicator name → the version in force for ``period``, in plan order."""
        return {name: ind.version_for(period) for name, ind in self.indicators.items()}

    def period_of(self, instant: dt.datetime, kind: PeriodKind | None = None) -> Period:
        """The period (of the plan's grain, or ``kind``) containing ``instant`` in the plan's
        time zone."""
        return Period.of_instant(kind or self.period_kind, instant, self.tz)

    def resolve(self, system: str, external_id: str) -> SubjectRef | None:
        """The plan's own identity map (``identities`` section)."""
        return self.identities.get((system, external_id))

    def manager_of(self, subject: SubjectRef) -> str | None:
        """The first person up the reporting line of ``subject`` (``None`` when unknown)."""
        from perfcore.domain.review_sla import escalation_chain

        chain = escalation_chain(subject, self.org)
        return chain[0] if chain else None

    def evidence_rows_needed(self) -> Mapping[str, str]:
        """Evidence type of every row-reading indicator."""
        out: dict[str, str] = {}
        for name, ind in self.indicators.items():
            et = ind.current.evidence_type
            if et:
                out[name] = et
        return out
