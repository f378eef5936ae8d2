"""Replaying recorded evidence through the closed loop on a simulated clock.

Used by ``perfcore demo`` (real data, two scenarios) and ``perfcore simulate`` (a proposed plan in
a throwaway store). The replay moves a :class:`~perfcore.testing.fakes.FakeClock` through the
calendar: evidence of each slice (a day, a month) is ingested at the end of that slice, so alerts
and the reviews they open carry the time the data would have arrived; the clock ticks twice a day
so reminders and escalations fire when their SLA says; at each period close, incentives are
evaluated and — in the demo — managers' period reviews and a calibration session are run.

**What is simulated, and said so in the output:** the data are real; the *people's behaviour* is
not in the data and is simulated deterministically (no randomness): when a reviewer answers an
alert review (a hash of the review id decides: 7 in 10 within 6-30 h, 2 in 10 after about 60 h —
so after an escalation — and 1 in 10 not at all), and the managers' period ratings (from the rank of
the scorecard total within the manager's team, plus a declared per-manager bias so that
calibration has something to find).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal

from attrs import define, field

from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.services import commands as c
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock
from perfcore_adapters.cli._ingest import SyncTotals, ingest_rows

__all__ = [
    "ReplayLog",
    "ReviewerBehaviour",
    "Slice",
    "rating_from_rank",
    "replay",
]

Row = Mapping[str, object]


@define
class Slice:
    """Rows that arrive together: at ``arrives`` (aware), for plan source ``source``."""

    arrives: dt.datetime
    source: str
    rows: list[Row] = field(factory=list)


@define
class ReplayLog:
    """What happened during a replay (counts for the summary)."""

    ingest: dict[str, SyncTotals] = field(factory=dict)
    ticks: int = 0
    reminders: int = 0
    escalations: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    period_reviews: int = 0
    calibrations: list[str] = field(factory=list)
    incentive_entries: int = 0
    closed_periods: list[str] = field(factory=list)


def _bucket(key: str, modulo: int = 10) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % modulo


@define
class ReviewerBehaviour:
    """Deterministic simulated answering of alert reviews (see the module docstring)."""

    planned: dict[str, dt.datetime | None] = field(factory=dict)

    def answer_time(self, review_id: str, opened: dt.datetime) -> dt.datetime | None:
        """When the reviewer answers review ``review_id`` (``None``: never, in this replay)."""
        if review_id not in self.planned:
            b = _bucket(review_id)
            if b <= 6:
                when: dt.datetime | None = opened + dt.timedelta(hours=6 + 4 * b)
            elif b <= 8:
                when = opened + dt.timedelta(hours=58 + b)
            else:
                when = None
            self.planned[review_id] = when
        return self.planned[review_id]


def rating_from_rank(rank: int, count: int) -> Decimal:
    """The simulated manager's starting rating from a subject's rank by scorecard total
    (0 = lowest of ``count``): bottom 20 % → 2, top 20 % → 4, the rest → 3."""
    share = Decimal(rank) / Decimal(count) if count else Decimal(0)
    if share < Decimal("0.2"):
        return Decimal(2)
    if share >= Decimal("0.8"):
        return Decimal(4)
    return Decimal(3)


def _answer_due(
    bus: MessageBus, clock: FakeClock, behaviour: ReviewerBehaviour, log: ReplayLog
) -> None:
    from perfcore.domain.review import Review

    now = clock.now()
    with bus.uow as uow:
        reviews: list[Review] = [r for k in uow.reviews.open_keys() if (r := uow.reviews.get(k))]
    for review in reviews:
        if review.first_submitted_at is not None or review.trigger is None:
            continue
        if not review.id.startswith("rv:") or ":alert:" not in review.id:
            continue
        when = behaviour.answer_time(review.id, review.trigger.occurred_at)
        if when is None or when > now:
            continue
        late = review.sla_deadline is not None and now > review.sla_deadline
        bus.handle(c.SubmitReview(review.id, Decimal(2), "recovery plan agreed with the team"))
        bus.handle(c.FinalizeReview(review.id))
        if late:
            log.answered_late += 1
        else:
            log.answered_on_time += 1


def _tick(bus: MessageBus, log: ReplayLog) -> None:
    result = bus.handle(c.TickClock())
    log.ticks += 1
    log.reminders += int(getattr(result, "reminders", 0) or 0)
    log.escalations += int(getattr(result, "escalations", 0) or 0)


PeriodClose = Callable[[MessageBus, FakeClock, Period, ReplayLog], None]


def replay(
    bus: MessageBus,
    clock: FakeClock,
    plan: Plan,
    slices: Sequence[Slice],
    *,
    until: dt.datetime,
    on_period_close: PeriodClose | None = None,
    behaviour: ReviewerBehaviour | None = None,
    tick_hours: Iterable[int] = (6, 18),
    progress: Callable[[int], None] | None = None,
) -> ReplayLog:
    """Replay ``slices`` (sorted by arrival) through the bus, ticking the clock at
    ``tick_hours`` (local) every day until ``until``; ``on_period_close`` runs after the last
    slice of each plan period (the morning after it ends). Returns the replay log."""
    log = ReplayLog()
    behaviour = behaviour or ReviewerBehaviour()
    tz = plan.tz
    by_day: dict[dt.date, list[Slice]] = defaultdict(list)
    for s in slices:
        by_day[s.arrives.astimezone(tz).date()].append(s)
    if not slices:
        return log
    day = min(s.arrives for s in slices).astimezone(tz).date()
    last = until.astimezone(tz).date()
    hours = sorted(tick_hours)
    open_periods: dict[str, Period] = {}
    while day <= last:
        todays = sorted(by_day.get(day, []), key=lambda s: s.arrives)
        events: list[tuple[dt.datetime, Slice | None]] = [
            (dt.datetime.combine(day, dt.time(h), tz), None) for h in hours
        ]
        events += [(s.arrives, s) for s in todays]
        events.sort(key=lambda e: (e[0], e[1] is not None))
        for at, piece in events:
            if at > until:
                break
            if at > clock.now():
                clock.set(at)
            if piece is None:
                _answer_due(bus, clock, behaviour, log)
                _tick(bus, log)
                continue
            totals = log.ingest.setdefault(piece.source, SyncTotals(piece.source))
            ingest_rows(bus, piece.source, piece.rows, totals=totals)
            if progress is not None:
                progress(len(piece.rows))
            period = plan.period_of(piece.arrives)
            open_periods[period.key] = period
        tomorrow = day + dt.timedelta(days=1)
        for key, period in sorted(open_periods.items()):
            if period.end <= day and on_period_close is not None:
                close_at = dt.datetime.combine(tomorrow, dt.time(9), tz)
                if close_at <= until:
                    clock.set(max(clock.now(), close_at))
                    on_period_close(bus, clock, period, log)
                    log.closed_periods.append(key)
                    del open_periods[key]
            elif period.end <= day:
                del open_periods[key]
        day = tomorrow
    clock.set(max(clock.now(), until))
    _answer_due(bus, clock, behaviour, log)
    _tick(bus, log)
    return log


def _period_review(
    bus: MessageBus,
    subject: SubjectRef,
    manager: str,
    period: Period,
    trigger_at: dt.datetime,
    rating: Decimal,
) -> None:
    review_id = bus.handle(
        c.OpenReview(
            subject,
            f"period:{period.key}",
            reviewer=manager,
            triggered_at=trigger_at,
            review_id=f"rv:{subject}:period:{period.key}",
        )
    )
    bus.handle(c.SubmitReview(review_id, rating, f"{period.key} review"))
    bus.handle(c.FinalizeReview(review_id))


def close_period_with_reviews(
    *,
    rater_bias: Mapping[str, int],
    calibrate: bool = True,
    adjust_flagged: bool = True,
) -> PeriodClose:
    """A period-close step: evaluate incentives; each subject's manager rates them (rating from
    the rank of their scorecard total within the manager's team + the manager's declared bias, held
    in 1-5); then a calibration session
    ``cal-<period>`` over those ratings, where the committee moves the ratings of flagged raters'
    people to the z-score suggestion (reason ``rater_bias``), locks and publishes; finally the
    period is closed (late evidence no longer re-scores it without an explicit recompute)."""

    def close(bus: MessageBus, clock: FakeClock, period: Period, log: ReplayLog) -> None:
        from perfcore.services.queries import scorecards

        plan: Plan = bus.ctx.plan()
        awarded = bus.handle(c.EvaluateIncentives(period.key))
        log.incentive_entries += len(awarded or [])
        cards = scorecards(bus, period.key)
        teams: dict[str, list[dict[str, object]]] = defaultdict(list)
        for card in cards:
            manager = plan.manager_of(SubjectRef.parse(str(card["subject"]))) or ""
            teams[manager].append(card)
        trigger_at = clock.now() - dt.timedelta(hours=10)
        for manager, members in sorted(teams.items()):
            ranked = sorted(members, key=lambda m: (Decimal(str(m["total"] or 0)), m["subject"]))
            for rank, card in enumerate(ranked):
                subject = SubjectRef.parse(str(card["subject"]))
                rating = rating_from_rank(rank, len(ranked)) + rater_bias.get(manager, 0)
                rating = min(max(rating, Decimal(1)), Decimal(5))
                _period_review(bus, subject, manager, period, trigger_at, rating)
                log.period_reviews += 1
        if not calibrate or not cards:
            bus.handle(c.ClosePeriod(period.key, by="hr", reason="period reviewed"))
            return
        session = f"cal-{period.key}"
        clock.advance(hours=2)
        bus.handle(c.RunCalibration(session, period.key, facilitator="hr"))
        if adjust_flagged:
            from perfcore_adapters.cli._calib import analyse_session

            view = analyse_session(bus, session)
            flagged = {r for r, f in view.flags if f.kind in {"leniency", "severity"}}
            for s in view.suggestions:
                if s.rater in flagged and s.suggested is not None and s.suggested != s.calibrated:
                    bus.handle(
                        c.AdjustRating(
                            session, s.subject, s.suggested, actor="hr", reason="rater_bias"
                        )
                    )
        bus.handle(c.LockCalibration(session))
        bus.handle(c.PublishCalibration(session))
        log.calibrations.append(session)
        bus.handle(c.ClosePeriod(period.key, by="hr", reason="period reviewed and calibrated"))

    return close
