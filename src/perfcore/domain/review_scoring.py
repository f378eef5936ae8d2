"""Review scoring: rating scales, weighted criteria, and the component-weighted final score.

A review's final score combines up to four **components** — the indicator/objective score, the
self assessment, peer feedback and the manager assessment — with configurable weights
(perfcore's rules). Two rules make it trustworthy:

* a **disabled** component is *excluded* from the weighted mean, never counted as zero;
* an enabled component that has **no value yet** (no peer feedback submitted, say) is also
  excluded, and the renormalisation is reported in :class:`CompositeScore` rather than hidden.

Frappe HRMS (https://github.com/frappe/hrms), by contrast, averages goal, self and feedback
scores and counts a missing one as 0 (its appraisal final score is (goal + feedback + self) / 3);
the tests pin both the agreeing cases and the deliberate difference.

Everything is exact :class:`~decimal.Decimal`; round only at the edge with
:func:`perfcore.domain.values.quantize` (scores at ``SCORE_PLACES`` = 3).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal

from attrs import field, frozen

from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import InvalidValue, InvalidWeight
from perfcore.domain.values import SCORE_PLACES, as_decimal, quantize

__all__ = [
    "DEFAULT_COMPONENTS",
    "ComponentConfig",
    "ComponentKind",
    "CompositeScore",
    "CriteriaSet",
    "Criterion",
    "RatingScale",
    "RatingSheet",
    "ScoringConfig",
    "combine_components",
]


class ComponentKind(enum.StrEnum):
    """The parts a review's final score is made of."""

    INDICATOR = "indicator"  # indicator / objective score from the scorecard
    SELF = "self_assessment"
    PEER = "peer_feedback"
    MANAGER = "manager_assessment"


def _component_kind(value: str) -> ComponentKind:
    return parse_choice(ComponentKind, value, field="components.kind", what="review component")


def _to_decimal(value: object) -> Decimal:
    return as_decimal(value, field="weight_or_scale")


def _criteria_tuple(value: Iterable[Criterion]) -> tuple[Criterion, ...]:
    return tuple(value)


def _components_tuple(value: Iterable[ComponentConfig]) -> tuple[ComponentConfig, ...]:
    return tuple(value)


