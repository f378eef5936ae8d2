"""The read side: plain dicts shaped for UIs and APIs, separate from the aggregates.

Every function takes the :class:`~perfcore.services.messagebus.MessageBus` (for its unit of
work, clock and plan) and returns JSON-ready data: numbers as strings with their stated rounding
(scores 3 dp, percentages 2 dp, money/points exact), times as ISO 8601, subjects as
``kind:id``. Nothing here changes state.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from perfcore.domain.calibration import normalise
from perfcore.domain.calibration.bias import rater_bias
from perfcore.domain.calibration.session import CalibrationSession
from perfcore.domain.errors import NotFound, PolicyDenied
from perfcore.domain.ledger import LedgerEntry
from perfcore.domain.review import Review
from perfcore.domain.values import (
    PERCENT_PLACES,
    SCORE_PLACES,
    Period,
    SubjectRef,
    quantize,
)
from perfcore.domain.visibility import (
    Action,
    Decision,
    Target,
    TargetKind,
    Viewer,
    VisibilityContext,
    decide,
)
from perfcore.plan import Plan
from perfcore.services.handlers.incentives import load_ledger
from perfcore.services.handlers.milestones import milestone_report
from perfcore.services.measuring import compute_indicator_values, rows_by_type
from perfcore.services.messagebus import MessageBus
from perfcore.services.records import ScorecardRecord

__all__ = [
    "calibration_grid",
    "ledger_balances",
    "milestones",
    "review_inbox",
    "scorecard",
    "scorecards",
    "team_dashboard",
]

Row = dict[str, Any]


def _num(value: Decimal | None, places: int | None = None) -> str | None:
    if value is None:
        return None
    shown = quantize(value, places) if places is not None else value
    return format(shown.normalize() if places is None else shown, "f")


def _card(record: ScorecardRecord) -> Row:
    card = record.scorecard
    lines: list[Row] = []
    if card is not None:
        lines = [
            {
                "indicator": ln.indicator,
                "objective": ln.objective,
                "value": _num(ln.value),
                "unit": ln.unit,
                "attainment_percent": _num(ln.attainment_percent, PERCENT_PLACES),
                "score": _num(ln.score, SCORE_PLACES),
                "weight": _num(ln.weight),
                "effective_weight": _num(ln.effective_weight, 4),
                "evidence_count": ln.evidence_count,
                "explanation": ln.explanation,
            }
            for ln in card.lines
        ]
    return {
        "subject": str(record.subject),
        "period": record.period_key,
        "plan_version": record.plan_version,
        "computed_at": record.computed_at.isoformat(),
        "total": _num(record.total, SCORE_PLACES),
        "values": {k: _num(v) for k, v in record.values.items()},
        "evidence_count": record.evidence_count,
        "lines": lines,
        "notes": list(card.notes) if card is not None else [],
    }


def _visible(
    bus: MessageBus, viewer: Viewer | None, subject: SubjectRef, released_at: dt.datetime | None
) -> Decision | None:
    if viewer is None:
        return None
    plan: Plan = bus.ctx.plan()
    target = Target(TargetKind.RESULT, subject, released_at=released_at)
    return decide(viewer, Action.VIEW, target, VisibilityContext(plan.org, bus.ctx.clock.now()))


def scorecard(
    bus: MessageBus,
    subject: SubjectRef,
    period_key: str,
    *,
    viewer: Viewer | None = None,
    released_at: dt.datetime | None = None,
) -> Row:
    """One stored scorecard; ``NotFound`` when it was never computed.

    With ``viewer`` the visibility policy (:func:`perfcore.domain.visibility.decide`) is applied
    first: the person scored sees it once ``released_at`` has passed, managers on the reporting
    line and HR in scope always; anyone else gets ``PolicyDenied`` with the reason."""
    decision = _visible(bus, viewer, subject, released_at)
    if decision is not None and not decision.allowed:
        raise PolicyDenied(decision.reason, field="visibility")
    with bus.uow as uow:
        record: ScorecardRecord | None = uow.scorecards.get(subject, period_key)
    if record is None:
        raise NotFound(f"no scorecard for {subject} in {period_key}", field="period_key")
    return _card(record)


def scorecards(
    bus: MessageBus,
    period_key: str,
    *,
    viewer: Viewer | None = None,
    released_at: dt.datetime | None = None,
) -> list[Row]:
    """Every stored scorecard of a period (those ``viewer`` may see, when given), ranked by
    total (highest first, no total last)."""
    with bus.uow as uow:
        records: list[tuple[SubjectRef, str, ScorecardRecord]] = uow.scorecards.list(
            period_key=period_key
        )
    rows = []
    for subject, _key, record in records:
        decision = _visible(bus, viewer, subject, released_at)
        if decision is None or decision.allowed:
            rows.append(_card(record))
    rows.sort(key=lambda r: (r["total"] is None, -Decimal(r["total"] or 0), r["subject"]))
    return rows


def team_dashboard(
    bus: MessageBus,
    *,
    start: dt.date,
    end: dt.date,
    subjects: list[SubjectRef] | None = None,
    manager: str | None = None,
    indicators: list[str] | None = None,
) -> Row:
    """Indicator values per subject per **day** from ``start`` to ``end`` (inclusive).

    The team is ``subjects``, or the people in ``manager``'s reporting subtree, or every subject
    with evidence. Values are computed from evidence on the fly (daily grain), so the dashboard
    is live even between scorecard refreshes."""
    plan: Plan = bus.ctx.plan()
    names = indicators or list(plan.indicators)
    days = Period.custom(start, end).split("day")
    with bus.uow as uow:
        if subjects is None:
            if manager is not None:
                subjects = [SubjectRef.person(p) for p in sorted(plan.org.subtree(manager))]
            else:
                subjects = uow.evidence.subjects()
        _, until = days[-1].bounds(plan.tz)
        rows: list[Row] = []
        for subject in subjects:
            evidence = rows_by_type(uow.evidence.list(subject=subject, end=until))
            for day in days:
                values = compute_indicator_values(plan, day, evidence)
                rows.append(
                    {
                        "subject": str(subject),
                        "day": day.start.isoformat(),
                        **{n: _num(values[n].value) for n in names},
                    }
                )
    return {
        "days": [d.start.isoformat() for d in days],
        "indicators": names,
        "subjects": [str(s) for s in subjects],
        "rows": rows,
    }


def _sla_status(review: Review, now: dt.datetime, soon: dt.timedelta) -> tuple[str, str | None]:
    deadline = review.sla_deadline
    if deadline is None:
        return "no_sla", None
    left = deadline - now
    hours = _num(Decimal(int(left.total_seconds())) / Decimal(3600), 1)
    if review.first_submitted_at is not None:
        return ("answered_late" if review.sla_breached(now) else "answered_on_time"), hours
    if now > deadline:
        return "overdue", hours
    if left <= soon:
        return "due_soon", hours
    return "on_time", hours


def review_inbox(
    bus: MessageBus, assignee: str | None = None, *, due_soon_hours: int = 24
) -> list[Row]:
    """Open reviews (of one assignee when given), most urgent first, each with its SLA status:
    ``overdue``, ``due_soon`` (within ``due_soon_hours``), ``on_time``, or ``no_sla``."""
    now = bus.ctx.clock.now()
    soon = dt.timedelta(hours=due_soon_hours)
    out: list[Row] = []
    with bus.uow as uow:
        for key in uow.reviews.open_keys():
            review: Review | None = uow.reviews.get(key)
            if review is None or (assignee is not None and review.assignee_id != assignee):
                continue
            status, hours_left = _sla_status(review, now, soon)
            deadline = review.sla_deadline
            out.append(
                {
                    "review_id": review.id,
                    "subject": str(review.subject),
                    "assignee": review.assignee_id,
                    "state": review.state.value,
                    "trigger": review.trigger.key if review.trigger is not None else None,
                    "due_at": deadline.isoformat() if deadline is not None else None,
                    "hours_left": hours_left,
                    "sla_status": status,
                }
            )
    order = {"overdue": 0, "due_soon": 1, "on_time": 2, "no_sla": 3}
    out.sort(key=lambda r: (order.get(r["sla_status"], 4), r["due_at"] or "", r["review_id"]))
    return out


def _suggestions(
    session: CalibrationSession, method: str
) -> dict[SubjectRef, tuple[str | None, str]]:
    """Normalisation suggestion per subject (2 dp, or ``None`` with the reason it was skipped).
    Suggestions are shown, never applied: the committee decides with ``AdjustRating``."""
    batch, subjects, _raters = session.rating_batch()
    if not subjects:
        return {}
    if method == normalise.Method.SHRINKAGE:
        result = normalise.shrinkage(batch, scale=session.scale).suggestions
    elif method == normalise.Method.PERCENTILE:
        result = normalise.percentile_ranks(batch)
    else:
        fn = {
            normalise.Method.ZSCORE: normalise.zscore,
            normalise.Method.MEAN_SHIFT: normalise.mean_shift,
            normalise.Method.RATIO: normalise.ratio,
            normalise.Method.MIN_MAX: normalise.min_max,
        }[normalise.Method(method)]
        result = fn(batch, scale=session.scale)
    out: dict[SubjectRef, tuple[str | None, str]] = {}
    for i, subject in enumerate(subjects):
        value = result.values[i]
        why = result.skipped.get(batch.raters[i], "")
        shown = None if value is None else format(Decimal(repr(value)).quantize(Decimal("0.01")))
        out[subject] = (shown, why)
    return out


def _rater_bias(session: CalibrationSession) -> list[Row]:
    """Per-rater bias statistics and flags over the original ratings
    (:func:`perfcore.domain.calibration.bias.rater_bias`, which documents the formulas): leniency /
    severity t, range restriction, middle share, distribution vs guideline. Raters with fewer
    than 4 ratings are suppressed (no statistics, no flags). Empty without a bucket mapping."""
    if session.mapping is None:
        return []
    batch, subjects, raters = session.rating_batch()
    if not subjects:
        return []
    report = rater_bias(batch, mapping=session.mapping, guideline=session.guideline, names=raters)

    def fixed(x: float | None, places: str = "0.01") -> str | None:
        return None if x is None else format(Decimal(repr(x)).quantize(Decimal(places)))

    rows: list[Row] = []
    for r in report.raters:
        rows.append(
            {
                "rater": raters[r.rater],
                "ratings": r.n,
                "suppressed": r.suppressed,
                "mean": fixed(r.mean),
                "leniency_t": fixed(r.t),
                "range_ratio": fixed(r.range_ratio),
                "middle_share": fixed(r.middle_share),
                "flags": [
                    {"kind": f.kind, "statistic": fixed(f.statistic), "sentence": f.sentence}
                    for f in r.flags
                ],
            }
        )
    return rows


def calibration_grid(bus: MessageBus, session_id: str) -> Row:
    """A session as a grid: each subject's original and calibrated rating and bucket, the
    normalisation suggestion of the plan's method (shown, never applied), per-rater bias
    statistics and flags (``raters``; suppressed below 4 ratings), the head count per bucket,
    and the live guideline check."""
    plan: Plan = bus.ctx.plan()
    with bus.uow as uow:
        session: CalibrationSession | None = uow.calibrations.get(session_id)
    if session is None:
        raise NotFound(f"no calibration session {session_id!r}", field="session_id")
    calibrated = session.calibrated_ratings()
    method = plan.spec.calibration.method
    suggested = _suggestions(session, method)
    subjects = []
    for subject in sorted(session.subjects, key=str):
        rating = calibrated.get(subject)
        suggestion, why = suggested.get(subject, (None, "no rater recorded"))
        subjects.append(
            {
                "subject": str(subject),
                "original": _num(session.original(subject)),
                "calibrated": _num(rating),
                "bucket": (
                    session.mapping.bucket(rating)
                    if session.mapping is not None and rating is not None
                    else None
                ),
                "adjustments": len(session.history(subject)),
                "suggested": suggestion,
                "suggestion_note": why,
            }
        )
    check = session.check_guideline()
    return {
        "session": session.id,
        "state": session.state.value,
        "method": method,
        "subjects": subjects,
        "raters": _rater_bias(session),
        "buckets": session.bucket_counts() if session.mapping is not None else {},
        "guideline_ok": None if check is None else check.ok,
        "guideline_summary": "" if check is None else check.summary(),
        "lock_warnings": list(session.lock_warnings),
    }


def ledger_balances(bus: MessageBus, subject: SubjectRef | None = None) -> list[Row]:
    """Balances per account (exact), with the number of entries, ordered by subject."""
    with bus.uow as uow:
        ledger = load_ledger(uow)
    rows: list[Row] = []
    for account, balance in ledger.balances().items():
        if subject is not None and account.subject != subject:
            continue
        entries: tuple[LedgerEntry, ...] = ledger.entries_for(account)
        rows.append(
            {
                "subject": str(account.subject),
                "kind": account.kind.value,
                "unit": account.unit,
                "balance": _num(balance),
                "entries": len(entries),
            }
        )
    rows.sort(key=lambda r: (r["subject"], r["kind"], r["unit"]))
    return rows


def milestones(bus: MessageBus, as_of: dt.date | None = None, *, weighted: bool = False) -> Row:
    """The plan's milestones and their on-time rate as of the local date ``as_of`` (default:
    today in the plan's zone): one row per milestone (due, completed_on, days_late, on_time,
    root_cause) and ``rate`` / ``rate_percent`` (2 dp; ``None`` before anything is counted).
    See :func:`perfcore.services.handlers.milestones.milestone_report`."""
    plan: Plan = bus.ctx.plan()
    day = as_of or bus.ctx.clock.now().astimezone(plan.tz).date()
    with bus.uow as uow:
        return milestone_report(uow, plan, day, weighted=weighted)
