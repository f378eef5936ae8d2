"""Review cycles: no overlap per subject, one live review per (subject, cycle), completion rules.

* Cycles of the same subject may not overlap (perfcore's rule). Frappe HRMS
  (https://github.com/frappe/hrms) never checks overlapping cycles; perfcore refuses them with a
  :class:`~perfcore.domain.errors.Conflict` naming both cycles.
* One live (non-cancelled) review per (subject, cycle), and one live ad-hoc review per (subject,
  trigger) — Frappe F17's duplicate check, extended to triggers so a re-delivered alert does not
  open a second review.
* A cycle completes only when all its live reviews are finalized; a completed cycle takes no new
  reviews until reopened (Frappe F17).
* :func:`cycle_summary` and :func:`cycle_overview` are the read-side counts and rows of Frappe's
  cycle summary (F18) and appraisal overview report (F20), in perfcore's semantics.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal

from attrs import evolve, field, frozen

from perfcore.domain.errors import Conflict, InvalidTransition, InvalidValue
from perfcore.domain.review import Review, ReviewState
from perfcore.domain.review_scoring import ComponentKind, ScoringConfig
from perfcore.domain.review_sla import SlaPolicy
from perfcore.domain.values import Period, SubjectRef

__all__ = [
    "CyclePlan",
    "CycleState",
    "CycleSummary",
    "OverviewRow",
    "ReviewCycle",
    "check_can_add_review",
    "check_no_overlap",
    "cycle_overview",
    "cycle_summary",
    "plan_cycle_reviews",
]


class CycleState(enum.StrEnum):
    """A review cycle is open for reviews or completed."""

    OPEN = "open"
    COMPLETED = "completed"


def _nonempty(instance: object, attribute: object, value: str) -> None:
    if not value.strip():
        raise InvalidValue("empty cycle id", field="cycle.id", valid="a non-empty id")


@frozen
class ReviewCycle:
    """A review cycle of one subject over a period (e.g. ``2022-Q1``)."""

    id: str = field(validator=_nonempty)
    subject: SubjectRef
    period: Period
    state: CycleState = CycleState.OPEN
    name: str = ""

    def complete(self, reviews: Iterable[Review]) -> ReviewCycle:
        """OPEN → COMPLETED once every live review of this cycle is finalized.

        Raises:
            InvalidTransition: already completed, or a live review is not finalized (named).
        """
        if self.state is CycleState.COMPLETED:
            raise InvalidTransition(
                f"cycle {self.id} is already completed",
                current=self.state.value,
                requested="complete",
                allowed=("reopen",),
            )
        pending = sorted(
            r.id
            for r in reviews
            if r.cycle_id == self.id and r.is_live and r.state is not ReviewState.FINALIZED
        )
        if pending:
            raise InvalidTransition(
                f"cycle {self.id} still has reviews that are not finalized: {', '.join(pending)}",
                current=self.state.value,
                requested="complete",
                allowed=("finalize or cancel the listed reviews first",),
            )
        return evolve(self, state=CycleState.COMPLETED)

    def reopen(self) -> ReviewCycle:
        """COMPLETED → OPEN.

        Raises:
            InvalidTransition: the cycle is already open.
        """
        if self.state is CycleState.OPEN:
            raise InvalidTransition(
                f"cycle {self.id} is already open",
                current=self.state.value,
                requested="reopen",
                allowed=("complete",),
            )
        return evolve(self, state=CycleState.OPEN)


def check_no_overlap(existing: Iterable[ReviewCycle], candidate: ReviewCycle) -> None:
    """Refuse ``candidate`` if it overlaps a cycle of the same subject (or reuses an id).

    Raises:
        Conflict: naming both cycles and their periods.
    """
    for other in existing:
        if other.id == candidate.id:
            raise Conflict(f"a review cycle with id {other.id} already exists", field="cycle.id")
        if other.subject == candidate.subject and other.period.overlaps(candidate.period):
            raise Conflict(
                f"cycle {candidate.id} ({candidate.period}) overlaps cycle {other.id} "
                f"({other.period}) of {candidate.subject}",
                field="cycle.period",
                valid=f"a period that does not overlap {other.period}",
            )


def check_can_add_review(
    cycles: Iterable[ReviewCycle], reviews: Iterable[Review], candidate: Review
) -> None:
    """Check that ``candidate`` may be added next to ``reviews``.

    Raises:
        InvalidValue: a cycle review whose cycle is unknown or belongs to another subject.
        InvalidTransition: the cycle is completed.
        Conflict: a review with the same id exists, or a live review already exists for the same
            subject and cycle, or for the same subject and trigger (the message names it).
    """
    if candidate.cycle_id is not None:
        cycle = next((c for c in cycles if c.id == candidate.cycle_id), None)
        if cycle is None:
            raise InvalidValue(
                f"unknown review cycle {candidate.cycle_id}", field="review.cycle_id"
            )
        if cycle.subject != candidate.subject:
            raise InvalidValue(
                f"cycle {cycle.id} is for {cycle.subject}, not {candidate.subject}",
                field="review.cycle_id",
                valid=f"a cycle of {candidate.subject}",
            )
        if cycle.state is CycleState.COMPLETED:
            raise InvalidTransition(
                f"cycle {cycle.id} is completed; reopen it before adding reviews",
                current=cycle.state.value,
                requested="add_review",
                allowed=("reopen",),
                field="cycle.state",
            )
    for r in reviews:
        if r.id == candidate.id:
            raise Conflict(
                f"{candidate.subject} already has live review {r.id} (same id)"
                if r.is_live
                else f"review id {r.id} is already used by a cancelled review",
                field="review.id",
                valid="a new review id",
            )
        if not r.is_live or r.subject != candidate.subject:
            continue
        if candidate.cycle_id is not None and r.cycle_id == candidate.cycle_id:
            raise Conflict(
                f"{candidate.subject} already has live review {r.id} in cycle {r.cycle_id}",
                field="review.cycle_id",
                valid="cancel the existing review first, or amend it",
            )
        if (
            candidate.trigger is not None
            and r.trigger is not None
            and r.trigger.key == candidate.trigger.key
        ):
            raise Conflict(
                f"{candidate.subject} already has live review {r.id} for trigger {r.trigger.key}",
                field="review.trigger",
            )


@frozen
class CycleSummary:
    """Counts for a cycle's progress board (Frappe F18 in perfcore terms).

    Attributes:
        reviews: live reviews in the cycle.
        self_assessment_pending: live reviews without a self assessment (only counted when the
            self component is enabled).
        indicator_score_missing: live reviews without an indicator/objective score.
        feedback_missing: live reviews with no peer feedback.
    """

    reviews: int
    self_assessment_pending: int
    indicator_score_missing: int
    feedback_missing: int


def cycle_summary(cycle_id: str, reviews: Iterable[Review]) -> CycleSummary:
    """Count the live reviews of ``cycle_id`` and what each still lacks."""
    live = [r for r in reviews if r.cycle_id == cycle_id and r.is_live]
    return CycleSummary(
        reviews=len(live),
        self_assessment_pending=sum(1 for r in live if r.self_assessment is None),
        indicator_score_missing=sum(1 for r in live if r.indicator_score is None),
        feedback_missing=sum(1 for r in live if r.feedback.count == 0),
    )


@frozen
class OverviewRow:
    """One review in the cycle overview; scores exact, ``None`` where a component has no value."""

    review_id: str
    cycle_id: str
    subject: SubjectRef
    indicator_score: Decimal | None
    self_score: Decimal | None
    feedback_average: Decimal | None
    feedback_count: int
    final_score: Decimal | None
    state: ReviewState


def cycle_overview(reviews: Iterable[Review]) -> list[OverviewRow]:
    """Rows for live cycle reviews, sorted by cycle, then final score descending (no score last),
    then review id — the ordering of Frappe's appraisal overview report (F20)."""
    rows: list[OverviewRow] = []
    for r in reviews:
        if r.cycle_id is None or not r.is_live:
            continue
        values = r.component_values()
        rows.append(
            OverviewRow(
                r.id,
                r.cycle_id,
                r.subject,
                values[ComponentKind.INDICATOR],
                values[ComponentKind.SELF],
                values[ComponentKind.PEER],
                r.feedback.count,
                r.score().value,
                r.state,
            )
        )

    def key(row: OverviewRow) -> tuple[str, int, Decimal, str]:
        has = row.final_score is not None
        return (row.cycle_id, 0 if has else 1, -(row.final_score or Decimal(0)), row.review_id)

    return sorted(rows, key=key)


