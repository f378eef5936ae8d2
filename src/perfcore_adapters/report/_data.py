"""What the report draws, read from a perfcore message bus (read side only).

Everything here is derived from stored evidence, scorecards, alerts, calibration sessions and the
ledger; nothing is changed. Indicator trends are recomputed per sub-period (weeks for a monthly
plan, months for a quarterly one) with the plan's own indicator definitions.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from attrs import define, field

from perfcore.domain.calibration.ninebox import DEFAULT_LABELS
from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.services.measuring import compute_indicator_values, rows_by_type
from perfcore.services.messagebus import MessageBus
from perfcore.services.records import AcceptedEvidence, AlertRecord, ScorecardRecord

__all__ = [
    "HeatMap",
    "NineBoxPoint",
    "ScenarioData",
    "collect",
    "key_indicator",
    "partial_periods",
    "short",
]


@define
class HeatMap:
    """Counts per cause × row (team/line) × column (week or month)."""

    title: str
    row_label: str
    col_label: str
    causes: list[str]
    rows: list[str]
    cols: list[str]
    counts: dict[tuple[str, str, str], int] = field(factory=dict)
    note: str = ""
    """One line under the title: what is counted, what is grouped or left out."""


@define
class NineBoxPoint:
    """One person on the 9-box: performance position (0-2), growth position (0-2)."""

    label: str
    performance: int
    growth: int
    box: str


@define
class ScenarioData:
    """Everything the report shows for one plan/database."""

    title: str
    plan: Plan
    key: str
    key_title: str
    target: Decimal | None
    threshold: Decimal | None
    grain: str
    trend: dict[str, list[tuple[dt.date, Decimal | None]]]
    groups: dict[str, str]
    periods: list[str]
    cards: dict[str, list[ScorecardRecord]]
    attainment_pct: dict[str, list[float]]
    sessions: list[Any]
    ninebox: list[NineBoxPoint]
    ninebox_session: str
    heat: HeatMap | None
    ledger: list[dict[str, Any]]
    alerts: list[AlertRecord]
    commissions: Mapping[tuple[str, str], Any] = field(factory=dict)
    partial: dict[str, str] = field(factory=dict)
    """Period key → a note when its evidence covers only some of its months
    (e.g. ``"2017-Q1" → "only March has data"``)."""


def short(subject: SubjectRef | str) -> str:
    """``person:TL-S08`` → ``TL-S08``."""
    text = str(subject)
    return text.split(":", 1)[1] if ":" in text else text


def key_indicator(plan: Plan) -> str:
    """The indicator the report charts: the first ratio on the scorecard (attainment, win
    rate ...), else the first scorecard indicator, else the first indicator."""
    for name in plan.scorecard:
        if plan.indicators[name].current.unit == "ratio":
            return name
    return plan.scorecard[0] if plan.scorecard else next(iter(plan.indicators))


def _threshold(plan: Plan, indicator: str) -> Decimal | None:
    for rule in plan.spec.alerts.values():
        if rule.indicator == indicator and rule.kind == "threshold" and rule.below is not None:
            return rule.below
    return None


def _grain(plan: Plan, evidence: list[AcceptedEvidence]) -> str:
    """Weeks for a monthly plan, months for a longer one — days when that would leave fewer
    than four points (a short history)."""
    grain = "week" if plan.period_kind.value in {"day", "week", "month"} else "month"
    if not evidence:
        return grain
    first = min(e.occurred_at for e in evidence).astimezone(plan.tz).date()
    last = max(e.occurred_at for e in evidence).astimezone(plan.tz).date()
    if len(Period.custom(first, last).split(grain)) < 4:
        return "day"
    return grain


def _trend(
    plan: Plan, evidence: list[AcceptedEvidence], key: str, grain: str
) -> dict[str, list[tuple[dt.date, Decimal | None]]]:
    if not evidence:
        return {}
    first = min(e.occurred_at for e in evidence).astimezone(plan.tz).date()
    last = max(e.occurred_at for e in evidence).astimezone(plan.tz).date()
    slots = Period.custom(first, last).split(grain)
    by_subject: dict[SubjectRef, list[AcceptedEvidence]] = defaultdict(list)
    for ev in evidence:
        by_subject[ev.subject].append(ev)
    out: dict[str, list[tuple[dt.date, Decimal | None]]] = {}
    for subject in sorted(by_subject, key=str):
        rows = rows_by_type(by_subject[subject])
        series: list[tuple[dt.date, Decimal | None]] = []
        for slot in slots:
            value = compute_indicator_values(plan, slot, rows)[key].value
            series.append((slot.start, value))
        out[short(subject)] = series
    return out


def _growth(cards: dict[str, list[ScorecardRecord]]) -> dict[str, Decimal]:
    """Change of each subject's total from its first to its last scored period."""
    by_subject: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for period, records in sorted(cards.items()):
        for r in records:
            if r.total is not None:
                by_subject[short(r.subject)].append((period, r.total))
    return {s: values[-1][1] - values[0][1] for s, values in by_subject.items() if len(values) >= 2}


