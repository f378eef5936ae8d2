"""Smoke run of the benchmarks: ``bench/run.py --quick`` runs every ``bench/*_b<N>.py`` script,
each prints its JSON lines and none crashes. Ratios are not asserted here (timings belong to
``bench/``, never to the test suite); only that each benchmark runs and reports its target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_runs_in_quick_mode_and_reports_a_target() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0, [r for r in records if "error" in r] or proc.stderr[-2000:]
    assert not [r for r in records if "error" in r]
    scripts = sorted(p.name for p in (ROOT / "bench").glob("*_b[0-9]*.py"))
    seen = {r["bench"].split(".")[0] for r in records}
    wanted = {name.rsplit("_", 1)[1].removesuffix(".py").upper() for name in scripts}
    assert wanted <= seen, f"no JSON line from {sorted(wanted - seen)}"
    for record in records:
        if "skipped" in record:
            continue
        assert "ok" in record, record
        assert any(k in record for k in ("target", "target_seconds")), record
