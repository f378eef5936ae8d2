"""Run every perfcore benchmark and print one JSON line per result.

Each ``bench/*_b<N>.py`` script is run as its own process (so peak RSS and warm caches of one do
not leak into another) with ``--quick`` passed through when given. A script prints one JSON object
per line, at least ``{"bench": "B4", "ratio": ..., "target": ..., "ok": ...}``; lines that are not
JSON are echoed to stderr. Targets are ratios against baselines measured in the same run (see
``shared/design/performance.md``), so results are comparable across noisy machines.

Usage::

    python bench/run.py            # full sizes
    python bench/run.py --quick    # reduced sizes, well under two minutes in all
    python bench/run.py --only B4 --only B6

Exit status is 0 even when a target is missed (benchmarks report, they do not gate CI); it is 1
only if a script crashes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = re.compile(r"^[a-z0-9_]+_(b\d+)\.py$")


def discover() -> list[tuple[str, Path]]:
    """Bench scripts in this folder as ``(id, path)``, ordered by id number."""
    found = []
    for path in HERE.glob("*.py"):
        m = SCRIPT.match(path.name)
        if m:
            found.append((m[1].upper(), path))
    return sorted(found, key=lambda item: (int(item[0][1:]), item[1].name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes")
    parser.add_argument("--only", action="append", default=[], help="run only this id (B1..B7)")
    args = parser.parse_args(argv)
    wanted = {w.upper() for w in args.only}
    crashed = False
    for bench_id, path in discover():
        if wanted and bench_id not in wanted:
            continue
        cmd = [sys.executable, str(path), *(["--quick"] if args.quick else [])]
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        for line in proc.stdout.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                print(line, file=sys.stderr)
                continue
            print(json.dumps(record, sort_keys=True))
        if proc.returncode != 0:
            crashed = True
            print(
                json.dumps({"bench": bench_id, "script": path.name, "error": proc.stderr[-2000:]}),
            )
        print(f"# {path.name}: {elapsed:.1f} s", file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
