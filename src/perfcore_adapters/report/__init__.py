"""The HTML + PNG report (``perfcore report --out DIR``, and the demo's ``DIR/report``).

``write_report(out_dir, buses, titles=...)`` reads each bus (read side only) and writes
``index.html`` — self-contained, the charts embedded as base64 — plus the same charts as PNG files
in ``charts/``: indicator trend per person, attainment distribution, calibration distribution vs
guideline, 9-box grid, exception root-cause heat map (cause × team × week).
"""

from __future__ import annotations

import base64
import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["build_section", "render_html", "write_report"]

_CAPTIONS = {
    "trend": (
        "One small chart per person, coloured by their manager. Dashed green: target; dotted "
        "red: the alert threshold. Look for people who stay under the red line, and for whole "
        "teams that move together (a line or product problem rather than a person's)."
    ),
    "distribution": (
        "How far from target each scorecard landed, stacked by period. A pile far right of "
        "100 % suggests targets that are too easy; far left, too hard (challenge diagnosis "
        "uses 130 % / 70 %)."
    ),
    "calibration": (
        "Share of people per rating bucket: the guideline (grey), what the managers gave "
        "(orange) and the result after the calibration committee (blue). Flagged raters are "
        "named above each panel."
    ),
    "ninebox": (
        "Each person placed by calibrated performance and by how their scorecard total moved "
        "between the first and last period. The box labels suggest the conversation to have."
    ),
    "heatmap": (
        "Where exceptions come from: each panel is one cause; darker cells mean more "
        "exceptions for that row in that column. Use it in the monthly 'what did the data "
        "reveal' meeting."
    ),
}


def _fmt(value: Decimal | float | None, pct: bool) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f} %" if pct else f"{float(value):,.3f}"


def _period_rows(data: Any) -> list[dict[str, str]]:
    from perfcore_adapters.report._charts import _is_ratio

    pct = _is_ratio(data)
    rows = []
    for period in data.periods:
        records = data.cards.get(period, [])
        values = sorted(r.values[data.key] for r in records if r.values.get(data.key) is not None)
        totals = [float(r.total) for r in records if r.total is not None]
        rows.append(
            {
                "period": f"{period} ({data.partial[period]})"
                if period in data.partial
                else period,
                "n": str(len(records)),
                "median": _fmt(statistics.median(values), pct) if values else "—",
                "low": _fmt(values[0], pct) if values else "—",
                "high": _fmt(values[-1], pct) if values else "—",
                "total": f"{statistics.median(totals):.3f}" if totals else "—",
            }
        )
    return rows


def _loop_rows(bus: Any) -> list[dict[str, str]]:
    """What the loop did, from the stores: evidence, alerts by rule, reviews and their SLA
    outcome, notifications by template."""
    from collections import Counter

    with bus.uow as uow:
        evidence = len(uow.evidence.list())
        quarantined = len(uow.evidence.quarantined())
        alerts = Counter(a.rule for a in uow.alerts.list())
        reviews = list(uow.reviews.list())
        open_keys = set(uow.reviews.open_keys())
        outbox = Counter(m.template for m in uow.outbox.all() if m.kind != "event")
    answered = [r for r in reviews if r.first_submitted_at is not None]
    late = [r for r in answered if r.sla_breached(r.first_submitted_at)]
    rows = [
        {"what": "evidence accepted", "count": f"{evidence:,}", "note": ""},
        {"what": "evidence quarantined", "count": f"{quarantined:,}", "note": "with reason"},
    ]
    rows += [
        {"what": f"alerts: {rule}", "count": f"{n:,}", "note": ""}
        for rule, n in sorted(alerts.items())
    ]
    rows += [
        {"what": "reviews", "count": f"{len(reviews):,}", "note": f"{len(open_keys)} still open"},
        {
            "what": "answered within SLA",
            "count": f"{len(answered) - len(late):,}",
            "note": f"of {len(answered)} answered",
        },
    ]
    rows += [
        {"what": f"notifications: {t}", "count": f"{n:,}", "note": "outbox"}
        for t, n in sorted(outbox.items())
    ]
    return rows