@frozen
class RatingScale:
    """A numeric rating scale ``minimum..maximum`` (Decimal) with an optional ``step``.

    ``RatingScale()`` is 1-5 in whole steps. Frappe's stars are ``RatingScale(0, 5, "0.5")``
    (Frappe HRMS stores a rating as a fraction of N stars). ``step=None`` is a continuous
    scale (any value in range). This is the one rating-scale concept of the domain: calibration
    uses the stepped form :class:`perfcore.domain.calibration.scale.RatingScale`, a subclass
    whose ``step`` is never None.

    Raises (on construction):
        InvalidValue: ``minimum >= maximum`` (field ``scale``), or a non-positive ``step``, or a
            step that does not divide the range (field ``scale.step``).
    """

    minimum: Decimal = field(default=Decimal(1), converter=_to_decimal)
    maximum: Decimal = field(default=Decimal(5), converter=_to_decimal)
    step: Decimal | None = field(default=Decimal(1))

    def __attrs_post_init__(self) -> None:
        if self.minimum >= self.maximum:
            raise InvalidValue(
                f"minimum {self.minimum} is not below maximum {self.maximum}",
                field="scale",
                valid="minimum < maximum, e.g. 1..5",
            )
        if self.step is not None:
            step = as_decimal(self.step, field="scale.step")
            object.__setattr__(self, "step", step)
            if step <= 0 or (self.maximum - self.minimum) % step != 0:
                raise InvalidValue(
                    f"step {step} does not divide the range {self.minimum}..{self.maximum}",
                    field="scale.step",
                    valid="a positive step that divides maximum - minimum, or None",
                )

    def describe(self) -> str:
        """Human text, e.g. ``1..5 in steps of 1``."""
        steps = f" in steps of {self.step}" if self.step is not None else ""
        return f"{self.minimum}..{self.maximum}{steps}"

    def check(self, value: object, *, field: str = "rating") -> Decimal:
        """Return ``value`` as a Decimal if it lies on the scale.

        Raises:
            InvalidValue: not a number, outside ``minimum..maximum`` (e.g. 6 on a 1-5 scale),
                or between steps.
        """
        d = as_decimal(value, field=field)
        if d > self.maximum:
            raise InvalidValue(
                f"{d} cannot be greater than {self.maximum}", field=field, valid=self.describe()
            )
        if d < self.minimum:
            raise InvalidValue(
                f"{d} cannot be less than {self.minimum}", field=field, valid=self.describe()
            )
        if self.step is not None and (d - self.minimum) % self.step != 0:
            raise InvalidValue(
                f"{d} is not on the scale's steps", field=field, valid=self.describe()
            )
        return d

    @property
    def values(self) -> tuple[Decimal, ...]:
        """Every legal value of a stepped scale, ascending (``1..5`` step 1 → 1, 2, 3, 4, 5).

        Raises:
            InvalidValue: the scale is continuous (``step`` is None; field ``scale.step``).
        """
        if self.step is None:
            raise InvalidValue(
                "a continuous scale has no list of values",
                field="scale.step",
                valid="a stepped scale",
            )
        count = int((self.maximum - self.minimum) / self.step)
        return tuple(self.minimum + i * self.step for i in range(count + 1))

    def clamp(self, value: float) -> float:
        """Clamp a float suggestion into ``[minimum, maximum]``."""
        low, high = float(self.minimum), float(self.maximum)
        return low if value < low else high if value > high else value

    def round_to_step(self, value: float) -> float:
        """Round a float suggestion to the nearest step (halves away from the minimum), clamped.

        On a continuous scale (``step`` None) this only clamps.
        """
        if self.step is None:
            return self.clamp(value)
        low, step = float(self.minimum), float(self.step)
        steps = int((value - low) / step + 0.5) if value >= low else 0
        return self.clamp(low + steps * step)

    def from_percent(self, percent: object, *, field: str = "percent") -> Decimal:
        """Map a 0-100 % score linearly onto the scale (0 % → minimum, 100 % → maximum).

        Values outside 0-100 are held at the ends. Frappe's goal score is ``P / 20`` on its
        0-5 scale (https://github.com/frappe/hrms, appraisal goal score), which is this mapping
        for ``RatingScale(0, 5)``.
        Not snapped to ``step``: an indicator score is a measurement, not a rating.
        """
        p = min(max(as_decimal(percent, field=field), Decimal(0)), Decimal(100))
        return self.minimum + (self.maximum - self.minimum) * p / Decimal(100)


@frozen
class Criterion:
    """A named rating criterion (or KRA) with its weight (a percentage or any positive number)."""

    name: str
    weight: Decimal = field(converter=_to_decimal)


@frozen
class CriteriaSet:
    """Weighted criteria a rating sheet is filled against.

    ``require_total`` (default 100) makes the set check that the *exact* decimal sum of weights
    equals it and reports the actual total otherwise (perfcore's rule; Frappe HRMS likewise
    refuses 30 + 69.99 and accepts 30 + 70). ``None`` accepts any positive weights and
    renormalises.

    Raises (on construction):
        InvalidWeight: empty set, duplicate names, a negative weight, all-zero weights, or a total
            different from ``require_total``.
    """

    criteria: tuple[Criterion, ...] = field(converter=_criteria_tuple)
    require_total: Decimal | None = Decimal(100)

    def __attrs_post_init__(self) -> None:
        if not self.criteria:
            raise InvalidWeight(
                "a criteria set needs at least one criterion", field="criteria", valid="1+ rows"
            )
        seen: set[str] = set()
        for i, c in enumerate(self.criteria):
            if c.name in seen:
                raise InvalidWeight(
                    f"criterion {c.name!r} appears twice", field=f"criteria[{i}].name"
                )
            seen.add(c.name)
            if c.weight < 0:
                raise InvalidWeight(
                    f"weight {c.weight} is negative", field=f"criteria[{i}].weight", valid=">= 0"
                )
        total = self.total_weight
        if total == 0:
            raise InvalidWeight(
                "all weights are zero", field="criteria", valid="at least one positive weight"
            )
        if self.require_total is not None and total != as_decimal(self.require_total):
            raise InvalidWeight(
                f"weights sum to {total}, not {self.require_total}",
                field="criteria",
                valid=f"weights whose exact sum is {self.require_total}",
            )

    @classmethod
    def of(cls, weights: Mapping[str, object], *, require_total: object = 100) -> CriteriaSet:
        """Build from ``{"Problem Solving": 70, "Excellence": 30}`` (rows in dict order).

        Raises:
            InvalidValue: a weight that is not a number (``criteria[i].weight``).
            InvalidWeight: as on construction (negative, all zero, wrong exact total).
        """
        total = None if require_total is None else as_decimal(require_total, field="require_total")
        return cls(
            tuple(
                Criterion(name, as_decimal(w, field=f"criteria[{i}].weight"))
                for i, (name, w) in enumerate(weights.items())
            ),
            total,
        )

    @property
    def total_weight(self) -> Decimal:
        """Exact sum of the weights."""
        return sum((c.weight for c in self.criteria), Decimal(0))

    @property
    def names(self) -> tuple[str, ...]:
        """Criterion names in order."""
        return tuple(c.name for c in self.criteria)


