"""CSV source throughput and memory against a same-run baseline (not a performance.md target).

Baseline: ``csv.reader`` over the same file with ``Decimal`` and ``datetime.fromisoformat`` on the
same columns — the least any CSV ingestion must do. Measured: ``CsvSource.read`` (encoding
detection + SHA-256 pass, mapping, coercion, RawRecord objects, batches). Prints JSON lines with
the time ratio and the peak traced memory of each as a fraction of the file size.

    python bench/source_csv_stream.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from perfcore.ports.sources import FieldType
from perfcore_adapters.sources.files import ColumnMap, CsvConfig, CsvSource, TabularMapping


def _write(path: Path, rows: int) -> None:
    with path.open("w", encoding="gb18030", newline="") as handle:
        handle.write("工号,时间,产量,合格率\n")
        for i in range(rows):
            handle.write(
                f"E{i % 5000:05d},2025-03-01T08:{i % 60:02d}:00+08:00,{i % 977}.5,0.{i % 97}\n"
            )


def _baseline(path: Path) -> int:
    count = 0
    with path.open(encoding="gb18030", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            datetime.fromisoformat(row[1])
            Decimal(row[2])
            Decimal(row[3])
            count += 1
    return count


def _source(path: Path) -> int:
    mapping = TabularMapping(
        columns={
            "employee": ColumnMap("工号"),
            "at": ColumnMap("时间", FieldType.DATETIME),
            "output": ColumnMap("产量", FieldType.NUMBER),
            "yield": ColumnMap("合格率", FieldType.NUMBER),
        },
        occurred_at="at",
        id_fields=["employee", "at"],
    )
    source = CsvSource(CsvConfig(str(path), mapping, batch_size=1000))
    return sum(len(batch.records) for batch in source.read("rows", None))


def _measure(fn: Callable[[Path], int], path: Path) -> tuple[float, int, int]:
    """Best-of-3 time (untraced), then one traced run for peak memory."""
    seconds = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        count = fn(path)
        seconds = min(seconds, time.perf_counter() - start)
    tracemalloc.start()
    fn(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        _write(path, args.rows)
        size = path.stat().st_size
        base_s, base_peak, n1 = _measure(_baseline, path)
        ours_s, ours_peak, n2 = _measure(_source, path)
    assert n1 == n2 == args.rows
    print(
        json.dumps(
            {
                "bench": "csv-source",
                "rows": args.rows,
                "file_mb": round(size / 2**20, 1),
                "baseline_s": round(base_s, 2),
                "source_s": round(ours_s, 2),
                "ratio": round(ours_s / base_s, 2),
                "baseline_peak_over_file": round(base_peak / size, 3),
                "source_peak_over_file": round(ours_peak / size, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
