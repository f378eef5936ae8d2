"""B4 (docs: shared/design/performance.md): compiled formula evaluation per row vs simpleeval.

Both engines compile/parse the formula once, then evaluate every row of the same 20,000-row list
in the same process; best of 7 interleaved passes each. Results are cross-checked on every row
first. Prints one JSON line per case with both rates, the ratio and the target (perfcore >= 4x
simpleeval).

Cases: the research formula ``a * b / c if c > 0 else 0`` and condition
``safety_points >= 100 and incidents_30d == 0`` (anchors-expressions.md §1), each with Decimal
rows (perfcore's native number) and with int/float rows (converted to Decimal on every read).

Run: ``python3 bench/formula_b4.py`` (``--quick``: 5,000 rows, 3 passes), or via ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from simpleeval import SimpleEval

from perfcore.formula import compile

ROWS = 20_000
PASSES = 7
TARGET = 4.0

CASES = {
    "formula": ("a * b / c if c > 0 else 0", ("a", "b", "c")),
    "condition": (
        "safety_points >= 100 and incidents_30d == 0",
        ("safety_points", "incidents_30d"),
    ),
}


def make_rows(names: tuple[str, ...], as_decimal: bool) -> list[dict[str, Any]]:
    rnd = random.Random(22400)
    rows = []
    for i in range(ROWS):
        if names[0] == "a":
            raw = {
                "a": rnd.randint(0, 10_000) / 100,
                "b": rnd.randint(1, 500),
                "c": 0 if i % 2 else rnd.randint(1, 80),  # half the rows divide by... nothing
            }
        else:
            raw = {"safety_points": rnd.randint(40, 160), "incidents_30d": rnd.choice([0, 0, 1, 2])}
        if as_decimal:
            raw = {k: Decimal(repr(v)) for k, v in raw.items()}
        rows.append(raw)
    return rows


def best_rates(ours: Callable[[], object], theirs: Callable[[], object]) -> tuple[float, float]:
    """Best-of-PASSES rows/s for both loops, interleaved so that machine noise hits both alike."""
    best_ours = best_theirs = float("inf")
    for _ in range(PASSES):
        start = time.perf_counter()
        ours()
        best_ours = min(best_ours, time.perf_counter() - start)
        start = time.perf_counter()
        theirs()
        best_theirs = min(best_theirs, time.perf_counter() - start)
    return ROWS / best_ours, ROWS / best_theirs


def run_case(name: str, text: str, names: tuple[str, ...], as_decimal: bool) -> dict[str, Any]:
    rows = make_rows(names, as_decimal)
    compiled = compile(text, dict.fromkeys(names, "number"))
    evaluate = compiled.evaluate

    engine = SimpleEval()
    parsed = engine.parse(text)

    def simple(row: Mapping[str, Any]) -> Any:
        engine.names = row
        return engine.eval(text, previously_parsed=parsed)

    for row in rows:  # same answers before timing anything (simpleeval: 28 digits or floats)
        ours, theirs = evaluate(row), simple(row)
        if isinstance(ours, Decimal):
            gap = abs(ours - Decimal(str(theirs)))
            assert gap <= Decimal("1e-9") * max(abs(ours), Decimal(1)), (row, ours, theirs)
        else:
            assert ours == theirs, (row, ours, theirs)

    def ours_loop() -> None:
        for row in rows:
            evaluate(row)

    def theirs_loop() -> None:
        for row in rows:
            engine.names = row
            engine.eval(text, previously_parsed=parsed)

    ours_rate, theirs_rate = best_rates(ours_loop, theirs_loop)
    ratio = ours_rate / theirs_rate
    return {
        "bench": "B4",
        "case": f"{name}/{'decimal' if as_decimal else 'int-float'}-rows",
        "formula": text,
        "rows": ROWS,
        "perfcore_evals_per_s": round(ours_rate),
        "simpleeval_evals_per_s": round(theirs_rate),
        "ratio": round(ratio, 2),
        "target": TARGET,
        "ok": ratio >= TARGET,
    }


def main() -> None:
    global ROWS, PASSES
    parser = argparse.ArgumentParser(description="B4: formula evaluation per row vs simpleeval")
    parser.add_argument("--quick", action="store_true", help="5,000 rows, 3 passes")
    if parser.parse_args().quick:
        ROWS, PASSES = 5_000, 3
    for name, (text, names) in CASES.items():
        for as_decimal in (True, False):
            print(json.dumps(run_case(name, text, names, as_decimal), ensure_ascii=False))


if __name__ == "__main__":
    main()
