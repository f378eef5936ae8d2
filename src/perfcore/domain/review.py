"""The Review aggregate: components, peer feedback, state machine, SLA facts.

States::

    DRAFT --open--> OPEN --submit--> SUBMITTED --finalize--> FINALIZED
      |               ^                  |                       |
      +--cancel--+    +------reopen------+-----------------------+
                 v
             CANCELLED      (DRAFT/OPEN only; a cancelled review is no longer "live")

* Components (indicator score, self assessment, peer feedback, manager assessment) can be changed
  in DRAFT and OPEN only. A SUBMITTED review waits for finalization; a FINALIZED review is
  **immutable** — every change raises :class:`~perfcore.domain.errors.InvalidTransition` naming
  ``reopen`` as the way out. Its score is frozen at finalization, so later evidence cannot move it.
* ``reopen`` (from SUBMITTED or FINALIZED) needs a reason and is recorded (who, why, when) in
  :attr:`Review.history`; :attr:`Review.amendments` lists them.
* Response time = first submission − (trigger time for ad-hoc reviews, else opening time); the SLA
  deadline and breach are derived from it (perfcore's rule: a review has an SLA clock, e.g.
  48 h from the triggering event, and its response time is measurable).

The aggregate is an immutable value: each command returns a new :class:`Review`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from attrs import Factory, evolve, field, frozen

from perfcore.domain.errors import InvalidTransition, InvalidValue
from perfcore.domain.feedback import FeedbackBook, PeerFeedback
from perfcore.domain.review_scoring import (
    ComponentKind,
    CompositeScore,
    RatingSheet,
    ScoringConfig,
    combine_components,
)
from perfcore.domain.review_sla import ReviewTrigger, SlaPolicy
from perfcore.domain.values import SubjectRef, as_decimal, ensure_aware

__all__ = ["Review", "ReviewEvent", "ReviewState"]


class ReviewState(enum.StrEnum):
    """Lifecycle of a review."""

    DRAFT = "draft"
    OPEN = "open"
    SUBMITTED = "submitted"
    FINALIZED = "finalized"
    CANCELLED = "cancelled"


_EDITABLE = frozenset({ReviewState.DRAFT, ReviewState.OPEN})
_NEXT: Mapping[ReviewState, tuple[str, ...]] = {
    ReviewState.DRAFT: ("open", "cancel", "edit"),
    ReviewState.OPEN: ("submit", "cancel", "edit"),
    ReviewState.SUBMITTED: ("finalize", "reopen"),
    ReviewState.FINALIZED: ("reopen",),
    ReviewState.CANCELLED: (),
}


@frozen
class ReviewEvent:
    """One recorded step in a review's life: who did what, when, and (for reopen) why."""

    action: str
    actor: str
    at: dt.datetime
    reason: str = ""
    detail: str = ""


