"""Calibration cycles and sessions (after SAP SuccessFactors and 15Five; docs/calibration.md §8).

State machine (linear, no way back)::

    DRAFT ──open──▶ OPEN ──start──▶ IN_SESSION ──lock──▶ LOCKED ──publish──▶ PUBLISHED
    (setup,         (pre-calibration: rater   (facilitated:     (guidelines      (visible to
     ratings in)     edits frozen, preview)    adjustments)      re-checked)      employees)

* Original ratings are entered only in DRAFT; once OPEN, rater edits are frozen.
* The committee changes ratings only through :meth:`CalibrationSession.adjust`, which appends an
  immutable :class:`Adjustment` with a required reason code; the calibrated rating is the
  original with the adjustments replayed in order.
* :meth:`~CalibrationSession.lock` re-checks the distribution guideline and warns or blocks by
  the session's :class:`LockPolicy`; publishing may be scheduled (``publish_at``) and is refused
  before that instant.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal

from attrs import define, field, frozen

from perfcore.domain.calibration.batch import RatingBatch
from perfcore.domain.calibration.guidelines import DistributionGuideline, GuidelineCheck
from perfcore.domain.calibration.ninebox import NineBoxGrid, NineBoxPlacement
from perfcore.domain.calibration.scale import BucketMapping, RatingScale
from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import InvalidTransition, InvalidValue, NotFound, PolicyDenied
from perfcore.domain.values import Period, SubjectRef, as_decimal, ensure_aware

__all__ = [
    "Adjustment",
    "CalibrationCycle",
    "CalibrationSession",
    "Element",
    "LockPolicy",
    "SessionState",
    "Transition",
]


class SessionState(enum.StrEnum):
    """Session life cycle (perfcore's rule): DRAFT → OPEN (pre-calibration, rater
    edits frozen) → IN_SESSION → LOCKED → PUBLISHED, one step at a time; a move out of
    order raises :class:`~perfcore.domain.errors.InvalidTransition` naming the allowed state."""

    DRAFT = "draft"
    OPEN = "open"
    IN_SESSION = "in_session"
    LOCKED = "locked"
    PUBLISHED = "published"


_NEXT: Mapping[SessionState, tuple[SessionState, ...]] = {
    SessionState.DRAFT: (SessionState.OPEN,),
    SessionState.OPEN: (SessionState.IN_SESSION,),
    SessionState.IN_SESSION: (SessionState.LOCKED,),
    SessionState.LOCKED: (SessionState.PUBLISHED,),
    SessionState.PUBLISHED: (),
}


class Element(enum.StrEnum):
    """Which rating of a subject is calibrated."""

    PERFORMANCE = "performance"
    POTENTIAL = "potential"


def _element(value: Element | str) -> Element:
    return parse_choice(Element, value, field="element", what="rating element")


class LockPolicy(enum.StrEnum):
    """What a guideline violation does at lock: ``warn`` (lock, record warnings) or ``block``."""

    WARN = "warn"
    BLOCK = "block"


def _required_text(instance: object, attribute: object, value: str) -> None:
    name = getattr(attribute, "name", "value")
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(
            f"{name} is required",
            field=name,
            valid="a non-empty reason code" if name == "reason" else "a non-empty text",
        )


def _aware(instance: object, attribute: object, value: dt.datetime) -> None:
    ensure_aware(value, field=getattr(attribute, "name", "at"))


@frozen
class Adjustment:
    """An immutable calibration event: ``subject``'s ``element`` moved ``from_value → to_value``.

    Attributes:
        sequence: position in the session's event log (0-based).
        actor: who made the change; ``authorized_by`` optionally who approved it.
        reason: reason code (required; e.g. ``"evidence_review"``).
        comment: free text.
        suggested / method: the normalisation suggestion shown when the change was made, if any.
        at: timezone-aware instant.

    Raises:
        InvalidValue: empty ``reason`` or ``actor`` (field named), naive ``at``.
    """

    sequence: int
    subject: SubjectRef
    element: Element
    from_value: Decimal
    to_value: Decimal
    actor: str = field(validator=_required_text)
    reason: str = field(validator=_required_text)
    at: dt.datetime = field(validator=_aware)
    comment: str = ""
    suggested: Decimal | None = None
    method: str | None = None
    authorized_by: str | None = None


@frozen
class Transition:
    """A recorded state change."""

    source: SessionState
    target: SessionState
    actor: str
    at: dt.datetime
    note: str = ""


@frozen
class CalibrationCycle:
    """A calibration cycle (e.g. "2025 year-end") that groups sessions."""

    id: str = field(validator=_required_text)
    name: str = ""
    period: Period | None = None

    def session(self, id: str, *, facilitator: str, **options: object) -> CalibrationSession:
        """Start a DRAFT session of this cycle (options as for :class:`CalibrationSession`)."""
        return CalibrationSession(id=id, cycle_id=self.id, facilitator=facilitator, **options)  # type: ignore[arg-type]


def _frozen_set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _opt_codes(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


@define
class CalibrationSession:
    """One calibration session: facilitator, participants, subjects and their ratings.

    Attributes:
        scale: legal calibrated values.
        guideline / mapping: distribution guideline on the *performance* element and the
            rating → bucket mapping it is checked through (both or neither).
        lock_policy: what a guideline violation does at lock.
        reason_codes: allowed reason codes, or ``None`` for any non-empty code.

    Raises:
        InvalidValue: guideline without mapping (or bucket orders that differ).
    """

    id: str = field(validator=_required_text)
    cycle_id: str
    facilitator: str = field(validator=_required_text)
    scale: RatingScale = field(factory=RatingScale)
    participants: frozenset[str] = field(factory=frozenset, converter=_frozen_set)
    guideline: DistributionGuideline | None = None
    mapping: BucketMapping | None = None
    lock_policy: LockPolicy = field(default=LockPolicy.WARN, converter=LockPolicy)
    reason_codes: frozenset[str] | None = field(default=None, converter=_opt_codes)
    state: SessionState = field(default=SessionState.DRAFT, init=False)
    publish_at: dt.datetime | None = field(default=None, init=False)
    lock_warnings: tuple[str, ...] = field(default=(), init=False)
    _original: dict[SubjectRef, dict[Element, Decimal]] = field(factory=dict, init=False)
    _raters: dict[SubjectRef, str] = field(factory=dict, init=False)
    _adjustments: list[Adjustment] = field(factory=list, init=False)
    _transitions: list[Transition] = field(factory=list, init=False)

    def __attrs_post_init__(self) -> None:
        if (self.guideline is None) != (self.mapping is None):
            raise InvalidValue(
                "a guideline needs a bucket mapping and vice versa",
                field="mapping" if self.mapping is None else "guideline",
                valid="both guideline and mapping, or neither",
            )
        if (
            self.guideline is not None
            and self.mapping is not None
            and self.guideline.order != self.mapping.order
        ):
            raise InvalidValue(
                "guideline and mapping buckets differ",
                field="mapping.order",
                valid=", ".join(self.guideline.order),
            )

    # ------------------------------------------------------------------ read side

    @property
    def subjects(self) -> tuple[SubjectRef, ...]:
        """Subjects in the session, in the order they were added."""
        return tuple(self._original)

    @property
    def adjustments(self) -> tuple[Adjustment, ...]:
        """The event log, oldest first."""
        return tuple(self._adjustments)

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """Every state change made (from, to, actor, time), oldest first."""
        return tuple(self._transitions)

    def original(
        self, subject: SubjectRef, element: Element | str = Element.PERFORMANCE
    ) -> Decimal:
        """The rater's original rating.

        Raises:
            NotFound: unknown subject or no rating for ``element``.
        """
        el = _element(element)
        ratings = self._ratings_of(subject)
        if el not in ratings:
            raise NotFound(
                f"{subject} has no {el.value} rating",
                field=f"subjects[{subject}].{el.value}",
                valid=", ".join(e.value for e in ratings),
            )
        return ratings[el]

    def calibrated(
        self, subject: SubjectRef, element: Element | str = Element.PERFORMANCE
    ) -> Decimal:
        """The original rating with every adjustment for (subject, element) replayed in order."""
        el = _element(element)
        value = self.original(subject, el)
        for event in self._adjustments:
            if event.subject == subject and event.element is el:
                value = event.to_value
        return value

    def calibrated_ratings(
        self, element: Element | str = Element.PERFORMANCE
    ) -> dict[SubjectRef, Decimal]:
        """Calibrated rating of every subject that has ``element``."""
        el = _element(element)
        current = {s: r[el] for s, r in self._original.items() if el in r}
        for event in self._adjustments:
            if event.element is el:
                current[event.subject] = event.to_value
        return current

    def history(self, subject: SubjectRef) -> tuple[Adjustment, ...]:
        """The adjustment events of ``subject`` (both elements), oldest first."""
        return tuple(e for e in self._adjustments if e.subject == subject)

    def bucket_counts(self) -> dict[str, int]:
        """Head-count per guideline bucket of the calibrated performance ratings.

        Raises:
            InvalidValue: no mapping configured (field ``mapping``).
        """
        if self.mapping is None:
            raise InvalidValue("no bucket mapping configured", field="mapping", valid="a mapping")
        counts = dict.fromkeys(self.mapping.order, 0)
        for subject, rating in self.calibrated_ratings().items():
            counts[self.mapping.bucket(rating, field=f"subjects[{subject}].performance")] += 1
        return counts

    def check_guideline(self) -> GuidelineCheck | None:
        """Live guideline check of the calibrated performance ratings (``None`` without one)."""
        if self.guideline is None:
            return None
        return self.guideline.check(self.bucket_counts())

    def nine_box(self, grid: NineBoxGrid) -> NineBoxPlacement:
        """Place every subject on ``grid`` from calibrated performance and potential."""
        perf = self.calibrated_ratings(Element.PERFORMANCE)
        pot = self.calibrated_ratings(Element.POTENTIAL)
        return grid.place({s: (perf.get(s), pot.get(s)) for s in self._original})

    def rater_of(self, subject: SubjectRef) -> str | None:
        """The manager who gave ``subject``'s original ratings, if recorded."""
        self._ratings_of(subject)
        return self._raters.get(subject)

    def rating_batch(
        self, element: Element | str = Element.PERFORMANCE, *, calibrated: bool = False
    ) -> tuple[RatingBatch, tuple[SubjectRef, ...], tuple[str, ...]]:
        """The session's ratings as parallel columns for normalise.py / bias.py.

        Returns ``(batch, subjects, raters)``: ``subjects[i]`` is the subject of rating ``i``;
        ``raters[k]`` is the manager behind rater index ``k``. Original ratings by default (the
        raters' habits are what normalisation corrects); ``calibrated=True`` for the current
        calibrated values. Subjects without a recorded rater or without ``element`` are left out.
        """
        el = _element(element)
        values = self.calibrated_ratings(el) if calibrated else None
        subjects: list[SubjectRef] = []
        index: dict[str, int] = {}
        columns: tuple[list[int], list[Decimal]] = ([], [])
        for subject, ratings in self._original.items():
            rater = self._raters.get(subject)
            if rater is None or el not in ratings:
                continue
            subjects.append(subject)
            columns[0].append(index.setdefault(rater, len(index)))
            columns[1].append(values[subject] if values is not None else ratings[el])
        batch = RatingBatch.build(columns[0], columns[1], rater_count=len(index))
        return batch, tuple(subjects), tuple(index)

    def due_for_publish(self, now: dt.datetime) -> bool:
        """True when LOCKED and the scheduled publish time (if any) has come."""
        ensure_aware(now, field="now")
        return self.state is SessionState.LOCKED and (
            self.publish_at is None or now >= self.publish_at
        )

    # ------------------------------------------------------------------ setup

    def add_participant(self, person: str) -> None:
        """Add a calibrating manager (DRAFT or OPEN)."""
        self._require("add_participant", SessionState.DRAFT, SessionState.OPEN)
        self.participants = self.participants | {person}

    def add_subject(
        self,
        subject: SubjectRef,
        performance: object,
        potential: object | None = None,
        *,
        rater: str | None = None,
    ) -> None:
        """Add a subject with the rater's original rating(s) (DRAFT only: rater edits freeze at
        OPEN). Adding an existing subject again replaces its originals while still DRAFT.
        ``rater`` (the manager who gave the ratings) enables :meth:`rating_batch`.

        Raises:
            InvalidTransition: not DRAFT (allowed = DRAFT).
            InvalidValue: a rating off the scale (field ``performance`` / ``potential``).
        """
        self._require("add_subject", SessionState.DRAFT)
        ratings = {Element.PERFORMANCE: self.scale.check(performance, field="performance")}
        if potential is not None:
            ratings[Element.POTENTIAL] = self.scale.check(potential, field="potential")
        self._original[subject] = ratings
        if rater is not None:
            self._raters[subject] = rater
        else:
            self._raters.pop(subject, None)

    # ------------------------------------------------------------------ transitions

    def open(self, actor: str, at: dt.datetime) -> None:
        """DRAFT → OPEN: pre-calibration; rater edits are frozen from now on."""
        self._move(SessionState.OPEN, actor, at)

    def start(self, actor: str, at: dt.datetime) -> None:
        """OPEN → IN_SESSION: the facilitated meeting starts; adjustments are accepted."""
        self._move(SessionState.IN_SESSION, actor, at)

    def lock(
        self, actor: str, at: dt.datetime, *, publish_at: dt.datetime | None = None
    ) -> GuidelineCheck | None:
        """IN_SESSION → LOCKED after re-checking the guideline; ratings are final.

        With :attr:`LockPolicy.BLOCK` a violated guideline refuses the lock; with ``WARN`` the
        violations are kept in :attr:`lock_warnings`. ``publish_at`` schedules publishing.

        Raises:
            PolicyDenied: BLOCK and the guideline is violated (field ``guideline``; message lists
                the moves needed).
            InvalidValue: ``publish_at`` naive or before ``at``.
        """
        self._check_move(SessionState.LOCKED, actor)
        ensure_aware(at, field="at")
        if publish_at is not None:
            ensure_aware(publish_at, field="publish_at")
            if publish_at < at:
                raise InvalidValue(
                    "publish time is before the lock", field="publish_at", valid=f">= {at}"
                )
        result = self.check_guideline()
        warnings: tuple[str, ...] = ()
        if result is not None and not result.ok:
            if self.lock_policy is LockPolicy.BLOCK:
                raise PolicyDenied(
                    f"guideline not met: {result.summary()}",
                    field="guideline",
                    valid="move people as listed, or lock with the 'warn' policy",
                )
            warnings = tuple(b.sentence for b in result.violations)
        self.lock_warnings = warnings
        self.publish_at = publish_at
        self._move(SessionState.LOCKED, actor, at, note="; ".join(warnings))
        return result

    def schedule_publish(self, actor: str, publish_at: dt.datetime) -> None:
        """Set or move the publish time of a LOCKED session."""
        self._require("schedule_publish", SessionState.LOCKED)
        self._check_actor(actor, facilitator_only=True)
        self.publish_at = ensure_aware(publish_at, field="publish_at")

    def publish(self, actor: str, at: dt.datetime) -> None:
        """LOCKED → PUBLISHED: calibrated ratings become visible.

        Raises:
            InvalidTransition: not LOCKED.
            PolicyDenied: ``at`` is before the scheduled ``publish_at``.
        """
        self._check_move(SessionState.PUBLISHED, actor)
        ensure_aware(at, field="at")
        if self.publish_at is not None and at < self.publish_at:
            raise PolicyDenied(
                f"publishing is scheduled for {self.publish_at.isoformat()}",
                field="publish_at",
                valid=f"at or after {self.publish_at.isoformat()}",
            )
        self._move(SessionState.PUBLISHED, actor, at)

    # ------------------------------------------------------------------ adjustments

    def adjust(
        self,
        subject: SubjectRef,
        to: object,
        *,
        actor: str,
        reason: str,
        at: dt.datetime,
        element: Element | str = Element.PERFORMANCE,
        comment: str = "",
        suggested: object | None = None,
        method: str | None = None,
        authorized_by: str | None = None,
    ) -> Adjustment:
        """Record a committee change of ``subject``'s calibrated rating (IN_SESSION only).

        ``from`` is the current calibrated value; ``suggested``/``method`` record the
        normalisation suggestion that was shown (normalise.py), for audit.

        Raises:
            InvalidTransition: not IN_SESSION.
            PolicyDenied: ``actor`` is neither the facilitator nor a participant.
            InvalidValue: empty reason / reason not in ``reason_codes`` (field ``reason``), value
                off the scale (field ``to``), no change (field ``to``), naive ``at``.
            NotFound: unknown subject or element.
        """
        self._require("adjust", SessionState.IN_SESSION)
        self._check_actor(actor, facilitator_only=False)
        el = _element(element)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidValue(
                "a reason code is required for every adjustment",
                field="reason",
                valid=", ".join(sorted(self.reason_codes))
                if self.reason_codes
                else "a non-empty reason code",
            )
        if self.reason_codes is not None and reason not in self.reason_codes:
            raise InvalidValue(
                f"unknown reason code {reason!r}",
                field="reason",
                valid=", ".join(sorted(self.reason_codes)),
            )
        current = self.calibrated(subject, el)
        target = self.scale.check(to, field="to")
        if target == current:
            raise InvalidValue(
                f"{subject} is already at {current}",
                field="to",
                valid=f"a value other than {current}",
            )
        event = Adjustment(
            sequence=len(self._adjustments),
            subject=subject,
            element=el,
            from_value=current,
            to_value=target,
            actor=actor,
            reason=reason,
            at=at,
            comment=comment,
            suggested=None if suggested is None else as_decimal(suggested, field="suggested"),
            method=method,
            authorized_by=authorized_by,
        )
        self._adjustments.append(event)
        return event

    # ------------------------------------------------------------------ internals

    def _ratings_of(self, subject: SubjectRef) -> dict[Element, Decimal]:
        try:
            return self._original[subject]
        except KeyError:
            raise NotFound(
                f"{subject} is not a subject of session {self.id}",
                field="subject",
                valid=f"one of {len(self._original)} subjects in the session",
            ) from None

    def _require(self, action: str, *states: SessionState) -> None:
        if self.state not in states:
            raise InvalidTransition(
                f"cannot {action.replace('_', ' ')} while the session is {self.state.value}",
                current=self.state.value,
                requested=action,
                allowed=[s.value for s in states],
            )

    def _check_actor(self, actor: str, *, facilitator_only: bool) -> None:
        if actor == self.facilitator:
            return
        if not facilitator_only and actor in self.participants:
            return
        who = "the facilitator" if facilitator_only else "the facilitator or a participant"
        raise PolicyDenied(
            f"{actor!r} may not do this; only {who} may",
            field="actor",
            valid=self.facilitator
            if facilitator_only
            else ", ".join(sorted({self.facilitator, *self.participants})),
        )

    def _check_move(self, target: SessionState, actor: str) -> None:
        allowed = _NEXT[self.state]
        if target not in allowed:
            raise InvalidTransition(
                f"cannot go from {self.state.value} to {target.value}",
                current=self.state.value,
                requested=target.value,
                allowed=[s.value for s in allowed],
            )
        self._check_actor(actor, facilitator_only=True)

    def _move(self, target: SessionState, actor: str, at: dt.datetime, note: str = "") -> None:
        self._check_move(target, actor)
        ensure_aware(at, field="at")
        self._transitions.append(Transition(self.state, target, actor, at, note))
        self.state = target