@frozen
class RatingSheet:
    """Ratings of every criterion of a :class:`CriteriaSet`, on a :class:`RatingScale`.

    :attr:`score` = Σ wᵢ·rᵢ / Σ wᵢ, exact. Frappe F2: ratings 4 (70 %) and 3.5 (30 %) on 0-5
    → 3.85 (Frappe writes it as 0.8·5·0.7 + 0.7·5·0.3).
    """

    criteria: CriteriaSet
    ratings: Mapping[str, Decimal]

    @classmethod
    def fill(
        cls,
        criteria: CriteriaSet,
        scale: RatingScale,
        ratings: Mapping[str, object],
        *,
        field: str = "ratings",
    ) -> RatingSheet:
        """Validate and build a sheet.

        Raises:
            InvalidValue: a rating is off the scale, rates an unknown criterion, or a criterion is
                left unrated (field ``<field>[<criterion>]``).
        """
        unknown = sorted(set(ratings) - set(criteria.names))
        if unknown:
            raise InvalidValue(
                f"unknown criteria {', '.join(unknown)}",
                field=field,
                valid=", ".join(criteria.names),
            )
        missing = [n for n in criteria.names if n not in ratings]
        if missing:
            raise InvalidValue(
                f"criteria not rated: {', '.join(missing)}",
                field=field,
                valid="a rating for every criterion: " + ", ".join(criteria.names),
            )
        checked = {n: scale.check(ratings[n], field=f"{field}[{n}]") for n in criteria.names}
        return cls(criteria, checked)

    @property
    def score(self) -> Decimal:
        """Weighted mean rating, exact."""
        num = sum((c.weight * self.ratings[c.name] for c in self.criteria.criteria), Decimal(0))
        return num / self.criteria.total_weight


@frozen
class ComponentConfig:
    """One component's weight and whether it takes part at all."""

    kind: ComponentKind = field(converter=_component_kind)
    weight: Decimal = field(default=Decimal(1), converter=_to_decimal)
    enabled: bool = True


#: Four enabled components with equal weight.
DEFAULT_COMPONENTS: tuple[ComponentConfig, ...] = tuple(ComponentConfig(k) for k in ComponentKind)