@frozen
class Review:
    """A review of one subject, either in a cycle (``cycle_id``) or ad hoc (``trigger``).

    Prefer the constructors :meth:`for_cycle` and :meth:`ad_hoc`.

    Attributes:
        id: review id.
        subject: who is reviewed.
        config: component weights, rating scale and criteria.
        cycle_id: the review cycle, for cycle reviews.
        trigger: the triggering event, for ad-hoc reviews.
        sla: deadline/reminder/escalation policy, or ``None`` for no SLA.
        assignee_id: who must complete it (``None`` → the subject's manager).
        state: see :class:`ReviewState`.
        indicator_score: the indicator/objective component on the review scale.
        self_assessment / manager_assessment: rating sheets, or ``None`` while not given.
        feedback: peer feedback, one vote per reviewer.
        final: the score frozen at finalization (``None`` before).
        history: every recorded step, oldest first.

    Raises (on construction):
        InvalidValue: a naive ``created_at`` (``review.created_at``); neither or both of
            ``cycle_id`` and ``trigger`` (``review.cycle_id``).
    """

    id: str
    subject: SubjectRef
    config: ScoringConfig
    created_at: dt.datetime
    cycle_id: str | None = None
    trigger: ReviewTrigger | None = None
    sla: SlaPolicy | None = None
    assignee_id: str | None = None
    state: ReviewState = ReviewState.DRAFT
    opened_at: dt.datetime | None = None
    first_submitted_at: dt.datetime | None = None
    finalized_at: dt.datetime | None = None
    indicator_score: Decimal | None = None
    self_assessment: RatingSheet | None = None
    manager_assessment: RatingSheet | None = None
    feedback: FeedbackBook = field(
        default=Factory(lambda self: FeedbackBook(self.subject.id), takes_self=True)
    )
    final: CompositeScore | None = None
    history: tuple[ReviewEvent, ...] = ()

    def __attrs_post_init__(self) -> None:
        ensure_aware(self.created_at, field="review.created_at")
        if (self.cycle_id is None) == (self.trigger is None):
            raise InvalidValue(
                "a review belongs to a cycle or has a trigger, exactly one of them",
                field="review.cycle_id",
                valid="cycle_id for a cycle review, or trigger for an ad-hoc review",
            )

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def for_cycle(
        cls,
        id: str,
        subject: SubjectRef,
        cycle_id: str,
        config: ScoringConfig,
        *,
        created_at: dt.datetime,
        created_by: str,
        assignee_id: str | None = None,
        sla: SlaPolicy | None = None,
        anonymous_feedback: bool = False,
    ) -> Review:
        """A DRAFT review of ``subject`` in cycle ``cycle_id``.

        Check :func:`perfcore.domain.review_cycle.check_can_add_review` first.
        """
        return cls(
            id,
            subject,
            config,
            created_at,
            cycle_id=cycle_id,
            sla=sla,
            assignee_id=assignee_id,
            feedback=FeedbackBook(subject.id, anonymous=anonymous_feedback),
            history=(ReviewEvent("create", created_by, created_at),),
        )

    @classmethod
    def ad_hoc(
        cls,
        id: str,
        subject: SubjectRef,
        trigger: ReviewTrigger,
        config: ScoringConfig,
        *,
        created_at: dt.datetime,
        created_by: str = "system",
        assignee_id: str | None = None,
        sla: SlaPolicy | None = None,
        anonymous_feedback: bool = False,
    ) -> Review:
        """An OPEN review opened by ``trigger``; its SLA clock started at ``trigger.occurred_at``.

        ``sla`` defaults to :class:`SlaPolicy()` (48 h, reminders 24 h and 4 h before).
        """
        return cls(
            id,
            subject,
            config,
            created_at,
            trigger=trigger,
            sla=sla if sla is not None else SlaPolicy(),
            assignee_id=assignee_id,
            state=ReviewState.OPEN,
            opened_at=created_at,
            feedback=FeedbackBook(subject.id, anonymous=anonymous_feedback),
            history=(
                ReviewEvent("create", created_by, created_at, detail=trigger.key),
                ReviewEvent("open", created_by, created_at),
            ),
        )

    # -- derived facts -----------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        """True unless cancelled (a live review blocks a duplicate for the same subject)."""
        return self.state is not ReviewState.CANCELLED

    @property
    def awaiting_response(self) -> bool:
        """True while the review is open and has never been submitted."""
        return self.state is ReviewState.OPEN and self.first_submitted_at is None

    @property
    def clock_start(self) -> dt.datetime | None:
        """Start of the SLA clock: the trigger time, else the opening time."""
        return self.trigger.occurred_at if self.trigger is not None else self.opened_at

    @property
    def sla_deadline(self) -> dt.datetime | None:
        """``clock_start + sla.respond_within``, or ``None`` without SLA or before opening."""
        start = self.clock_start
        if self.sla is None or start is None:
            return None
        return start + self.sla.respond_within

    @property
    def response_time(self) -> dt.timedelta | None:
        """First submission − clock start, or ``None`` while unanswered."""
        start = self.clock_start
        if start is None or self.first_submitted_at is None:
            return None
        return self.first_submitted_at - start

    def sla_breached(self, now: dt.datetime) -> bool:
        """True if the first response came after the deadline, or none has come and ``now`` is
        past it. A response exactly at the deadline is on time."""
        ensure_aware(now, field="now")
        deadline = self.sla_deadline
        if deadline is None:
            return False
        answered = self.first_submitted_at
        if answered is not None:
            return answered > deadline
        return self.state is not ReviewState.CANCELLED and now > deadline

    @property
    def amendments(self) -> tuple[ReviewEvent, ...]:
        """The recorded reopen events (who, why, when)."""
        return tuple(e for e in self.history if e.action == "reopen")

    def component_values(self) -> dict[ComponentKind, Decimal | None]:
        """Current component scores on the review scale (``None`` = no value yet)."""
        return {
            ComponentKind.INDICATOR: self.indicator_score,
            ComponentKind.SELF: None
            if self.self_assessment is None
            else self.self_assessment.score,
            ComponentKind.PEER: self.feedback.average,
            ComponentKind.MANAGER: (
                None if self.manager_assessment is None else self.manager_assessment.score
            ),
        }

    def score(self) -> CompositeScore:
        """The final score: frozen after finalization, otherwise computed from current values."""
        if self.final is not None and self.state is ReviewState.FINALIZED:
            return self.final
        return combine_components(self.config, self.component_values())

    # -- commands ----------------------------------------------------------------------
    def open(self, *, by: str, at: dt.datetime) -> Review:
        """DRAFT → OPEN; starts the SLA clock of a cycle review.

        Raises:
            InvalidTransition: not in DRAFT.
        """
        self._require({ReviewState.DRAFT}, "open", at)
        return self._step("open", by, at, state=ReviewState.OPEN, opened_at=at)

    def set_indicator_score(self, value: object, *, by: str, at: dt.datetime) -> Review:
        """Set the indicator/objective component (a number on the review's scale range).

        Raises:
            InvalidTransition: not editable (submitted/finalized/cancelled).
            InvalidValue: not a number, or outside the scale's minimum..maximum.
        """
        self._require_editable("set_indicator_score", at)
        scale = self.config.scale
        d = as_decimal(value, field="indicator_score")
        if not scale.minimum <= d <= scale.maximum:
            raise InvalidValue(
                f"{d} is outside the rating scale",
                field="indicator_score",
                valid=f"{scale.minimum}..{scale.maximum}",
            )
        return self._step("set_indicator_score", by, at, indicator_score=d, detail=str(d))

    def rate_self(self, ratings: Mapping[str, object], *, by: str, at: dt.datetime) -> Review:
        """Record the subject's self assessment against the self criteria.

        Raises:
            InvalidTransition: not editable.
            InvalidValue: a rating off the scale, unknown or missing criteria.
        """
        self._require_editable("rate_self", at)
        sheet = self._sheet(ComponentKind.SELF, ratings, "self_assessment")
        return self._step("rate_self", by, at, self_assessment=sheet)

    def rate_manager(self, ratings: Mapping[str, object], *, by: str, at: dt.datetime) -> Review:
        """Record the manager assessment against the manager criteria (Frappe's manual KRA rating).

        Raises:
            InvalidTransition: not editable.
            InvalidValue: a rating off the scale (e.g. 6 on 0-5, Frappe F21), unknown or missing
                criteria.
        """
        self._require_editable("rate_manager", at)
        sheet = self._sheet(ComponentKind.MANAGER, ratings, "manager_assessment")
        return self._step("rate_manager", by, at, manager_assessment=sheet)

    def add_feedback(
        self, reviewer_id: str, ratings: Mapping[str, object], *, at: dt.datetime, text: str = ""
    ) -> Review:
        """Record ``reviewer_id``'s peer feedback; it replaces their earlier vote.

        Raises:
            InvalidTransition: not editable (e.g. the review is finalized).
            PolicyDenied: the reviewer is the subject.
            InvalidValue: a rating off the scale, unknown or missing criteria.
        """
        self._require_editable("add_feedback", at)
        sheet = self._sheet(ComponentKind.PEER, ratings, "feedback")
        book = self.feedback.submit(PeerFeedback(reviewer_id, sheet, at, text))
        return self._step("add_feedback", reviewer_id, at, feedback=book)

    def withdraw_feedback(self, reviewer_id: str, *, by: str, at: dt.datetime) -> Review:
        """Remove a reviewer's feedback (the peer component may then have no value).

        Raises:
            InvalidTransition: not editable.
            NotFound: no feedback from ``reviewer_id``.
        """
        self._require_editable("withdraw_feedback", at)
        book = self.feedback.withdraw(reviewer_id)
        return self._step("withdraw_feedback", by, at, feedback=book, detail=reviewer_id)

    def submit(self, *, by: str, at: dt.datetime) -> Review:
        """OPEN → SUBMITTED; the first submission is the response time's end point.

        Raises:
            InvalidTransition: not OPEN.
            InvalidValue: ``at`` before the review was opened, or no component has a value.
        """
        self._require({ReviewState.OPEN}, "submit", at)
        if self.opened_at is not None and at < self.opened_at:
            raise InvalidValue(
                f"submission time {at.isoformat()} is before the review opened",
                field="submitted_at",
                valid=f"on or after {self.opened_at.isoformat()}",
            )
        if self.score().value is None:
            raise InvalidValue(
                "nothing to submit: no component has a value",
                field="review.components",
                valid="at least one enabled component with a value",
            )
        first = self.first_submitted_at if self.first_submitted_at is not None else at
        return self._step("submit", by, at, state=ReviewState.SUBMITTED, first_submitted_at=first)

    def finalize(self, *, by: str, at: dt.datetime) -> Review:
        """SUBMITTED → FINALIZED; freezes the score.

        Raises:
            InvalidTransition: not SUBMITTED.
        """
        self._require({ReviewState.SUBMITTED}, "finalize", at)
        frozen_score = combine_components(self.config, self.component_values())
        return self._step(
            "finalize",
            by,
            at,
            state=ReviewState.FINALIZED,
            finalized_at=at,
            final=frozen_score,
            detail=str(frozen_score.rounded),
        )

    def reopen(self, *, by: str, at: dt.datetime, reason: str) -> Review:
        """SUBMITTED/FINALIZED → OPEN, recorded with who, why and when.

        Raises:
            InvalidTransition: not SUBMITTED or FINALIZED.
            InvalidValue: empty ``reason``.
        """
        self._require({ReviewState.SUBMITTED, ReviewState.FINALIZED}, "reopen", at)
        if not reason.strip():
            raise InvalidValue(
                "reopening a review needs a reason",
                field="reason",
                valid="a sentence saying why the review is amended",
            )
        return self._step(
            "reopen",
            by,
            at,
            state=ReviewState.OPEN,
            finalized_at=None,
            final=None,
            reason=reason.strip(),
            detail=f"from {self.state.value}",
        )

    def cancel(self, *, by: str, at: dt.datetime, reason: str) -> Review:
        """DRAFT/OPEN → CANCELLED (no longer live).

        Raises:
            InvalidTransition: submitted, finalized or already cancelled.
            InvalidValue: empty ``reason``.
        """
        self._require(_EDITABLE, "cancel", at)
        if not reason.strip():
            raise InvalidValue("cancelling a review needs a reason", field="reason")
        return self._step("cancel", by, at, state=ReviewState.CANCELLED, reason=reason.strip())

    # -- helpers -----------------------------------------------------------------------
    def _require(
        self, states: frozenset[ReviewState] | set[ReviewState], action: str, at: object
    ) -> None:
        if isinstance(at, dt.datetime):
            ensure_aware(at, field="at")
        if self.state not in states:
            immutable = (
                " — a finalized review is immutable; reopen it (with a reason) to change it"
                if self.state is ReviewState.FINALIZED
                else ""
            )
            raise InvalidTransition(
                f"cannot {action} review {self.id} in state {self.state.value}{immutable}",
                current=self.state.value,
                requested=action,
                allowed=_NEXT[self.state],
            )

    def _require_editable(self, action: str, at: dt.datetime) -> None:
        self._require(_EDITABLE, action, at)

    def _sheet(self, kind: ComponentKind, ratings: Mapping[str, object], field: str) -> RatingSheet:
        """Fill ``kind``'s criteria on the review's scale; errors are prefixed with ``field``."""
        return RatingSheet.fill(
            self.config.criteria_for(kind), self.config.scale, ratings, field=field
        )

    def _step(
        self,
        action: str,
        by: str,
        at: dt.datetime,
        *,
        reason: str = "",
        detail: str = "",
        **changes: Any,
    ) -> Review:
        event = ReviewEvent(action, by, at, reason, detail)
        return evolve(self, history=(*self.history, event), **changes)
