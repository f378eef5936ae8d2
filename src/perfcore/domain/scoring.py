"""Scoring rules: how one indicator value becomes a score.

A score is an exact :class:`~decimal.Decimal`. By convention ``1`` means "on target" (100 %), but a
band or step table may use any scale its author chooses (e.g. payout percent 0-200); the rule says
nothing about units beyond that. Every rule is an immutable attrs object with

* ``kind`` — a stable name (``"ratio"``, ``"band_table"`` ...) used in plans and explanations,
* ``score(value) -> Decimal`` — the score of one actual value, exact,
* ``describe() -> str`` — one line a person can read.

Sources (A actual, T target, B baseline):

* Attainment A/T, and for lower-is-better the inverse T/A or the reflection 2 − A/T floored at 0:
  Infor CPM Strategy Management user guide, decreasing KPI types
  (https://docs.infor.com/cpm/10.4.x/en-us/useradminlib/infor_cpm_strategy_management_user_guide/keo1582886726559.html),
  and the Stratec "Gestão Estratégica 2.0" manual, performance calculations and polarity
  (https://www.manula.com/manuals/stratec-informatica/gestao-estrategica-2-0/1/en/topic/calculos-de-desempenho).
* perfcore's rule: ratio scoring is refused for a target ≤ 0, because a plain ratio misleads
  there (users of SAP Strategy Management see −100 % when target and actual are both −1; its
  achievement scores are documented at
  https://help.sap.com/saphelp_stm75/helpdata/en/79/e2458916994fb89a795dee6965d622/content.htm);
  such an indicator needs a band table.
* perfcore's rule: a target range scores 1 inside ``[low, high]`` and falls off linearly outside
  (Stratec's "equal" polarity, 100 % at a point target, is the closest published analogue).
* Band tables follow annual-incentive practice — threshold, target and maximum points joined by
  straight lines, nothing paid below threshold, the maximum as a cap: Meridian Compensation
  Partners, "Annual incentive basics" (https://meridiancp.com/insights/annual-incentive-basics).
  As a rule: below the first point the score is 0 (a deliberate cliff), between points it is
  interpolated linearly, above the last point the last y holds.
* perfcore's rule: progress is measured from the baseline, (A − B)/(T − B), unclamped, so it
  works for decreasing targets and shows over- and under-achievement; any cap belongs to a
  scoring rule that says so. okr-tracker's detail view uses the same formula
  (https://github.com/oslokommune/okr-tracker).

Construction validates; a bad configuration raises :class:`~perfcore.domain.errors.InvalidScoring`
naming the field (``points[2].x``) and what would be valid.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Protocol, runtime_checkable

from attrs import field, frozen

from perfcore.domain.errors import InvalidScoring, InvalidValue
from perfcore.domain.values import as_decimal

__all__ = [
    "RULE_KINDS",
    "AttainmentRatio",
    "BandPoint",
    "BandTable",
    "BaselineProgress",
    "Direction",
    "InverseRatio",
    "Reflection",
    "ScoringRule",
    "StepTable",
    "TargetRange",
    "apply_cap",
    "attainment",
    "make_rule",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO = Decimal(2)


class Direction(enum.StrEnum):
    """Which way is good for an indicator (ISO 22400-1 calls this the KPI's *trend*)."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    TARGET_RANGE = "target_range"


@runtime_checkable
class ScoringRule(Protocol):
    """What every scoring rule offers (the classes in this module; plugins may add more)."""

    @property
    def kind(self) -> str:
        """Stable name of the method, e.g. ``"band_table"``."""
        ...

    def score(self, value: Decimal) -> Decimal:
        """The exact score of one actual ``value``."""
        ...

    def describe(self) -> str:
        """One readable line: the method and its parameters."""
        ...


def _dec(name: str) -> Callable[[object], Decimal]:
    """attrs converter factory: exact Decimal, errors as InvalidScoring naming ``name``."""

    def convert(value: object) -> Decimal:
        try:
            return as_decimal(value, field=name)
        except InvalidValue as exc:
            raise InvalidScoring(exc.message, field=name, valid=exc.valid) from None

    return convert


def _opt_dec(name: str) -> Callable[[object], Decimal | None]:
    """Like :func:`_dec` but ``None`` stays ``None``."""
    convert = _dec(name)

    def opt(value: object) -> Decimal | None:
        return None if value is None else convert(value)

    return opt


def _baseline(value: object) -> Decimal:
    return _dec("baseline")(value)


def _below(value: object) -> Decimal:
    return _dec("below")(value)


def _falloff(value: object) -> Decimal:
    return _dec("falloff")(value)


def _high(value: object) -> Decimal:
    return _dec("high")(value)


def _low(value: object) -> Decimal:
    return _dec("low")(value)


def _target(value: object) -> Decimal:
    return _dec("target")(value)


def _x(value: object) -> Decimal:
    return _dec("x")(value)


def _y(value: object) -> Decimal:
    return _dec("y")(value)


def _cap(value: object) -> Decimal | None:
    return _opt_dec("cap")(value)


def _fmt(d: Decimal) -> str:
    """Plain text of a decimal without exponent noise (``1E+2`` -> ``100``)."""
    text = format(d.normalize(), "f")
    return text if text != "-0" else "0"


def _positive_target(target: Decimal, method: str) -> None:
    if target <= 0:
        raise InvalidScoring(
            f"{method} scoring needs a target above 0, got {_fmt(target)}; a ratio against a "
            "zero or negative target has no meaning",
            field="target",
            valid="target > 0, or use a band table (scoring: band_table) for this indicator",
        )


def attainment(value: Decimal, target: Decimal) -> Decimal | None:
    """Attainment A/T, or ``None`` when the target is ≤ 0.

    Informational: a scorecard shows it next to the score whatever the scoring rule is.
    """
    if target <= 0:
        return None
    return value / target


def apply_cap(score: Decimal, cap: Decimal | None) -> Decimal:
    """``min(score, cap)``; ``cap=None`` leaves the score as it is.

    Used per indicator *before* weighting so over-achievement on one indicator cannot mask misses
    on others (perfcore's rule).
    """
    if cap is None:
        return score
    return min(score, cap)


# --------------------------------------------------------------------------- ratio rules


@frozen
class AttainmentRatio:
    """Higher-is-better attainment: score = A / T (sources in the module docstring).

    Raises (on construction):
        InvalidScoring: ``target`` ≤ 0 (field ``target``); use a :class:`BandTable` instead.
    """

    target: Decimal = field(converter=_target)

    def __attrs_post_init__(self) -> None:
        _positive_target(self.target, "ratio")

    @property
    def kind(self) -> str:
        """``"ratio"``."""
        return "ratio"

    def score(self, value: Decimal) -> Decimal:
        """A / T, unclamped (110 % attainment scores 1.1)."""
        return as_decimal(value) / self.target

    def describe(self) -> str:
        """E.g. ``attainment ratio actual / 120``."""
        return f"attainment ratio actual / {_fmt(self.target)}"


@frozen
class InverseRatio:
    """Lower-is-better, inverse ratio: score = T / A (sources in the module docstring).

    Non-linear and unbounded as A → 0, so an actual of 0 (or below) scores ``cap``; without a cap
    such an actual is refused when scored.

    Raises:
        InvalidScoring: on construction, ``target`` ≤ 0 or ``cap`` ≤ 0; on :meth:`score`, an
            actual ≤ 0 with no ``cap`` (field ``value``).
    """

    target: Decimal = field(converter=_target)
    cap: Decimal | None = field(default=None, converter=_cap)

    def __attrs_post_init__(self) -> None:
        _positive_target(self.target, "inverse ratio")
        if self.cap is not None and self.cap <= 0:
            raise InvalidScoring(
                f"cap {_fmt(self.cap)} is not above 0", field="cap", valid="a cap above 0"
            )

    @property
    def kind(self) -> str:
        """``"inverse_ratio"``."""
        return "inverse_ratio"

    def score(self, value: Decimal) -> Decimal:
        """T / A; ``cap`` when A ≤ 0 (and the result never exceeds ``cap``)."""
        a = as_decimal(value)
        if a <= 0:
            if self.cap is None:
                raise InvalidScoring(
                    f"inverse ratio T/A is unbounded for an actual of {_fmt(a)}",
                    field="value",
                    valid="an actual above 0, or give the inverse ratio a cap",
                )
            return self.cap
        return apply_cap(self.target / a, self.cap)

    def describe(self) -> str:
        """E.g. ``inverse ratio 2 / actual (lower is better), cap 2``."""
        cap = f", cap {_fmt(self.cap)}" if self.cap is not None else ""
        return f"inverse ratio {_fmt(self.target)} / actual (lower is better){cap}"


@frozen
class Reflection:
    """Lower-is-better, linear reflection: score = max(0, 2 − A/T) (Infor CPM, Stratec).

    A = T scores 1, A = 0 scores 2, A ≥ 2T scores 0 (Infor CPM "1 − (A − T)/|T|" for T > 0).

    Raises (on construction):
        InvalidScoring: ``target`` ≤ 0.
    """

    target: Decimal = field(converter=_target)

    def __attrs_post_init__(self) -> None:
        _positive_target(self.target, "reflection")

    @property
    def kind(self) -> str:
        """``"reflection"``."""
        return "reflection"

    def score(self, value: Decimal) -> Decimal:
        """2 − A/T, floored at 0."""
        return max(_ZERO, _TWO - as_decimal(value) / self.target)

    def describe(self) -> str:
        """E.g. ``reflection 2 − actual / 2, floored at 0 (lower is better)``."""
        return f"reflection 2 − actual / {_fmt(self.target)}, floored at 0 (lower is better)"


@frozen
class BaselineProgress:
    """Progress from the baseline: score = (A − B) / (T − B), unclamped (perfcore's rule).

    Works for decreasing targets (B = 100, T = 20, A = 80 → 0.25) and may be negative or above 1;
    clamping is a separate, explicit step (:func:`apply_cap`, or a band table).

    Raises (on construction):
        InvalidScoring: ``target`` equals ``baseline`` (there is no distance to progress over).
    """

    baseline: Decimal = field(converter=_baseline)
    target: Decimal = field(converter=_target)

    def __attrs_post_init__(self) -> None:
        if self.target == self.baseline:
            raise InvalidScoring(
                f"target {_fmt(self.target)} equals the baseline; progress is undefined",
                field="target",
                valid=f"a target different from the baseline {_fmt(self.baseline)}",
            )

    @property
    def kind(self) -> str:
        """``"baseline_progress"``."""
        return "baseline_progress"

    def score(self, value: Decimal) -> Decimal:
        """(A − B) / (T − B)."""
        return (as_decimal(value) - self.baseline) / (self.target - self.baseline)

    def describe(self) -> str:
        """E.g. ``progress from baseline (actual − 100) / (20 − 100), unclamped``."""
        b, t = _fmt(self.baseline), _fmt(self.target)
        return f"progress from baseline (actual − {b}) / ({t} − {b}), unclamped"


@frozen
class TargetRange:
    """Target-range scoring (perfcore's rule): 1 inside ``[low, high]``.

    Outside the range the score falls linearly to 0 over ``falloff`` (in the indicator's unit):
    score = max(0, 1 − distance / falloff).

    Raises (on construction):
        InvalidScoring: ``low`` > ``high`` (field ``high``) or ``falloff`` ≤ 0 (field ``falloff``).
    """

    low: Decimal = field(converter=_low)
    high: Decimal = field(converter=_high)
    falloff: Decimal = field(converter=_falloff)

    def __attrs_post_init__(self) -> None:
        if self.high < self.low:
            raise InvalidScoring(
                f"range high {_fmt(self.high)} is below low {_fmt(self.low)}",
                field="high",
                valid=f"high >= low ({_fmt(self.low)})",
            )
        if self.falloff <= 0:
            raise InvalidScoring(
                f"falloff {_fmt(self.falloff)} is not above 0",
                field="falloff",
                valid="the distance outside the range at which the score reaches 0, above 0",
            )

    @property
    def kind(self) -> str:
        """``"target_range"``."""
        return "target_range"

    def score(self, value: Decimal) -> Decimal:
        """1 inside the range, linear decay to 0 over ``falloff`` on either side."""
        a = as_decimal(value)
        distance = self.low - a if a < self.low else (a - self.high if a > self.high else _ZERO)
        return max(_ZERO, _ONE - distance / self.falloff)

    def describe(self) -> str:
        """E.g. ``target range 18..22, falling to 0 at 3 outside``."""
        return (
            f"target range {_fmt(self.low)}..{_fmt(self.high)}, "
            f"falling to 0 at {_fmt(self.falloff)} outside"
        )


# --------------------------------------------------------------------------- tables


@frozen
class BandPoint:
    """One breakpoint of a band or step table: at input ``x`` the score is ``y``."""

    x: Decimal = field(converter=_x)
    y: Decimal = field(converter=_y)


def _points(value: Iterable[BandPoint | tuple[object, object]]) -> tuple[BandPoint, ...]:
    out: list[BandPoint] = []
    for i, p in enumerate(value):
        try:
            out.append(p if isinstance(p, BandPoint) else BandPoint(p[0], p[1]))
        except InvalidScoring as exc:
            raise exc.at(f"points[{i}]") from None
        except (TypeError, IndexError):
            raise InvalidScoring(
                f"{p!r} is not a point", field=f"points[{i}]", valid="a pair (x, y)"
            ) from None
    return tuple(out)


def _check_points(points: Sequence[BandPoint], *, minimum: int) -> None:
    if len(points) < minimum:
        raise InvalidScoring(
            f"a table needs at least {minimum} point(s), got {len(points)}",
            field="points",
            valid=f"{minimum} or more (x, y) points with strictly increasing x",
        )
    for i in range(1, len(points)):
        if points[i].x <= points[i - 1].x:
            raise InvalidScoring(
                f"point x {_fmt(points[i].x)} does not come after the previous point's x "
                f"{_fmt(points[i - 1].x)} (points overlap or are out of order)",
                field=f"points[{i}].x",
                valid=f"x strictly greater than {_fmt(points[i - 1].x)}",
            )


def _direction(value: object) -> Direction:
    try:
        d = Direction(str(value))
    except ValueError:
        raise InvalidScoring(
            f"unknown direction {value!r}",
            field="direction",
            valid="higher_is_better or lower_is_better",
        ) from None
    if d is Direction.TARGET_RANGE:
        raise InvalidScoring(
            "a table scores one direction; use TargetRange for a target range",
            field="direction",
            valid="higher_is_better or lower_is_better",
        )
    return d


@frozen
class BandTable:
    """Piecewise-linear band table (threshold / target / stretch / cap), as in Meridian's.

    ``points`` are (x, y) pairs with strictly increasing x; between points the score is the
    straight line. Outside the points:

    * ``higher_is_better`` (default): below the first x → 0 (a deliberate cliff); above the last x
      → the last y holds (the cap).
    * ``lower_is_better`` (scrap, defects): above the last x → 0; below the first x → the first y
      holds.

    Example (§2.2): points (90, 50) (100, 100) (120, 200) score 85→0, 95→75, 110→150, 130→200.

    Raises (on construction):
        InvalidScoring: fewer than 2 points (field ``points``), a point whose x is not above the
            previous one (field ``points[i].x``), or a bad direction.
    """

    points: tuple[BandPoint, ...] = field(converter=_points)
    direction: Direction = field(default=Direction.HIGHER_IS_BETTER, converter=_direction)

    def __attrs_post_init__(self) -> None:
        _check_points(self.points, minimum=2)

    @classmethod
    def threshold_target_stretch(
        cls,
        *,
        threshold: tuple[object, object],
        target: tuple[object, object],
        stretch: tuple[object, object] | None = None,
        direction: Direction | str = Direction.HIGHER_IS_BETTER,
    ) -> BandTable:
        """Build from named (x, y) points; for lower-is-better give them in decreasing x."""
        pts = [threshold, target] + ([stretch] if stretch is not None else [])
        if Direction(direction) is Direction.LOWER_IS_BETTER:
            pts.reverse()
        return cls(tuple(BandPoint(x, y) for x, y in pts), direction=direction)

    @property
    def kind(self) -> str:
        """``"band_table"``."""
        return "band_table"

    def score(self, value: Decimal) -> Decimal:
        """Interpolated score; see the class docstring for the ends."""
        x = as_decimal(value)
        pts = self.points
        first, last = pts[0], pts[-1]
        if x < first.x:
            return _ZERO if self.direction is Direction.HIGHER_IS_BETTER else first.y
        if x > last.x:
            return last.y if self.direction is Direction.HIGHER_IS_BETTER else _ZERO
        for lo, hi in pairwise(pts):
            if lo.x <= x <= hi.x:
                return lo.y + (hi.y - lo.y) * (x - lo.x) / (hi.x - lo.x)
        return last.y  # pragma: no cover - x == last.x handled by the loop

    def describe(self) -> str:
        """E.g. ``band table 90→50, 100→100, 120→200 (below 90 → 0, above 120 → 200)``."""
        body = ", ".join(f"{_fmt(p.x)}→{_fmt(p.y)}" for p in self.points)
        f, la = self.points[0], self.points[-1]
        if self.direction is Direction.HIGHER_IS_BETTER:
            ends = f"below {_fmt(f.x)} → 0, above {_fmt(la.x)} → {_fmt(la.y)}"
        else:
            ends = f"below {_fmt(f.x)} → {_fmt(f.y)}, above {_fmt(la.x)} → 0 (lower is better)"
        return f"band table {body} ({ends})"


@frozen
class StepTable:
    """Step table: the score of the last step reached, no interpolation.

    ``higher_is_better``: the y of the largest x with x ≤ value; below the first x → ``below``
    (default 0). ``lower_is_better``: the y of the smallest x with value ≤ x; above the last x →
    ``below``.

    Raises (on construction):
        InvalidScoring: no points, or x not strictly increasing (field ``points[i].x``).
    """

    points: tuple[BandPoint, ...] = field(converter=_points)
    direction: Direction = field(default=Direction.HIGHER_IS_BETTER, converter=_direction)
    below: Decimal = field(default=_ZERO, converter=_below)

    def __attrs_post_init__(self) -> None:
        _check_points(self.points, minimum=1)

    @property
    def kind(self) -> str:
        """``"step_table"``."""
        return "step_table"

    def score(self, value: Decimal) -> Decimal:
        """The y of the step reached."""
        x = as_decimal(value)
        if self.direction is Direction.HIGHER_IS_BETTER:
            reached = [p.y for p in self.points if p.x <= x]
            return reached[-1] if reached else self.below
        reached = [p.y for p in self.points if x <= p.x]
        return reached[0] if reached else self.below

    def describe(self) -> str:
        """E.g. ``step table ≥80→40, ≥100→50 (otherwise 0)``."""
        sign = "≥" if self.direction is Direction.HIGHER_IS_BETTER else "≤"
        body = ", ".join(f"{sign}{_fmt(p.x)}→{_fmt(p.y)}" for p in self.points)
        return f"step table {body} (otherwise {_fmt(self.below)})"


# --------------------------------------------------------------------------- from plan data

_RULE_PARAMS: dict[str, tuple[type[ScoringRule], tuple[str, ...], tuple[str, ...]]] = {
    # kind: (class, required parameters, optional parameters)
    "ratio": (AttainmentRatio, ("target",), ()),
    "inverse_ratio": (InverseRatio, ("target",), ("cap",)),
    "reflection": (Reflection, ("target",), ()),
    "baseline_progress": (BaselineProgress, ("baseline", "target"), ()),
    "target_range": (TargetRange, ("low", "high", "falloff"), ()),
    "band_table": (BandTable, ("points",), ("direction",)),
    "step_table": (StepTable, ("points",), ("direction", "below")),
}

RULE_KINDS: tuple[str, ...] = tuple(_RULE_PARAMS)
"""The scoring rule kinds :func:`make_rule` understands."""


def make_rule(kind: str, params: Mapping[str, object], *, field: str = "scoring") -> ScoringRule:
    """Build a scoring rule from plan data.

    Example: ``make_rule("band_table", {"points": [[90, 50], [100, 100], [120, 200]]})``.

    Parameters per kind: ``ratio``/``reflection`` target; ``inverse_ratio`` target, cap?;
    ``baseline_progress`` baseline, target; ``target_range`` low, high, falloff; ``band_table``
    points, direction?; ``step_table`` points, direction?, below?.

    Raises:
        InvalidScoring: unknown kind (field ``scoring.kind``), a missing or unknown parameter
            (field ``scoring.<param>``), or the rule's own validation error, with its path under
            ``field``.
    """
    spec = _RULE_PARAMS.get(kind)
    if spec is None:
        raise InvalidScoring(
            f"unknown scoring method {kind!r}", field=f"{field}.kind", valid=", ".join(RULE_KINDS)
        )
    cls, required, optional = spec
    allowed = (*required, *optional)
    for name in params:
        if name not in allowed:
            raise InvalidScoring(
                f"{kind} scoring has no parameter {name!r}",
                field=f"{field}.{name}",
                valid=", ".join(allowed),
            )
    for name in required:
        if name not in params:
            raise InvalidScoring(
                f"{kind} scoring needs {name!r}", field=f"{field}.{name}", valid=", ".join(allowed)
            )
    try:
        return cls(**params)
    except InvalidValue as exc:
        raise exc.at(field) from None
    except TypeError:
        raise InvalidScoring(
            f"{kind} scoring parameters have the wrong shape: {dict(params)!r}",
            field=field,
            valid=f"{', '.join(allowed)}; points as a list of [x, y] pairs",
        ) from None