@frozen
class CyclePlan:
    """What :func:`plan_cycle_reviews` would create, and what it skipped and why.

    Attributes:
        cycles: new cycles to store.
        reviews: new DRAFT reviews to store (one per subject that needs one).
        skipped: ``(subject, reason)`` for subjects that got nothing new.
    """

    cycles: tuple[ReviewCycle, ...]
    reviews: tuple[Review, ...]
    skipped: tuple[tuple[SubjectRef, str], ...]


def plan_cycle_reviews(
    subjects: Iterable[SubjectRef],
    period: Period,
    config: ScoringConfig,
    *,
    existing_cycles: Iterable[ReviewCycle],
    existing_reviews: Iterable[Review],
    created_at: dt.datetime,
    created_by: str,
    sla: SlaPolicy | None = None,
    anonymous_feedback: bool = False,
    name: str = "",
) -> CyclePlan:
    """Plan one cycle and one DRAFT review per subject for ``period`` — idempotently.

    Ids are deterministic: cycle ``<period key>:<subject>``, review ``review:<cycle id>``, so
    running the plan again with its own output as ``existing_*`` creates nothing (Frappe's bulk
    creation skips duplicates in the same way). Every review uses ``config``,
    i.e. the template's criteria and weights. Selecting the population (by unit, designation …) is
    the caller's filter on ``subjects``.

    A subject is skipped, with the reason, when it already has a live review in that cycle, when
    the cycle is completed, or when another of its cycles overlaps ``period``.
    """
    cycles = list(existing_cycles)
    reviews = list(existing_reviews)
    new_cycles: list[ReviewCycle] = []
    new_reviews: list[Review] = []
    skipped: list[tuple[SubjectRef, str]] = []
    for subject in dict.fromkeys(subjects):
        cycle_id = f"{period.key}:{subject}"
        cycle = next((c for c in cycles if c.id == cycle_id), None)
        if cycle is None:
            cycle = ReviewCycle(cycle_id, subject, period, name=name)
            try:
                check_no_overlap(cycles, cycle)
            except Conflict as exc:
                skipped.append((subject, exc.message))
                continue
            cycles.append(cycle)
            new_cycles.append(cycle)
        review = Review.for_cycle(
            f"review:{cycle_id}",
            subject,
            cycle_id,
            config,
            created_at=created_at,
            created_by=created_by,
            sla=sla,
            anonymous_feedback=anonymous_feedback,
        )
        try:
            check_can_add_review(cycles, reviews, review)
        except (Conflict, InvalidTransition) as exc:
            skipped.append((subject, exc.message))
            continue
        reviews.append(review)
        new_reviews.append(review)
    return CyclePlan(tuple(new_cycles), tuple(new_reviews), tuple(skipped))
