"""Objectives, key results and the objective tree with its weighted roll-up.

An :class:`Objective` is either a **key result** (it has a ``target``; progress is measured from its
``baseline``) or a **group** (its progress is the weighted mean of its children). Objectives live in
an ``ObjectiveTree`` (:mod:`perfcore.domain.objective_tree`), which computes progress on demand,
so moving, re-weighting, archiving or deleting a node is always reflected in the old and the new
ancestors.

Rules (perfcore's own; ``docs/objectives.md`` explains them for users with a worked example):

* key-result progress = (current − baseline) / (target − baseline), **unclamped** (−0.25 and 1.5 are
  legal) and correct for decreasing targets; a missing ``current`` counts as the baseline;
  ``target == baseline`` gives *no value* (never 0, never an exception);
* a group's progress = Σ wᵢ·pᵢ / Σ wᵢ over its **non-archived** children that have a value; children
  without a value are left out and the :class:`RollUp` explanation says so; a group with nothing to
  average has no value;
* weights are explicit (default 1, any non-negative decimal) or, when the parent asks for
  :attr:`Weighting.TARGET`, each key-result child's ``target``;
* arithmetic is exact (:class:`fractions.Fraction` inside, one conversion to a 28-digit
  :class:`~decimal.Decimal` at the end), so results do not depend on the order children were added;
* **alignment across owners** is modelled as the parent link itself: a team leader's objective may
  have the plant manager's objective as its parent and then feeds that objective's roll-up
  (``ObjectiveTree.contributors`` lists such cross-owner links). Frappe HRMS
  (https://github.com/frappe/hrms) refuses a parent with another owner; perfcore deliberately
  allows it.

okr-tracker (https://github.com/oslokommune/okr-tracker) shows the same unclamped key-result
formula in its detail view; unlike perfcore, it clamps the progress it stores to [0, 1].

Progress values are fractions of the way from baseline to target: ``Decimal("0.5")`` is 50 %.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Final, cast

from attrs import evolve, field, frozen

from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import (
    DomainError,
    InvalidPeriod,
    InvalidTransition,
    InvalidValue,
    InvalidWeight,
)
from perfcore.domain.values import SubjectRef, as_decimal

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Objective",
    "ObjectiveState",
    "Weighting",
    "as_weight",
    "baseline_progress",
    "to_decimal",
]


class ObjectiveState(enum.StrEnum):
    """Life-cycle state of an objective."""

    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"
    ARCHIVED = "archived"


#: Allowed state changes. ``closed -> active`` is a reopen, ``archived -> active`` an unarchive.
ALLOWED_TRANSITIONS: Final[Mapping[ObjectiveState, frozenset[ObjectiveState]]] = {
    ObjectiveState.DRAFT: frozenset({ObjectiveState.ACTIVE, ObjectiveState.ARCHIVED}),
    ObjectiveState.ACTIVE: frozenset({ObjectiveState.CLOSED, ObjectiveState.ARCHIVED}),
    ObjectiveState.CLOSED: frozenset({ObjectiveState.ACTIVE, ObjectiveState.ARCHIVED}),
    ObjectiveState.ARCHIVED: frozenset({ObjectiveState.ACTIVE}),
}


class Weighting(enum.StrEnum):
    """How a group objective weighs its children."""

    EXPLICIT = "explicit"  #: each child's own ``weight``
    TARGET = "target"  #: proportional to each key-result child's ``target``


_PRECISION: Final = 28


def to_decimal(value: Fraction) -> Decimal:
    """Convert an exact fraction to a Decimal with 28 significant digits (ROUND_HALF_EVEN).

    Uses a private context so the caller's decimal context cannot change the result.
    """
    with decimal.localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = decimal.ROUND_HALF_EVEN
        return Decimal(value.numerator) / Decimal(value.denominator)


def _fraction(value: Decimal) -> Fraction:
    return Fraction(value)


def baseline_progress(
    baseline: Decimal, target: Decimal, current: Decimal | None
) -> Fraction | None:
    """Exact progress from ``baseline`` to ``target``: (current − baseline) / (target − baseline).

    Unclamped; works for decreasing targets (baseline > target). ``current=None`` counts as the
    baseline (progress 0). Returns ``None`` ("no value") when ``target == baseline``.

    Source: okr-tracker's detail percentage (https://github.com/oslokommune/okr-tracker), without
    its server-side clamp.
    """
    span = _fraction(target) - _fraction(baseline)
    if span == 0:
        return None
    now = baseline if current is None else current
    return (_fraction(now) - _fraction(baseline)) / span


def as_weight(value: object, *, field: str) -> Decimal:
    """``value`` as an exact, non-negative Decimal weight (objectives, milestones).

    Raises:
        InvalidWeight: not a finite number, or negative; ``field`` is the path given (e.g.
            ``objectives[okr-7].weight``) and ``valid`` reads "a decimal >= 0".
    """
    try:
        w = as_decimal(value, field=field)
    except DomainError as exc:
        raise InvalidWeight(exc.message, field=field, valid="a decimal >= 0") from None
    if w < 0:
        raise InvalidWeight(f"weight {w} is negative", field=field, valid="a decimal >= 0")
    return w


def _soft_decimal(value: object) -> Decimal:
    """Converter: a Decimal when possible; otherwise the raw value, refused with its field path
    by ``Objective.__attrs_post_init__`` (a converter does not know the objective's id)."""
    try:
        return as_decimal(value)
    except DomainError:
        return cast(Decimal, value)


def _soft_weighting(value: object) -> Weighting:
    """Converter: a Weighting when possible; otherwise the raw value, refused with its field path
    by ``Objective.__attrs_post_init__``."""
    try:
        return Weighting(str(value))
    except ValueError:
        return cast(Weighting, value)


def _soft_state(value: object) -> ObjectiveState:
    """Converter: an ObjectiveState when possible; otherwise the raw value (refused later)."""
    try:
        return ObjectiveState(str(value))
    except ValueError:
        return cast(ObjectiveState, value)


def _soft_optional_decimal(value: object) -> Decimal | None:
    return None if value is None else _soft_decimal(value)


def _check_id(instance: object, attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise InvalidValue(
            f"{value!r} is not a valid objective id",
            field="objectives[].id",
            valid="non-empty text without leading/trailing spaces",
        )


@frozen
class Objective:
    """One node of an objective tree (immutable; change it through :class:`ObjectiveTree`).

    Attributes:
        id: unique id within the tree, e.g. ``"okr-7"``.
        title: human title.
        owner: whose objective it is (person or team).
        parent_id: id of the parent objective (may belong to another owner: alignment), or None.
        weight: explicit weight used by an EXPLICIT-weighted parent; decimal >= 0, default 1.
        weighting: how *this* objective weighs its own children.
        baseline, target, current: a key result's numbers (same unit). Giving ``target`` makes
            the objective a key result; ``baseline`` then defaults to 0 and ``current`` to None
            (= baseline).
        unit: unit of the key-result numbers, free text ("pcs", "%", "h").
        state: draft / active / closed / archived (default draft).
        start, due: optional local dates; ``due`` must not precede ``start``.

    Raises (on construction):
        InvalidValue: a number that is not a finite decimal; ``baseline``/``current`` without
            ``target``; an unknown ``weighting`` or ``state`` name. Field paths read
            ``objectives[<id>].<field>``.
        InvalidWeight: a negative weight (``objectives[<id>].weight``).
        InvalidPeriod: ``due`` before ``start``.
    """

    id: str = field(validator=_check_id)
    title: str = ""
    owner: SubjectRef | None = None
    parent_id: str | None = None
    weight: Decimal = field(default=Decimal(1), converter=_soft_decimal)
    weighting: Weighting = field(default=Weighting.EXPLICIT, converter=_soft_weighting)
    baseline: Decimal | None = field(default=None, converter=_soft_optional_decimal)
    target: Decimal | None = field(default=None, converter=_soft_optional_decimal)
    current: Decimal | None = field(default=None, converter=_soft_optional_decimal)
    unit: str = ""
    state: ObjectiveState = field(default=ObjectiveState.DRAFT, converter=_soft_state)
    start: dt.date | None = None
    due: dt.date | None = None

    def __attrs_post_init__(self) -> None:
        here = f"objectives[{self.id}]"
        as_weight(self.weight, field=f"{here}.weight")
        parse_choice(Weighting, self.weighting, field=f"{here}.weighting", what="weighting")
        parse_choice(ObjectiveState, self.state, field=f"{here}.state", what="objective state")
        for name in ("baseline", "target", "current"):
            raw = getattr(self, name)
            if raw is not None and not isinstance(raw, Decimal):
                as_decimal(raw, field=f"{here}.{name}")  # raises with the full path
        if self.target is None:
            for name in ("baseline", "current"):
                if getattr(self, name) is not None:
                    raise InvalidValue(
                        f"{name} given without a target",
                        field=f"{here}.{name}",
                        valid="set target as well (a key result), or leave baseline/current empty",
                    )
        elif self.baseline is None:
            object.__setattr__(self, "baseline", Decimal(0))
        if self.start is not None and self.due is not None and self.due < self.start:
            raise InvalidPeriod(
                f"due date {self.due} is before start {self.start}",
                field=f"{here}.due",
                valid=f"a date on or after {self.start}",
            )

    # -- queries -------------------------------------------------------------------------
    @property
    def is_key_result(self) -> bool:
        """True when the objective measures its own numbers (it has a target)."""
        return self.target is not None

    @property
    def is_archived(self) -> bool:
        """True in state ``archived`` (excluded from every roll-up)."""
        return self.state is ObjectiveState.ARCHIVED

    def own_progress(self) -> Decimal | None:
        """A key result's unclamped progress from baseline (1 = 100 %), or None.

        None for a group objective (use ``ObjectiveTree.progress``) and when
        ``target == baseline``.
        """
        if self.target is None or self.baseline is None:
            return None
        p = baseline_progress(self.baseline, self.target, self.current)
        return None if p is None else to_decimal(p)

    def remaining(self) -> Decimal | None:
        """How far (in the key result's unit) current still is from target; 0 once reached.

        Mirrors okr-tracker's "remaining", max(0, distance to target). None for a group objective.
        """
        if self.target is None or self.baseline is None:
            return None
        now = self.baseline if self.current is None else self.current
        if self.target >= self.baseline:
            return max(Decimal(0), self.target - now)
        return max(Decimal(0), now - self.target)

    def is_overdue(self, today: dt.date) -> bool:
        """True when ``today`` (the clock's local date) is after ``due`` and the objective is
        still open (draft or active). Closed and archived objectives are never overdue."""
        if self.due is None or self.state in (ObjectiveState.CLOSED, ObjectiveState.ARCHIVED):
            return False
        return today > self.due

    # -- changes (return new objects) ----------------------------------------------------
    def transition(self, to: ObjectiveState | str) -> Objective:
        """Return a copy in state ``to``.

        Raises:
            InvalidTransition: ``to`` is not allowed from the current state
                (see :data:`ALLOWED_TRANSITIONS`); field ``objectives[<id>].state``.
            InvalidValue: ``to`` is not a state name.
        """
        target = parse_choice(
            ObjectiveState, to, field=f"objectives[{self.id}].state", what="objective state"
        )
        allowed = ALLOWED_TRANSITIONS[self.state]
        if target not in allowed:
            raise InvalidTransition(
                f"objective {self.id!r} cannot go from {self.state.value} to {target.value}",
                current=self.state.value,
                requested=target.value,
                allowed=sorted(s.value for s in allowed),
                field=f"objectives[{self.id}].state",
            )
        return evolve(self, state=target)
