"""The report's charts (matplotlib, object API — no pyplot state, Agg canvas).

Each function draws one PNG and returns its path. Titles say what is shown, axes carry units,
reference lines (target, alert threshold, guideline) are labelled in a legend.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from perfcore_adapters.report._data import HeatMap, ScenarioData

__all__ = [
    "attainment_distribution",
    "calibration_vs_guideline",
    "exception_heatmap",
    "indicator_trend",
    "nine_box",
]

BLUE = "#2b6cb0"
GREY = "#a0aec0"
ORANGE = "#dd6b20"
RED = "#c53030"
GREEN = "#2f855a"
PALETTE = ["#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795"]


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight", facecolor="white")
    return path


def _is_ratio(data: ScenarioData) -> bool:
    unit = data.plan.indicators[data.key].current.unit
    return unit in {"ratio", ""} and (data.target is None or data.target <= 2)


def indicator_trend(data: ScenarioData, path: Path) -> Path:
    """Small multiples: the key indicator per subject per week (or month), grouped by manager."""
    subjects = sorted(data.trend, key=lambda s: (data.groups.get(s, ""), s))
    n = len(subjects)
    cols = min(n, 6 if n > 12 else 4) or 1
    rows = max(1, math.ceil(n / cols))
    height = rows * 1.75 + 1.3
    fig = Figure(figsize=(max(7.5, cols * 2.3), height))
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    ratio = _is_ratio(data)
    scale = 100.0 if ratio else 1.0
    groups = sorted({data.groups.get(s, "") for s in subjects})
    colour = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    for index, ax in enumerate(axes.flat):
        if index >= n:
            ax.set_visible(False)
            continue
        subject = subjects[index]
        series = data.trend[subject]
        xs = [d for d, v in series if v is not None]
        ys = [float(v) * scale for _, v in series if v is not None]
        group = data.groups.get(subject, "")
        ax.plot(xs, ys, color=colour[group], linewidth=1.6, marker="o", markersize=2.5)
        if data.target is not None:
            ax.axhline(float(data.target) * scale, color=GREEN, linestyle="--", linewidth=0.9)
        if data.threshold is not None:
            ax.axhline(float(data.threshold) * scale, color=RED, linestyle=":", linewidth=0.9)
        ax.set_title(f"{subject}  ({group})", fontsize=7.5)
        ax.tick_params(labelsize=6.5)
        ax.grid(alpha=0.25)
        for label in ax.get_xticklabels():
            label.set_rotation(45)
            label.set_horizontalalignment("right")
    unit = "%" if ratio else data.plan.indicators[data.key].current.unit
    fig.supylabel(f"{data.key_title} ({unit})", fontsize=9)
    fig.supxlabel(f"{data.grain} starting", fontsize=9)
    handles = [axes.flat[0].plot([], [], color=colour[g], linewidth=1.6)[0] for g in groups] + [
        axes.flat[0].plot([], [], color=GREEN, linestyle="--")[0],
        axes.flat[0].plot([], [], color=RED, linestyle=":")[0],
    ]
    labels = [f"reports to {g}" for g in groups] + ["target", "alert threshold"]
    fig.suptitle(f"{data.title}: {data.key_title}, per {data.grain} and person")
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.35 / height),
        fontsize=7.5,
        ncol=min(4, len(labels)),
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.75 / height))
    return _save(fig, path)


def attainment_distribution(data: ScenarioData, path: Path) -> Path:
    """Histogram of the key indicator's attainment (% of target) per person-period."""
    fig = Figure(figsize=(8, 4.2))
    ax = fig.subplots()
    periods = [p for p in data.periods if data.attainment_pct.get(p)]
    values = [v for p in periods for v in data.attainment_pct[p]]
    if values:
        lo = math.floor(min(values) / 5) * 5
        hi = math.ceil(max(values) / 5) * 5 + 5
        bins = list(range(int(lo), int(hi) + 1, 5))
        ax.hist(
            [data.attainment_pct[p] for p in periods],
            bins=bins,
            stacked=True,
            label=[f"{p} ({data.partial[p]})" if p in data.partial else p for p in periods],
            color=PALETTE[: len(periods)],
            edgecolor="white",
        )
    ax.axvline(100, color=GREEN, linestyle="--", label="on target (100 %)")
    if data.threshold is not None and data.target:
        pct = float(data.threshold / data.target * 100)
        ax.axvline(pct, color=RED, linestyle=":", label=f"alert threshold ({pct:.0f} %)")
    ax.set_xlabel(f"{_strip_formula(data.key_title)}, as % of target (100 % = on target)")
    ax.set_ylabel("people × periods (count)")
    ax.set_title(f"{data.title}: how far from target? ({len(values)} scorecards)", loc="left")
    ax.legend(fontsize=8, title="period", title_fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _strip_formula(title: str) -> str:
    """``"Productivity attainment (actual / target)"`` → ``"Productivity attainment"``."""
    head, sep, _ = title.partition(" (")
    return head if sep and head else title


def calibration_vs_guideline(data: ScenarioData, path: Path) -> Path:
    """Per session: share per bucket — guideline, managers' original ratings, calibrated."""
    sessions = data.sessions
    n = max(1, len(sessions))
    fig = Figure(figsize=(min(16, 3.6 * n + 1), 3.8))
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for ax, view in zip(axes, sessions, strict=False):
        buckets = list(view.buckets)
        total = max(1, sum(view.counts.values()))
        guide = [100 * (view.targets or {}).get(b, 0.0) for b in buckets]
        orig = [100 * view.original_counts.get(b, 0) / total for b in buckets]
        cal = [100 * view.counts.get(b, 0) / total for b in buckets]
        xs = range(len(buckets))
        width = 0.27
        ax.bar([x - width for x in xs], guide, width, color=GREY, label="guideline")
        ax.bar(list(xs), orig, width, color=ORANGE, label="managers' ratings")
        ax.bar([x + width for x in xs], cal, width, color=BLUE, label="after calibration")
        ax.set_xticks(list(xs), buckets)
        flagged = sorted({r for r, f in view.flags if f.kind in {"leniency", "severity"}})
        note = f"\nflagged: {', '.join(flagged)}" if flagged else "\nno rater flagged"
        ax.set_title(f"{view.session.id} ({total} people){note}", fontsize=8.5)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share of people (%)")
    axes[0].legend(fontsize=7.5, loc="upper left")
    fig.suptitle(f"{data.title}: rating distribution vs guideline", x=0.01, ha="left")
    fig.tight_layout()
    return _save(fig, path)


def nine_box(data: ScenarioData, path: Path) -> Path:
    """9-box: calibrated rating (x) × change of the scorecard total (y, proxy for potential)."""
    fig = Figure(figsize=(8.5, 6.5))
    ax = fig.subplots()
    from perfcore.domain.calibration.ninebox import DEFAULT_LABELS

    for (px, py), label in DEFAULT_LABELS.items():
        shade = {4: "#c6f6d5", 3: "#e6fffa", 2: "#f7fafc", 1: "#fefcbf", 0: "#fed7d7"}[px + py]
        ax.add_patch(_rect(px, py, shade))
        ax.text(px + 0.03, py + 0.95, label, fontsize=7, va="top", color="#4a5568")
    cells: dict[tuple[int, int], list[str]] = {}
    for p in data.ninebox:
        cells.setdefault((p.performance, p.growth), []).append(p.label)
    per_column = 8
    for (px, py), names in cells.items():
        ordered = sorted(names)
        shown = ordered if len(ordered) <= 2 * per_column else ordered[: 2 * per_column - 1]
        for i, name in enumerate(shown):
            x = px + 0.05 + (i // per_column) * 0.48
            y = py + 0.82 - (i % per_column) * 0.09
            ax.plot(x, y, "o", color=BLUE, markersize=3.5)
            text = name if len(name) <= 20 else name[:19] + "…"
            ax.text(x + 0.03, y, text, fontsize=6.5, va="center")
        if len(shown) < len(ordered):
            ax.text(
                px + 0.53,
                py + 0.82 - (per_column - 1) * 0.09,
                f"+{len(ordered) - len(shown)} more",
                fontsize=6.5,
                va="center",
                color="#4a5568",
            )
    ax.set_xlim(0, 3)
    ax.set_ylim(0, 3)
    ax.set_xticks([0.5, 1.5, 2.5], ["low", "medium", "high"])
    ax.set_yticks([0.5, 1.5, 2.5], ["falling", "steady", "rising"])
    ax.set_xlabel(f"performance: calibrated rating, session {data.ninebox_session} (bucket)")
    ax.set_ylabel("growth: change of the scorecard total, first → last period (tertile)")
    ax.set_title(
        f"{data.title}: 9-box ({len(data.ninebox)} people; growth is a proxy — "
        "the data hold no potential ratings)",
        loc="left",
        fontsize=10,
    )
    fig.tight_layout()
    return _save(fig, path)


def _rect(x: int, y: int, colour: str) -> Rectangle:
    return Rectangle((x, y), 1, 1, facecolor=colour, edgecolor="white", linewidth=2)


def exception_heatmap(heat: HeatMap, title: str, path: Path) -> Path:
    """One panel per cause: rows × columns coloured by the number of exceptions."""
    n = len(heat.causes)
    fig = Figure(figsize=(min(18, 3.3 * n + 1.5), max(3.5, 0.22 * len(heat.rows) + 1.8)))
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    peak = max(heat.counts.values()) if heat.counts else 1
    image = None
    for ax, cause in zip(axes, heat.causes, strict=True):
        grid = [[heat.counts.get((cause, r, c), 0) for c in heat.cols] for r in heat.rows]
        image = ax.imshow(grid, aspect="auto", cmap="OrRd", vmin=0, vmax=peak)
        total = sum(sum(row) for row in grid)
        ax.set_title(f"{cause}\n({total} in all)", fontsize=8.5)
        ax.set_xticks(range(len(heat.cols)), heat.cols, rotation=60, fontsize=6.5, ha="right")
        ax.set_yticks(range(len(heat.rows)), heat.rows, fontsize=6.5)
        ax.set_xlabel(heat.col_label, fontsize=8)
        for yi, row in enumerate(grid):
            for xi, value in enumerate(row):
                if value:
                    colour = "white" if value > peak * 0.6 else "black"
                    ax.text(
                        xi, yi, str(value), ha="center", va="center", fontsize=5.5, color=colour
                    )
    axes[0].set_ylabel(heat.row_label)
    if image is not None:
        bar = fig.colorbar(image, ax=list(axes), shrink=0.8, pad=0.01)
        bar.set_label("count", fontsize=8)
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
    height = fig.get_figheight()  # inches: place title and note at fixed distances above
    fig.suptitle(f"{title}: {heat.title}", x=0.01, y=1 + 0.6 / height, ha="left", va="bottom")
    if heat.note:
        fig.text(
            0.01, 1 + 0.3 / height, heat.note, ha="left", va="bottom", fontsize=8.5, color="#4a5568"
        )
    return _save(fig, path)


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f} %"