def _tertile(value: Decimal, ordered: list[Decimal]) -> int:
    below = sum(1 for v in ordered if v < value)
    share = below / len(ordered)
    return 0 if share < 1 / 3 else 1 if share < 2 / 3 else 2


def _ninebox(
    sessions: list[Any], cards: dict[str, list[ScorecardRecord]]
) -> tuple[list[NineBoxPoint], str]:
    if not sessions:
        return [], ""
    session = sessions[-1].session
    growth = _growth(cards)
    if not growth:
        return [], session.id
    ordered = sorted(growth.values())
    mapping = session.mapping
    calibrated = session.calibrated_ratings()
    points: list[NineBoxPoint] = []
    for subject, rating in sorted(calibrated.items(), key=lambda kv: str(kv[0])):
        label = short(subject)
        if label not in growth or mapping is None:
            continue
        perf = mapping.order.index(mapping.bucket(rating))
        perf = min(2, round(perf * 2 / max(1, len(mapping.order) - 1)))
        pot = _tertile(growth[label], ordered)
        points.append(NineBoxPoint(label, perf, pot, DEFAULT_LABELS[(perf, pot)]))
    return points, session.id


def _garment_causes(values: Mapping[str, object], usual_workers: float) -> list[str]:
    causes: list[str] = []
    if Decimal(str(values.get("no_of_style_change") or 0)) > 0:
        causes.append("style changeover")
    if Decimal(str(values.get("idle_time") or 0)) > 0:
        causes.append("idle time (machines, power, material)")
    workers = float(Decimal(str(values.get("no_of_workers") or 0)))
    if usual_workers and workers < 0.9 * usual_workers:
        causes.append("short-staffed (<90 % of usual)")
    return causes or ["no cause recorded"]


def _iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _heat_from_alerts(
    plan: Plan, alerts: list[AlertRecord], evidence: list[AcceptedEvidence]
) -> HeatMap | None:
    daily = [a for a in alerts if len(a.period_key) == 10]
    if not daily:
        return None
    by_key: dict[tuple[SubjectRef, dt.date], list[AcceptedEvidence]] = defaultdict(list)
    workers: dict[SubjectRef, list[float]] = defaultdict(list)
    for ev in evidence:
        by_key[(ev.subject, ev.occurred_at.astimezone(plan.tz).date())].append(ev)
        if "no_of_workers" in ev.values:
            workers[ev.subject].append(float(Decimal(str(ev.values["no_of_workers"] or 0))))
    usual = {s: statistics.median(w) for s, w in workers.items() if w}
    garment = any("no_of_style_change" in ev.values for ev in evidence[:50])
    counts: Counter[tuple[str, str, str]] = Counter()
    for alert in daily:
        day = dt.date.fromisoformat(alert.period_key)
        week = _iso_week(day)
        if garment:
            causes: list[str] = []
            for ev in by_key.get((alert.subject, day), []):
                causes += _garment_causes(ev.values, usual.get(alert.subject, 0.0))
            causes = sorted(set(causes)) or ["no cause recorded"]
        else:
            causes = [alert.rule]
        for cause in causes:
            counts[(cause, short(alert.subject), week)] += 1
    order = [
        "style changeover",
        "idle time (machines, power, material)",
        "short-staffed (<90 % of usual)",
        "no cause recorded",
    ]
    found = {k[0] for k in counts}
    causes_sorted = [c for c in order if c in found] + sorted(found - set(order))
    first = min(e.occurred_at for e in evidence).astimezone(plan.tz).date()
    last = max(e.occurred_at for e in evidence).astimezone(plan.tz).date()
    cols = sorted({_iso_week(first + dt.timedelta(days=i)) for i in range((last - first).days + 1)})
    rows = sorted({k[1] for k in counts} | {short(e.subject) for e in evidence})
    days = len({(a.subject, a.period_key) for a in daily})
    panels = sum(counts.values())
    note = f"{len(daily)} daily alerts on {days} team-days"
    if garment and panels != days:
        note += (
            f"; a day with several recorded causes is counted in each of its panels, "
            f"so the panels add up to {panels}"
        )
    return HeatMap(
        "Exception team-days by recorded cause, team leader and week"
        if garment
        else "Alerts by rule, subject and week",
        "team leader" if garment else "subject",
        "ISO week",
        causes_sorted,
        rows,
        cols,
        dict(counts),
        note,
    )


