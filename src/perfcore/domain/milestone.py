"""Milestones (the NPI scenario): owner, due date, deliverables, lateness, escalation, on-time rate.

In ``examples/npi`` an electronics plant's new product introduction has a dozen milestones
(ID freeze, mould trial complete, first material arrival, ...), each with an owner, a deliverable
template and validation rules; a late milestone escalates to the project manager and the department
head with a root-cause category; node weights change when customer orders change; the on-time rate
is the headline indicator.

Time: every query takes the clock's local date (``today`` / ``as_of``) as an argument; completion
takes an aware instant and the plan's time zone, and stores the local completion date. Lateness is
counted in whole calendar days: completed (or still open) the day after the due date = 1 day late.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Final

from attrs import evolve, field, frozen

from perfcore.domain.choices import parse_choice
from perfcore.domain.deliverable import DeliverableMetadata, DeliverableRequirement
from perfcore.domain.errors import (
    Conflict,
    InvalidTransition,
    InvalidValue,
    NotFound,
)
from perfcore.domain.evidence import EvidenceType, FieldValue, Reason
from perfcore.domain.objective import as_weight, to_decimal
from perfcore.domain.values import SubjectRef, as_decimal, ensure_aware

__all__ = [
    "MILESTONE_OUTCOME",
    "Escalation",
    "EscalationTarget",
    "Milestone",
    "MilestonePlan",
    "OnTimeRate",
    "RootCause",
    "WeightChange",
    "on_time_rate",
]


class RootCause(enum.StrEnum):
    """Why a milestone was late (required once it is late)."""

    SUPPLIER_LEAD_TIME_SLIP = "supplier_lead_time_slip"
    INTERNAL_REVIEW_NOT_CLOSED = "internal_review_not_closed"
    DESIGN_CHANGE = "design_change"
    RESOURCE_SHORTAGE = "resource_shortage"
    OTHER = "other"


_CAUSES: Final = ", ".join(c.value for c in RootCause)

#: Evidence type for one milestone's outcome, so an indicator can compute the on-time rate as a
#: ratio of sums: ``sum(on_time_count) / sum(counted)`` (see :meth:`Milestone.outcome_fields`).
MILESTONE_OUTCOME: Final = EvidenceType.declare(
    "milestone_outcome",
    {
        "milestone": "text",
        "due": "date",
        "completed_on": "date?",
        "counted": "number",
        "on_time_count": "number",
        "days_late": "number",
        "weight": "number",
        "root_cause": "text?",
    },
)


@frozen
class EscalationTarget:
    """Who is told when a milestone is late: a ``role`` (``"project_manager"``,
    ``"department_head"``) and the subject holding it."""

    role: str
    subject: SubjectRef


@frozen
class Escalation:
    """A late, still-open milestone and whom to tell.

    ``needs_root_cause`` is True while no root-cause category has been recorded."""

    milestone_id: str
    owner: SubjectRef
    days_late: int
    targets: tuple[EscalationTarget, ...]
    root_cause: RootCause | None

    @property
    def needs_root_cause(self) -> bool:
        """True while the late milestone has no root-cause category."""
        return self.root_cause is None


def _cause(value: RootCause | str | None, path: str) -> RootCause | None:
    if value is None:
        return None
    return parse_choice(RootCause, value, field=path, what="root cause")


def _soft_decimal(value: object) -> Decimal:
    """Converter: Decimal when possible, else the raw value, refused with its path afterwards."""
    try:
        return as_decimal(value)
    except InvalidValue:
        return value  # type: ignore[return-value]


def _milestones(value: Iterable[Milestone]) -> tuple[Milestone, ...]:
    return tuple(value)


def _changes(value: Iterable[WeightChange]) -> tuple[WeightChange, ...]:
    return tuple(value)


@frozen
class Milestone:
    """One milestone of a plan (immutable; changes return a new object).

    Attributes:
        id, title: identity and name (``"mould-trial"``, "Mould trial complete").
        owner: who delivers it.
        due: local due date (inclusive: completing on the due date is on time).
        weight: node weight (decimal >= 0, default 1), changeable via :class:`MilestonePlan`.
        requirements: deliverables and their rules.
        escalation: targets told when it is late.
        completed_at / completed_on: aware completion instant and its local date (None if open).
        deliverables: metadata of the files accepted at completion.
        root_cause, root_cause_note: why it was late.

    Raises (on construction):
        InvalidWeight: negative weight (``milestones[<id>].weight``).
        InvalidValue: unknown root cause (``milestones[<id>].root_cause``).
    """

    id: str
    title: str
    owner: SubjectRef
    due: dt.date
    weight: Decimal = field(default=Decimal(1), converter=_soft_decimal)
    requirements: tuple[DeliverableRequirement, ...] = field(default=(), converter=tuple)
    escalation: tuple[EscalationTarget, ...] = field(default=(), converter=tuple)
    completed_at: dt.datetime | None = None
    completed_on: dt.date | None = None
    deliverables: Mapping[str, DeliverableMetadata] = field(factory=dict)
    root_cause: RootCause | None = None
    root_cause_note: str = ""

    def __attrs_post_init__(self) -> None:
        here = f"milestones[{self.id}]"
        object.__setattr__(self, "weight", as_weight(self.weight, field=f"{here}.weight"))
        object.__setattr__(self, "root_cause", _cause(self.root_cause, f"{here}.root_cause"))

    @property
    def is_completed(self) -> bool:
        """True once completed."""
        return self.completed_on is not None

    def days_late(self, today: dt.date) -> int:
        """Whole days past due: at completion if completed, else as of ``today``; 0 if not late."""
        end = self.completed_on if self.completed_on is not None else today
        return max(0, (end - self.due).days)

    def is_late(self, today: dt.date) -> bool:
        """True when :meth:`days_late` > 0."""
        return self.days_late(today) > 0

    def on_time(self) -> bool | None:
        """True/False once completed (completed on or before the due date); None while open."""
        return None if self.completed_on is None else self.completed_on <= self.due

    def check_deliverables(self, files: Mapping[str, DeliverableMetadata]) -> list[Reason]:
        """Every broken deliverable rule (empty = all good); paths
        ``milestones[<id>].deliverables.<name>.<what>``."""
        here = f"milestones[{self.id}].deliverables"
        out: list[Reason] = []
        for req in self.requirements:
            out.extend(req.check(files.get(req.name), here))
        return out

    def complete(
        self,
        at: dt.datetime,
        tz: dt.tzinfo,
        files: Mapping[str, DeliverableMetadata] | None = None,
        *,
        root_cause: RootCause | str | None = None,
        note: str = "",
    ) -> Milestone:
        """Mark complete at instant ``at`` (local date in ``tz``), after checking deliverables.

        Raises:
            InvalidTransition: already completed (field ``milestones[<id>].state``).
            InvalidValue: naive ``at``; deliverables breaking their rules (field
                ``milestones[<id>].deliverables``; the message lists every reason); late without
                a root cause (here or recorded before) — field ``milestones[<id>].root_cause``,
                valid lists the categories.
        """
        here = f"milestones[{self.id}]"
        if self.is_completed:
            raise InvalidTransition(
                f"milestone {self.id!r} is already completed",
                current="completed",
                requested="complete",
                allowed=(),
                field=f"{here}.state",
            )
        ensure_aware(at, field=f"{here}.completed_at")
        given = dict(files or {})
        reasons = self.check_deliverables(given)
        if reasons:
            raise InvalidValue(
                "; ".join(str(r) for r in reasons),
                field=f"{here}.deliverables",
                valid="; ".join(r.describe() for r in self.requirements),
            )
        on = at.astimezone(tz).date()
        cause = _cause(root_cause, f"{here}.root_cause") or self.root_cause
        if on > self.due and cause is None:
            raise InvalidValue(
                f"completed {(on - self.due).days} day(s) late without a root cause",
                field=f"{here}.root_cause",
                valid=_CAUSES,
            )
        return evolve(
            self,
            completed_at=at,
            completed_on=on,
            deliverables=given,
            root_cause=cause,
            root_cause_note=note or self.root_cause_note,
        )

    def with_root_cause(self, cause: RootCause | str, note: str = "") -> Milestone:
        """Record why the milestone is (or will be) late.

        Raises:
            InvalidValue: unknown category (valid: the RootCause values).
        """
        return evolve(
            self,
            root_cause=_cause(cause, f"milestones[{self.id}].root_cause"),
            root_cause_note=note,
        )

    def outcome_fields(self, as_of: dt.date) -> dict[str, FieldValue]:
        """Fields of a :data:`MILESTONE_OUTCOME` evidence record as of the local date ``as_of``.

        ``counted`` is 1 when the milestone counts for the on-time rate (completed by ``as_of``,
        or open past due), else 0; ``on_time_count`` is 1 when counted and completed on time.
        Summing both over milestones reproduces :func:`on_time_rate`.
        """
        done = self.completed_on is not None and self.completed_on <= as_of
        counted = done or self.due < as_of
        on_time = done and self.completed_on is not None and self.completed_on <= self.due
        end = self.completed_on if done and self.completed_on is not None else as_of
        return {
            "milestone": self.id,
            "due": self.due,
            "completed_on": self.completed_on if done else None,
            "counted": Decimal(int(counted)),
            "on_time_count": Decimal(int(on_time)),
            "days_late": Decimal(max(0, (end - self.due).days)),
            "weight": self.weight,
            "root_cause": None if self.root_cause is None else self.root_cause.value,
        }

    def escalation_for(self, today: dt.date) -> Escalation | None:
        """The escalation to raise when the milestone is open and past due, else None."""
        if self.is_completed or not self.is_late(today):
            return None
        return Escalation(
            self.id, self.owner, self.days_late(today), self.escalation, self.root_cause
        )


@frozen
class OnTimeRate:
    """On-time rate as an indicator value (ratio of sums, ISO 22400 style).

    Counted milestones are those completed by ``as_of`` or open past their due date; a milestone
    due later and still open is not counted yet, and neither is one due ``as_of`` itself.

    Attributes:
        value: numerator / denominator, or None when nothing is counted yet (no value, not 0).
        numerator: count (or weight sum) of milestones completed on time.
        denominator: count (or weight sum) of counted milestones.
        on_time, late: ids, sorted; ``late`` includes open overdue ones.
        weighted: whether weights were used.
    """

    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    on_time: tuple[str, ...]
    late: tuple[str, ...]
    weighted: bool = False


def on_time_rate(
    milestones: Iterable[Milestone], as_of: dt.date, *, weighted: bool = False
) -> OnTimeRate:
    """On-time completed / due, as of the local date ``as_of``.

    A completion after ``as_of`` is treated as still open (so a replay of history gives the rate
    as it was). ``weighted=True`` sums milestone weights instead of counting.
    """
    num = Fraction(0)
    den = Fraction(0)
    on_time: list[str] = []
    late: list[str] = []
    for m in milestones:
        done = m.completed_on is not None and m.completed_on <= as_of
        if not done and not m.due < as_of:
            continue
        w = Fraction(m.weight) if weighted else Fraction(1)
        den += w
        if done and m.completed_on is not None and m.completed_on <= m.due:
            num += w
            on_time.append(m.id)
        else:
            late.append(m.id)
    value = None if den == 0 else to_decimal(num / den)
    return OnTimeRate(
        value,
        to_decimal(num),
        to_decimal(den),
        tuple(sorted(on_time)),
        tuple(sorted(late)),
        weighted,
    )


@frozen
class WeightChange:
    """An audit entry: milestone weights changed (e.g. after a customer order change)."""

    at: dt.datetime
    reason: str
    before: Mapping[str, Decimal]
    after: Mapping[str, Decimal]


@frozen
class MilestonePlan:
    """The milestones of one project (e.g. an NPI), with a history of weight changes.

    Raises (on construction):
        Conflict: two milestones share an id.
    """

    id: str
    milestones: tuple[Milestone, ...] = field(converter=_milestones)
    weight_changes: tuple[WeightChange, ...] = field(default=(), converter=_changes)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for m in self.milestones:
            if m.id in seen:
                raise Conflict(
                    f"milestone id {m.id!r} is used twice",
                    field=f"milestones[{m.id}].id",
                    valid="unique milestone ids",
                )
            seen.add(m.id)

    def get(self, milestone_id: str) -> Milestone:
        """The milestone with this id.

        Raises:
            NotFound: unknown id (valid lists the known ids).
        """
        for m in self.milestones:
            if m.id == milestone_id:
                return m
        raise NotFound(
            f"unknown milestone {milestone_id!r}",
            field=f"milestones[{milestone_id}]",
            valid=", ".join(m.id for m in self.milestones),
        )

    def replace(self, milestone: Milestone) -> MilestonePlan:
        """A copy with ``milestone`` replacing the one with the same id (NotFound if none)."""
        self.get(milestone.id)
        return evolve(
            self,
            milestones=tuple(milestone if m.id == milestone.id else m for m in self.milestones),
        )

    def reweight(
        self, weights: Mapping[str, object], *, at: dt.datetime, reason: str
    ) -> MilestonePlan:
        """Change node weights (all or nothing) and record who-what-why in ``weight_changes``.

        Raises:
            NotFound: unknown milestone id. InvalidWeight: negative or non-numeric weight
                (``milestones[<id>].weight``). InvalidValue: empty ``reason`` or naive ``at``.
        """
        if not reason.strip():
            raise InvalidValue("a reason is required", field="reason", valid="non-empty text")
        ensure_aware(at, field="at")
        new = {i: as_weight(w, field=f"milestones[{i}].weight") for i, w in weights.items()}
        for i in new:
            self.get(i)
        before = {i: self.get(i).weight for i in sorted(new)}
        milestones = tuple(
            evolve(m, weight=new[m.id]) if m.id in new else m for m in self.milestones
        )
        change = WeightChange(at, reason, before, {i: new[i] for i in sorted(new)})
        return evolve(self, milestones=milestones, weight_changes=(*self.weight_changes, change))

    def escalations(self, today: dt.date) -> list[Escalation]:
        """Escalations for every open, past-due milestone, most days late first, then id."""
        found = [e for m in self.milestones if (e := m.escalation_for(today)) is not None]
        return sorted(found, key=lambda e: (-e.days_late, e.milestone_id))

    def on_time_rate(self, as_of: dt.date, *, weighted: bool = False) -> OnTimeRate:
        """:func:`on_time_rate` over this plan's milestones."""
        return on_time_rate(self.milestones, as_of, weighted=weighted)