@frozen
class ScoringConfig:
    """How a review is scored: component weights, the rating scale, and the criteria sets.

    ``criteria`` maps a component (self, peer, manager) to the criteria its rating sheets use.

    Raises (on construction):
        InvalidWeight: a component listed twice, a negative weight, or enabled weights all zero.
    """

    components: tuple[ComponentConfig, ...] = field(
        default=DEFAULT_COMPONENTS, converter=_components_tuple
    )
    scale: RatingScale = field(factory=RatingScale)
    criteria: Mapping[ComponentKind, CriteriaSet] = field(factory=dict)

    def __attrs_post_init__(self) -> None:
        seen: set[ComponentKind] = set()
        for i, c in enumerate(self.components):
            if c.kind in seen:
                raise InvalidWeight(
                    f"component {c.kind.value} is configured twice",
                    field=f"components[{i}].kind",
                    valid="each of " + ", ".join(k.value for k in ComponentKind) + " at most once",
                )
            seen.add(c.kind)
            if c.weight < 0:
                raise InvalidWeight(
                    f"weight {c.weight} is negative",
                    field=f"components[{i}].weight",
                    valid=">= 0",
                )
        if not any(c.enabled and c.weight > 0 for c in self.components):
            raise InvalidWeight(
                "no enabled component has a positive weight",
                field="components",
                valid="at least one enabled component with weight > 0",
            )

    def component(self, kind: ComponentKind) -> ComponentConfig | None:
        """The config of ``kind`` or ``None`` when it is not configured (= disabled)."""
        return next((c for c in self.components if c.kind is kind), None)

    def is_enabled(self, kind: ComponentKind) -> bool:
        """True if ``kind`` is configured, enabled and has a positive weight."""
        c = self.component(kind)
        return c is not None and c.enabled and c.weight > 0

    def criteria_for(self, kind: ComponentKind) -> CriteriaSet:
        """Criteria for a rated component; a single criterion ``overall`` when none configured."""
        return self.criteria.get(kind) or CriteriaSet.of({"overall": 100})


@frozen
class CompositeScore:
    """The final score and how it was reached.

    Attributes:
        value: Σ wₖ·sₖ / Σ wₖ over :attr:`used` components (exact), or ``None`` if none had a value.
        used: components that contributed, with their configured weight.
        effective_weights: each used component's share wₖ / Σ w of the total.
        excluded_disabled: components configured as disabled (or weight 0, or not configured).
        excluded_missing: enabled components that had no value; their weight was renormalised away.
        renormalised: True when any enabled component was missing (the HR-visible note).
    """

    value: Decimal | None
    used: Mapping[ComponentKind, Decimal]
    effective_weights: Mapping[ComponentKind, Decimal]
    excluded_disabled: tuple[ComponentKind, ...]
    excluded_missing: tuple[ComponentKind, ...]

    @property
    def renormalised(self) -> bool:
        """True when an enabled component had no value and the others were re-weighted."""
        return bool(self.excluded_missing)

    @property
    def rounded(self) -> Decimal | None:
        """:attr:`value` rounded to ``SCORE_PLACES`` (3) half-up, for display and storage."""
        return None if self.value is None else quantize(self.value, SCORE_PLACES)

    def explain(self) -> str:
        """One sentence for an HR partner saying what counted and what was left out."""
        parts = [f"{k.value} (weight {w})" for k, w in self.used.items()]
        text = "Final score from " + (", ".join(parts) if parts else "no component")
        if self.excluded_disabled:
            text += "; disabled and excluded: " + ", ".join(k.value for k in self.excluded_disabled)
        if self.excluded_missing:
            text += "; no value yet, excluded and weights renormalised: " + ", ".join(
                k.value for k in self.excluded_missing
            )
        return text + "."


def combine_components(
    config: ScoringConfig, values: Mapping[ComponentKind, Decimal | None]
) -> CompositeScore:
    """Combine component scores into the final score (rules in the module docstring).

    ``values`` maps a component to its score on the review's scale, or ``None`` when it has no
    value yet. Disabled or unconfigured components are excluded whatever their value; enabled
    components without a value are excluded and reported as renormalised.
    """
    used: dict[ComponentKind, Decimal] = {}
    disabled: list[ComponentKind] = []
    missing: list[ComponentKind] = []
    for kind in ComponentKind:
        if not config.is_enabled(kind):
            disabled.append(kind)
            continue
        if values.get(kind) is None:
            missing.append(kind)
            continue
        cfg = config.component(kind)
        assert cfg is not None
        used[kind] = cfg.weight
    total = sum(used.values(), Decimal(0))
    if not used:
        return CompositeScore(None, {}, {}, tuple(disabled), tuple(missing))
    num = Decimal(0)
    for kind, w in used.items():
        v = values[kind]
        assert v is not None
        num += w * v
    shares = {k: w / total for k, w in used.items()}
    return CompositeScore(num / total, used, shares, tuple(disabled), tuple(missing))
