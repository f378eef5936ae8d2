"""B6 (docs/performance.md): calibration statistics for 100,000 ratings from 5,000
raters — every normalisation suggestion plus every bias flag (leniency, range restriction,
central tendency, distribution Δ and χ², halo on three dimensions) in ≤ 1 s.

Prints one JSON line. ``seconds`` is the best of ``--repeat`` runs of the pure-Python domain
code. Two same-run baselines make the number meaningful on a noisy machine:
``ratio_vs_python_pass`` = our full pipeline / one plain Python loop summing the ratings per rater
(how many "passes over the data" the whole pipeline costs), and, when numpy is installed,
``ratio_vs_numpy_zscore`` = our full pipeline / a naive numpy z-score step alone (``np.bincount``
group statistics + rescale). numpy is used here only, never in the domain.

Usage: python3 bench/calibration_b6.py [--ratings 100000] [--raters 5000] [--repeat 3] [--quick]

``--quick`` (what ``bench/run.py --quick`` passes) keeps the target's size, which takes about a
second, and runs each side twice instead of three times.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

from perfcore.domain.calibration.batch import RatingBatch
from perfcore.domain.calibration.bias import halo, rater_bias
from perfcore.domain.calibration.guidelines import DistributionGuideline
from perfcore.domain.calibration.normalise import suggest_all
from perfcore.domain.calibration.scale import BucketMapping, RatingScale

TARGET_SECONDS = 1.0


def make_data(
    ratings: int, raters: int, seed: int = 6
) -> tuple[list[int], list[int], list[list[int]]]:
    """Seeded synthetic ratings: each rater has a leniency offset and a spread; each ratee has
    three dimension scores (1..5) sharing a true level, and an overall rating (their rounded
    mean)."""
    rng = random.Random(seed)
    leniency = [rng.gauss(0.0, 0.5) for _ in range(raters)]
    spread = [rng.uniform(0.4, 1.2) for _ in range(raters)]
    who: list[int] = []
    overall: list[int] = []
    dims: list[list[int]] = []
    for i in range(ratings):
        g = i % raters
        true = 3.0 + leniency[g] + rng.gauss(0.0, spread[g])
        row = [min(5, max(1, round(true + rng.gauss(0.0, 0.6)))) for _ in range(3)]
        who.append(g)
        dims.append(row)
        overall.append(min(5, max(1, round(sum(row) / 3))))
    return who, overall, dims


def run_domain(who: list[int], overall: list[int], dims: list[list[int]], raters: int) -> int:
    scale = RatingScale(1, 5, 1)
    mapping = BucketMapping.of({"low": [1, 2], "mid": [3], "high": [4, 5]})
    guideline = DistributionGuideline.of({"low": "0.1", "mid": "0.7", "high": "0.2"})
    batch = RatingBatch.build(who, overall, rater_count=raters)
    report = suggest_all(batch, scale=scale)
    bias = rater_bias(batch, mapping=mapping, guideline=guideline, stats=report.stats)
    halo_report = halo(who, dims)
    return len(bias.flags) + len(halo_report.flags) + len(report.zscore.values)


def run_numpy_zscore(np: Any, who: Any, values: Any, raters: int) -> Any:
    n = np.bincount(who, minlength=raters)
    mean = np.bincount(who, weights=values, minlength=raters) / n
    dev = values - mean[who]
    sd = np.sqrt(np.bincount(who, weights=dev * dev, minlength=raters) / n)
    return np.clip(values.mean() + values.std() * dev / sd[who], 1, 5)


def run_python_pass(who: list[int], overall: list[int], raters: int) -> list[float]:
    """Machine-speed yardstick: one plain Python pass summing ratings per rater."""
    sums = [0.0] * raters
    for g, v in zip(who, overall, strict=True):
        sums[g] += v
    return sums


def best_of(repeat: int, fn: Any, *args: Any) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--raters", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="best of 2 instead of --repeat")
    args = parser.parse_args()
    if args.quick:
        args.repeat = min(args.repeat, 2)
    who, overall, dims = make_data(args.ratings, args.raters)
    seconds = best_of(args.repeat, run_domain, who, overall, dims, args.raters)
    result: dict[str, Any] = {
        "bench": "B6",
        "ratings": args.ratings,
        "raters": args.raters,
        "seconds": round(seconds, 4),
        "target_seconds": TARGET_SECONDS,
        "ok": seconds <= TARGET_SECONDS,
    }
    one_pass = best_of(args.repeat, run_python_pass, who, overall, args.raters)
    result["python_pass_seconds"] = round(one_pass, 5)
    result["ratio_vs_python_pass"] = round(seconds / one_pass, 1) if one_pass > 0 else None
    try:
        import numpy as np
    except ImportError:
        result["baseline"] = None
    else:
        w = np.asarray(who)
        v = np.asarray(overall, dtype=float)
        base = best_of(args.repeat, run_numpy_zscore, np, w, v, args.raters)
        result["baseline"] = "numpy z-score step only (bincount group stats + rescale)"
        result["baseline_seconds"] = round(base, 5)
        result["ratio_vs_numpy_zscore"] = round(seconds / base, 1) if base > 0 else None
    print(json.dumps(result))


if __name__ == "__main__":
    main()