def _commission_rows(commissions: Mapping[Any, Any]) -> list[dict[str, str]]:
    ranked = sorted(commissions.items(), key=lambda kv: -kv[1].amount)[:10]
    out = []
    for (subject, period), result in ranked:
        out.append(
            {
                "agent": str(subject).split(":", 1)[-1],
                "period": period,
                "booked": f"{result.attainment * 100000:,.0f}",
                "attainment": f"{float(result.attainment) * 100:.1f} %",
                "amount": f"{result.amount:,.2f}",
            }
        )
    return out


def build_section(
    bus: Any,
    title: str,
    charts_dir: Path,
    commissions: Mapping[Any, Any] | None = None,
) -> dict[str, Any]:
    """Draw one scenario's charts into ``charts_dir`` and return its section of the report
    (plain data: picklable, ready for :func:`render_html`)."""
    from perfcore_adapters.report import _charts
    from perfcore_adapters.report._data import collect, short

    charts_dir.mkdir(parents=True, exist_ok=True)
    data = collect(bus, title, commissions)
    slug = "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")
    drawn: list[tuple[str, str, Path]] = [
        (
            "trend",
            f"{data.key_title} per {data.grain}",
            _charts.indicator_trend(data, charts_dir / f"{slug}-trend.png"),
        ),
        (
            "distribution",
            "Attainment distribution",
            _charts.attainment_distribution(data, charts_dir / f"{slug}-attainment.png"),
        ),
    ]
    if data.sessions:
        drawn.append(
            (
                "calibration",
                "Calibration: distribution vs guideline",
                _charts.calibration_vs_guideline(data, charts_dir / f"{slug}-calibration.png"),
            )
        )
    if data.ninebox:
        drawn.append(
            ("ninebox", "9-box grid", _charts.nine_box(data, charts_dir / f"{slug}-9box.png"))
        )
    if data.heat is not None:
        drawn.append(
            (
                "heatmap",
                "Exception root causes",
                _charts.exception_heatmap(data.heat, title, charts_dir / f"{slug}-heatmap.png"),
            )
        )
    charts = [
        {
            "id": f"{slug}-{kind}",
            "title": name,
            "caption": _CAPTIONS[kind],
            "file": f"{charts_dir.name}/{path.name}",
            "data": base64.b64encode(path.read_bytes()).decode("ascii"),
        }
        for kind, name, path in drawn
    ]
    flags = [
        {"session": view.session.id, "sentence": flag.sentence}
        for view in data.sessions
        for _, flag in view.flags
        if flag.kind in {"leniency", "severity"}
    ]
    ledger = sorted(data.ledger, key=lambda r: -Decimal(r["balance"]))[:10]
    return {
        "title": title,
        "anchor": slug,
        "plan_name": data.plan.name,
        "period_kind": data.plan.period_kind.value,
        "tz": data.plan.spec.time_zone,
        "key": data.key,
        "key_title": data.key_title,
        "target": str(data.target) if data.target is not None else "",
        "evidence": f"{_count(bus):,}",
        "alerts": len(data.alerts),
        "periods": _period_rows(data),
        "loop": _loop_rows(bus),
        "charts": charts,
        "flags": flags,
        "ledger": [dict(r, subject=short(r["subject"])) for r in ledger],
        "commissions": _commission_rows(data.commissions) if data.commissions else [],
        "commission_rule": (
            "8 % of bookings up to the quarterly quota of 100,000 USD, 1.5x on the slice "
            "from 100 % to 150 % of quota, 2x above (marginal accelerators)."
        ),
    }


def render_html(sections: Sequence[Mapping[str, Any]], out_dir: Path) -> Path:
    """Write ``out_dir/index.html`` from sections built by :func:`build_section`."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    html = env.get_template("report.html.j2").render(
        scenarios=sections,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=_version(),
        chart_dir="charts",
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    target.write_text(html, encoding="utf-8")
    return target


def write_report(
    out_dir: Path,
    buses: Sequence[Any],
    *,
    titles: Sequence[str],
    commissions: Mapping[str, Mapping[Any, Any]] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` and ``out_dir/charts/*.png`` for each bus (one section per
    scenario, titled by ``titles``). Returns the HTML path."""
    sections = [
        build_section(bus, title, out_dir / "charts", (commissions or {}).get(title))
        for bus, title in zip(buses, titles, strict=True)
    ]
    return render_html(sections, out_dir)


def _count(bus: Any) -> int:
    with bus.uow as uow:
        return len(uow.evidence.list())


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("perfcore")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "dev"