def _heat_from_lost_deals(plan: Plan, evidence: list[AcceptedEvidence]) -> HeatMap | None:
    counts: Counter[tuple[str, str, str]] = Counter()
    for ev in evidence:
        if ev.values.get("deal_stage") != "Lost":
            continue
        manager = plan.manager_of(ev.subject) or "?"
        month = ev.occurred_at.astimezone(plan.tz).strftime("%Y-%m")
        counts[(str(ev.values.get("product") or "?"), manager, month)] += 1
    if not counts:
        return None
    products = Counter()  # type: Counter[str]
    for (product, _, _), n in counts.items():
        products[product] += n
    ranked = [p for p, _ in sorted(products.items(), key=lambda kv: (-kv[1], kv[0]))]
    shown, rest = (ranked, []) if len(ranked) <= 5 else (ranked[:4], ranked[4:])
    causes = list(shown)
    if rest:
        other = f"{len(rest)} other products"
        causes.append(other)
        merged: Counter[tuple[str, str, str]] = Counter()
        for (product, row, col), n in counts.items():
            merged[(other if product in rest else product, row, col)] += n
        counts = merged
    total = sum(products.values())
    note = f"all {total:,} lost deals, {len(ranked)} products"
    if rest:
        note += f"; '{len(rest)} other products' = " + ", ".join(
            f"{p} ({products[p]:,})" for p in rest
        )
    return HeatMap(
        "Lost deals by product (cause), manager's team and month",
        "manager's team",
        "month of close",
        causes,
        sorted({k[1] for k in counts}),
        sorted({k[2] for k in counts}),
        dict(counts),
        note,
    )


def partial_periods(
    plan: Plan, periods: list[str], evidence: list[AcceptedEvidence]
) -> dict[str, str]:
    """Quarters/years whose evidence falls in only some of their months."""
    from perfcore.domain.errors import DomainError
    from perfcore.domain.values import Period

    months = {e.occurred_at.astimezone(plan.tz).strftime("%Y-%m") for e in evidence}
    out: dict[str, str] = {}
    for key in periods:
        try:
            period = Period.parse(key)
        except DomainError:  # an unusual key simply gets no note
            continue
        if str(period.kind.value) not in {"quarter", "year"}:
            continue
        spans = [m.key for m in period.split("month")]
        have = [m for m in spans if m in months]
        if have and len(have) < len(spans):
            names = [dt.date.fromisoformat(f"{m}-01").strftime("%B") for m in have]
            out[key] = f"only {' and '.join(names)} {'has' if len(names) == 1 else 'have'} data"
    return out


def collect(
    bus: MessageBus, title: str, commissions: Mapping[Any, Any] | None = None
) -> ScenarioData:
    """Read everything the report needs from ``bus``."""
    from perfcore_adapters.cli._calib import analyse_session, list_sessions

    plan: Plan = bus.ctx.plan()
    key = key_indicator(plan)
    version = plan.indicators[key].current
    with bus.uow as uow:
        evidence: list[AcceptedEvidence] = list(uow.evidence.list())
        stored = uow.scorecards.list()
        alerts: list[AlertRecord] = list(uow.alerts.list())
    cards: dict[str, list[ScorecardRecord]] = defaultdict(list)
    for _, period, record in stored:
        cards[period].append(record)
    grain = _grain(plan, evidence)
    attainment: dict[str, list[float]] = {}
    for period, records in sorted(cards.items()):
        values = []
        for r in records:
            if r.scorecard is None:
                continue
            for line in r.scorecard.lines:
                if line.indicator == key and line.attainment_percent is not None:
                    values.append(float(line.attainment_percent))
        attainment[period] = values
    sessions = [analyse_session(bus, s.id) for s in list_sessions(bus)]
    points, box_session = _ninebox(sessions, cards)
    groups = {short(s): plan.manager_of(s) or "" for s in {e.subject for e in evidence}}
    is_sales = any("deal_stage" in e.values for e in evidence[:50])
    heat = (
        _heat_from_lost_deals(plan, evidence)
        if is_sales
        else _heat_from_alerts(plan, alerts, evidence)
    )
    from perfcore.services.queries import ledger_balances

    return ScenarioData(
        title=title,
        plan=plan,
        key=key,
        key_title=plan.spec.indicators[key].title or key,
        target=version.target,
        threshold=_threshold(plan, key),
        grain=grain,
        trend=_trend(plan, evidence, key, grain),
        groups=groups,
        periods=sorted(cards),
        cards=dict(cards),
        attainment_pct=attainment,
        partial=partial_periods(plan, sorted(cards), evidence),
        sessions=sessions,
        ninebox=points,
        ninebox_session=box_session,
        heat=heat,
        ledger=ledger_balances(bus),
        alerts=alerts,
        commissions=dict(commissions or {}),
    )
