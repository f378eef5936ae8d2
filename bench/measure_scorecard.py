"""In-Python measurement and scorecard costs, as same-run ratios (not a B-target script).

1. ``compute_values``: good/inspected sums, first pass yield (ratio), a derived percentage and a
   count over ``--rows`` inspection rows of one subject-month, against a hand-written loop that
   computes the same numbers with Decimal (no period check, no diagnostics). Ratio = ours /
   baseline. The production path pushes aggregation into the database (performance.md); this
   measures the pure-domain fallback used by tests, small plants and late-evidence re-scores.
2. ``build_scorecard``: 20-indicator scorecards with caps and one missing value, against a plain
   Decimal Σw·s/Σw of the same numbers. Ratio = ours / baseline (it buys exact rationals,
   explanations and renormalisation reports).

Usage: python3 bench/measure_scorecard.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import operator
import random
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

from perfcore.domain.indicator import Derived, IndicatorVersion, Ratio, Simple
from perfcore.domain.measure import compute_values
from perfcore.domain.scorecard import build_scorecard
from perfcore.domain.scoring import BandTable
from perfcore.domain.values import Period

TZ = ZoneInfo("Asia/Shanghai")
MARCH = Period.month(2025, 3)


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def rows(n: int, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for i in range(n):
        inspected = rng.randint(1, 50)
        out.append(
            {
                "id": f"E{i}",
                "occurred_at": dt.datetime(2025, 3, 1 + i % 31, 8, tzinfo=TZ),
                "good": rng.randint(0, inspected),
                "inspected": inspected,
            }
        )
    return out


def compile_(text: str) -> Callable[[Mapping[str, object]], object]:
    if text == "fpy * 100":
        return lambda scope: scope["fpy"] * 100  # type: ignore[operator]
    return operator.itemgetter(text)


def bench_measure(n: int, repeat: int) -> dict[str, object]:
    data = rows(n)
    versions = {
        "good": IndicatorVersion(1, "2025-01", Simple("sum", "good"), evidence_type="qc", target=1),
        "inspected": IndicatorVersion(
            1, "2025-01", Simple("sum", "inspected"), evidence_type="qc", target=1
        ),
        "lots": IndicatorVersion(1, "2025-01", Simple("count"), evidence_type="qc", target=1),
        "fpy": IndicatorVersion(1, "2025-01", Ratio("good", "inspected"), target="0.95"),
        "fpy_pct": IndicatorVersion(1, "2025-01", Derived("fpy * 100", ["fpy"]), target=95),
    }

    def ours() -> object:
        return compute_values(versions, {"qc": data}, period=MARCH, tz=TZ, compile=compile_)

    def baseline() -> object:
        good = Decimal(0)
        inspected = Decimal(0)
        for r in data:
            good += Decimal(r["good"])  # type: ignore[arg-type]
            inspected += Decimal(r["inspected"])  # type: ignore[arg-type]
        fpy = good / inspected
        return good, inspected, len(data), fpy, fpy * 100

    check = ours()
    assert check["fpy"].value == baseline()[3]  # type: ignore[index]
    t_ours, t_base = best(ours, repeat), best(baseline, repeat)
    return {
        "bench": "compute_values",
        "rows": n,
        "seconds": round(t_ours, 4),
        "baseline_seconds": round(t_base, 4),
        "ratio": round(t_ours / t_base, 2),
    }


def bench_scorecard(cards: int, repeat: int) -> dict[str, object]:
    rng = random.Random(11)
    table = BandTable([(90, 50), (100, 100), (120, 200)])
    versions = {
        f"k{i}": IndicatorVersion(
            1, "2025-01", Simple("sum", "x"), evidence_type="e", scoring=table, cap=150
        )
        for i in range(20)
    }
    weights = {k: Decimal(rng.randint(1, 10)) for k in versions}
    inputs = [
        {k: (None if j == 0 else Decimal(rng.randint(80, 130))) for j, k in enumerate(versions)}
        for _ in range(cards)
    ]

    def ours() -> object:
        return [build_scorecard("person:1", MARCH, versions, v, weights) for v in inputs]

    def baseline() -> object:
        out = []
        for v in inputs:
            num = Decimal(0)
            den = Decimal(0)
            for k, x in v.items():
                if x is None:
                    continue
                s = min(table.score(x), Decimal(150))
                num += weights[k] * s
                den += weights[k]
            out.append(num / den)
        return out

    t_ours, t_base = best(ours, repeat), best(baseline, repeat)
    return {
        "bench": "build_scorecard",
        "cards": cards,
        "indicators": 20,
        "seconds": round(t_ours, 4),
        "baseline_seconds": round(t_base, 4),
        "ratio": round(t_ours / t_base, 2),
        "per_card_ms": round(1000 * t_ours / cards, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cards", type=int, default=2_000)
    args = parser.parse_args()
    n = 20_000 if args.quick else args.rows
    cards = 200 if args.quick else args.cards
    repeat = 3
    print(json.dumps(bench_measure(n, repeat)))
    print(json.dumps(bench_scorecard(cards, repeat)))


if __name__ == "__main__":
    main()
