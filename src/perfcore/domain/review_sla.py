"""Review SLAs: triggers, deadlines, reminders and escalation up the reporting line.

An ad-hoc review is opened by a **trigger** (an alert, a quality exception, a missed milestone) and
must be answered within an SLA measured from the triggering event — 48 h in the shop-floor
scenario (``examples/garment``). Before the deadline the assignee gets **reminders** (default 24 h
and 4 h before); once it is breached the review **escalates** up the subject's reporting line:
level 1 to the manager at the deadline, level 2 to the manager's manager one escalation interval
later, and so on until the line runs out.

:func:`due_actions` is a pure function of (review, now, org chart). It returns *every* action that
is due at ``now``; each action has a stable :attr:`~Reminder.key`, so a service that stores the keys
it has sent can call it on every tick and send only the new ones (or pass ``sent=`` to filter).
Nothing is due once the review has been submitted, finalized or cancelled.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

from attrs import field, frozen

from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import OrgChart, SubjectKind, SubjectRef, ensure_aware

if TYPE_CHECKING:
    from perfcore.domain.review import Review

__all__ = [
    "Escalation",
    "Reminder",
    "ReviewTrigger",
    "SlaPolicy",
    "SlaReport",
    "TriggerKind",
    "due_actions",
    "escalation_chain",
    "sla_report",
]


class TriggerKind(enum.StrEnum):
    """What opened an ad-hoc review."""

    ALERT = "alert"
    QUALITY_EXCEPTION = "quality_exception"
    MISSED_MILESTONE = "missed_milestone"


def _trigger_kind(value: str) -> TriggerKind:
    return parse_choice(TriggerKind, value, field="trigger.kind", what="trigger kind")


def _aware(value: dt.datetime) -> dt.datetime:
    return ensure_aware(value, field="trigger.occurred_at")


@frozen
class ReviewTrigger:
    """The event that opened an ad-hoc review.

    Attributes:
        kind: alert, quality_exception or missed_milestone.
        ref: the triggering record's id (alert id, ticket number, milestone id).
        occurred_at: when the event happened (aware); the SLA clock starts here.

    Raises (on construction):
        InvalidValue: unknown ``kind`` (``trigger.kind``), empty ``ref`` (``trigger.ref``), a
            naive ``occurred_at``.
    """

    kind: TriggerKind = field(converter=_trigger_kind)
    ref: str
    occurred_at: dt.datetime = field(converter=_aware)

    def __attrs_post_init__(self) -> None:
        if not self.ref.strip():
            raise InvalidValue("empty trigger reference", field="trigger.ref", valid="a record id")

    @property
    def key(self) -> str:
        """``kind:ref`` — one live ad-hoc review per subject and trigger key."""
        return f"{self.kind.value}:{self.ref}"


def _timedeltas(value: Iterable[dt.timedelta]) -> tuple[dt.timedelta, ...]:
    return tuple(sorted(value, reverse=True))


@frozen
class SlaPolicy:
    """Response deadline, reminder offsets and escalation cadence.

    Attributes:
        respond_within: deadline measured from the trigger (or from opening, for cycle reviews).
        reminders_before: offsets before the deadline at which the assignee is reminded.
        escalation_interval: time between escalation levels after the breach.
        max_levels: stop after this many levels (``None`` = the whole reporting line).

    Raises (on construction):
        InvalidValue: a non-positive duration, or a reminder offset not inside
            ``(0, respond_within)``.
    """

    respond_within: dt.timedelta = dt.timedelta(hours=48)
    reminders_before: tuple[dt.timedelta, ...] = field(
        default=(dt.timedelta(hours=24), dt.timedelta(hours=4)), converter=_timedeltas
    )
    escalation_interval: dt.timedelta = dt.timedelta(hours=24)
    max_levels: int | None = None

    def __attrs_post_init__(self) -> None:
        zero = dt.timedelta(0)
        if self.respond_within <= zero:
            raise InvalidValue(
                "the response deadline must be positive",
                field="sla.respond_within",
                valid="a positive duration such as 48 hours",
            )
        for i, r in enumerate(self.reminders_before):
            if not zero < r < self.respond_within:
                raise InvalidValue(
                    f"reminder {r} before the deadline is outside the response window",
                    field=f"sla.reminders_before[{i}]",
                    valid=f"between 0 and {self.respond_within}, exclusive",
                )
        if self.escalation_interval <= zero:
            raise InvalidValue(
                "the escalation interval must be positive",
                field="sla.escalation_interval",
                valid="a positive duration such as 24 hours",
            )
        if self.max_levels is not None and self.max_levels < 1:
            raise InvalidValue(
                f"max_levels {self.max_levels} is below 1",
                field="sla.max_levels",
                valid="1 or more, or None for the whole reporting line",
            )


@frozen
class Reminder:
    """Remind ``recipient_id`` that the review is due at ``deadline``.

    ``key`` is stable (``review:<id>:reminder:<seconds before>``) for de-duplication.
    """

    key: str
    review_id: str
    recipient_id: str
    due_at: dt.datetime
    deadline: dt.datetime


@frozen
class Escalation:
    """Tell ``recipient_id`` (level ``level`` of the reporting line) the SLA was breached.

    ``key`` is stable (``review:<id>:escalation:<level>``) for de-duplication.
    """

    key: str
    review_id: str
    level: int
    recipient_id: str
    due_at: dt.datetime
    deadline: dt.datetime


def escalation_chain(subject: SubjectRef, org: OrgChart) -> list[str]:
    """People to escalate to, nearest first.

    A person's chain is their reporting line (manager, manager's manager, ...). A team's chain is
    the team unit's manager followed by that manager's reporting line. A subject unknown to the
    org chart has an empty chain.
    """
    if subject.kind is SubjectKind.PERSON:
        if subject.id not in org.people:
            return []
        return org.reporting_line(subject.id)
    unit = org.units.get(subject.id)
    if unit is None:
        return []
    chain: list[str] = []
    if unit.manager_id is not None:
        chain.append(unit.manager_id)
        if unit.manager_id in org.people:
            chain += [m for m in org.reporting_line(unit.manager_id) if m not in chain]
        return chain
    parent = unit.parent_id
    while parent is not None and not chain:
        mgr = org.units[parent].manager_id
        if mgr is not None:
            chain.append(mgr)
            if mgr in org.people:
                chain += [m for m in org.reporting_line(mgr) if m not in chain]
        parent = org.units[parent].parent_id
    return chain


def due_actions(
    review: Review, now: dt.datetime, org: OrgChart, *, sent: Collection[str] = ()
) -> list[Reminder | Escalation]:
    """Reminders and escalations due for ``review`` at ``now``, in time order.

    * Nothing when the review has no SLA, is not yet open, or has been answered (submitted,
      finalized) or cancelled.
    * Reminders go to the assignee (default: the subject's manager) at ``deadline - offset`` and
      only while the deadline has not passed — after a breach the escalation takes over.
    * Escalation level k (1-based) is due once ``now`` is past
      ``deadline + (k - 1) × escalation_interval`` (a response exactly at the deadline is on time)
      and goes to the k-th person of :func:`escalation_chain`. Example (48 h SLA, 24 h interval): at
      49 h one escalation to the manager; just after 72 h the manager's manager is added.
    * Actions whose key is in ``sent`` are left out; the rest is identical on every call.

    Raises:
        InvalidValue: ``now`` is naive.
    """
    ensure_aware(now, field="now")
    deadline = review.sla_deadline
    sla = review.sla
    if sla is None or deadline is None or not review.awaiting_response:
        return []
    chain = escalation_chain(review.subject, org)
    assignee = review.assignee_id or (chain[0] if chain else None)
    out: list[Reminder | Escalation] = []
    if assignee is not None and now < deadline:
        for offset in sla.reminders_before:
            at = deadline - offset
            if at <= now:
                key = f"review:{review.id}:reminder:{int(offset.total_seconds())}s"
                out.append(Reminder(key, review.id, assignee, at, deadline))
    if now > deadline:
        levels = len(chain) if sla.max_levels is None else min(len(chain), sla.max_levels)
        for level in range(1, levels + 1):
            at = deadline + (level - 1) * sla.escalation_interval
            if at >= now:
                break
            key = f"review:{review.id}:escalation:{level}"
            out.append(Escalation(key, review.id, level, chain[level - 1], at, deadline))
    return [a for a in out if a.key not in sent]


@frozen
class SlaReport:
    """Response-time and SLA facts over a set of reviews (cancelled reviews are left out).

    Attributes:
        reviews: reviews considered.
        answered: reviews with a first submission.
        with_sla: reviews that have an SLA deadline.
        breached: reviews with an SLA that were answered late or are unanswered past the deadline.
        on_time_rate: (with_sla − breached) / with_sla as an exact fraction, ``None`` without SLA.
        mean_response / median_response: over answered reviews (median of an even count is the
            mean of the two middle values), ``None`` when nothing was answered.
    """

    reviews: int
    answered: int
    with_sla: int
    breached: int
    on_time_rate: Fraction | None
    mean_response: dt.timedelta | None
    median_response: dt.timedelta | None


def sla_report(reviews: Iterable[Review], now: dt.datetime) -> SlaReport:
    """Summarise response times and SLA breaches at ``now`` (response time is itself a measure:
    the NPI scenario reports cross-department response time in hours).

    Raises:
        InvalidValue: ``now`` is naive.
    """
    from perfcore.domain.review import ReviewState

    ensure_aware(now, field="now")
    live = [r for r in reviews if r.state is not ReviewState.CANCELLED]
    times = sorted(t for r in live if (t := r.response_time) is not None)
    with_sla = [r for r in live if r.sla_deadline is not None]
    breached = sum(1 for r in with_sla if r.sla_breached(now))
    mean = sum(times, dt.timedelta(0)) / len(times) if times else None
    median: dt.timedelta | None = None
    if times:
        mid = len(times) // 2
        median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
    rate = Fraction(len(with_sla) - breached, len(with_sla)) if with_sla else None
    return SlaReport(len(live), len(times), len(with_sla), breached, rate, mean, median)
