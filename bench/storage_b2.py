"""B2 + B5: monthly scorecards pushed down to the database, against a hand-written GROUP BY and a
per-subject, per-indicator query loop; peak memory while computing.

Workload: the reference plant-quarter of storage_b1.py (10,000 subjects, 20 indicators, 1M rows
over 92 days; ``--quick``: 2,000 subjects, 200,000 rows, the same density), loaded untimed into a
migrated perfcore SQLite store. One month (March 2025) is scored.

- perfcore: ``pushdown.compute_values_sql(conn, plan, [March])`` — the 16 row-reading
  indicators as one conditional-aggregate query per evidence type over March (which also
  carries March's part of the cumulative windows) plus one over the earlier window months, then
  the ratio/derived values — i.e. the same 20 numbers per subject the baseline produces.
  Building the domain scorecards from them (``scorecard_build_s``, domain code) and storing them
  (``store_s``) are reported separately.
- baseline: hand-written SQL — one ``GROUP BY`` per evidence type and one for the cumulative window
  — producing the same 20 numbers per subject (ratio/derived in plain Python), no scorecard.
- loop: one query per subject per row-reading indicator (15 queries), measured on a sample of
  subjects (best of two passes) and extrapolated to all of them (stated in the output).
  ``loop_speedup`` uses a raw DB-API cursor over perfcore's stored period key and covering index
  (the cheapest loop possible; the target is judged on it); ``loop_core_speedup`` issues the
  same queries through SQLAlchemy Core; ``loop_form_speedup`` is the form-based data model (no
  stored period key: the period's UTC bounds through the (subject, occurred_at) index).
- scan floor: the time to merely visit the index entries any set-based computation of March
  must read (``count(*)`` per month and subject, nothing else); ``loop_speedup_ceiling`` =
  loop / floor bounds what any push-down can reach against that loop.
- B5: the push-down run repeated in a fresh child process; its peak RSS (``ru_maxrss``).
- PostgreSQL (full mode, or ``--pg-rows N``): B2 on a throwaway cluster with 10M rows generated
  server-side, reported without a target; ``--quick`` skips it with a note.

    python bench/storage_b2.py [--quick] [--no-pg] [--rows N --subjects N]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from storage_b1 import PLAN, baseline_tuples

MARCH = "2025-03"
SLOTS = [
    ("inspection", "inspected", 0, "number"),
    ("inspection", "good", 1, "number"),
    ("inspection", "defects", 2, "number"),
    ("inspection", "passed", 3, "boolean"),
    ("downtime", "minutes", 0, "number"),
    ("downtime", "planned", 1, "boolean"),
]
_COLUMN = {"inspected": "n0", "good": "n1", "defects": "n2", "passed": "n3"}
_COLUMN_DT = {"minutes": "n0", "planned": "n1"}


def build_store(url: str, rows: int, subjects: int) -> None:
    """Migrated perfcore store holding the workload (loaded with executemany, untimed)."""
    from perfcore_adapters.sqlalchemy import create_engine_for, upgrade

    engine = create_engine_for(url)
    upgrade(engine)
    tuples = baseline_tuples(rows, subjects=subjects)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.executemany(
            "INSERT INTO evidence (idempotency_key, evidence_type, subject_kind, subject_id, "
            "occurred_at, period_day, period_month, recorded_at, source, external_id, version, "
            "supersedes, is_current, fields, field_types, doc, n0, n1, n2, n3, n4, n5, n6, n7) "
            f"VALUES ({','.join('?' * 24)})",
            tuples,
        )
        raw.executemany(
            "INSERT INTO field_slots (evidence_type, field, slot, kind) VALUES (?, ?, ?, ?)",
            SLOTS,
        )
        conn.exec_driver_sql(
            "INSERT INTO settings (name, value) VALUES ('period_tz', 'Asia/Shanghai')"
        )
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def perfcore_run(url: str, *, store: bool = False) -> dict[str, Any]:
    """March computed by push-down: ``values_s`` (the 20 indicator values of every subject, the
    numbers the baseline produces), ``build_s`` (domain scorecards from them), ``store_s``."""
    from perfcore.domain.values import Period
    from perfcore.plan import loads
    from perfcore_adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for
    from perfcore_adapters.sqlalchemy.pushdown import compute_values_sql
    from perfcore_adapters.sqlalchemy.refresh import score_periods

    plan = loads(PLAN)
    march = Period.parse(MARCH)
    uow = SqlAlchemyUnitOfWork(create_engine_for(url))
    with uow:
        started = time.perf_counter()
        values = compute_values_sql(uow.connection, plan, [march])
        values_s = time.perf_counter() - started
        n = len(values)
        del values  # B5: do not hold two result sets
        started = time.perf_counter()
        records = score_periods(uow, plan, [march], store=False)
        build_s = time.perf_counter() - started - values_s  # score_periods recomputes values
        stored = 0.0
        if store:
            started = time.perf_counter()
            uow.scorecards.put_many([(r.subject, r.period_key, r) for r in records])
            uow.commit()
            stored = time.perf_counter() - started
    uow.engine.dispose()
    return {
        "values_s": values_s,
        "build_s": max(build_s, 0.0),
        "store_s": stored,
        "n": n,
        "records": records,
    }


def _j(dialect: str, name: str) -> str:
    """The typed slot column of a field (booleans as ``<> 0``), as a schema-aware person
    writing the query would use it."""
    col = _COLUMN.get(name) or _COLUMN_DT[name]
    return f"({col} <> 0)" if name in ("passed", "planned") else col


def baseline_sql(dialect: str) -> list[str]:
    """The hand-written queries (March; cumulative window Jan 1 - Mar 31 for both cumulatives)."""
    ins, good, dfx = _j(dialect, "inspected"), _j(dialect, "good"), _j(dialect, "defects")
    passed, minutes, planned = _j(dialect, "passed"), _j(dialect, "minutes"), _j(dialect, "planned")
    return [
        f"SELECT subject_id, sum({ins}), sum({good}), sum({dfx}), count(*), "
        f"sum(CASE WHEN NOT {passed} THEN 1 ELSE 0 END), sum({good}), count({good}), "
        f"max({dfx}), min({good}), sum({ins} - {good}), "
        f"sum(CASE WHEN {ins} > 40 THEN 1 ELSE 0 END) FROM evidence "
        f"WHERE evidence_type = 'inspection' AND period_month = '{MARCH}' AND is_current "
        "GROUP BY subject_kind, subject_id",
        f"SELECT subject_id, sum({minutes}), count(*), "
        f"sum(CASE WHEN NOT {planned} THEN {minutes} END) FROM evidence "
        f"WHERE evidence_type = 'downtime' AND period_month = '{MARCH}' AND is_current "
        "GROUP BY subject_kind, subject_id",
        f"SELECT subject_id, sum({good}), sum({ins}) FROM evidence "
        "WHERE evidence_type = 'inspection' AND period_day BETWEEN '2025-01-01' AND '2025-03-31' "
        "AND is_current GROUP BY subject_kind, subject_id",
    ]


def _d(x: object) -> Decimal | None:
    return None if x is None else Decimal(str(x))


def baseline_run(url: str) -> tuple[float, dict[str, dict[str, Decimal | None]]]:
    """Seconds for the hand-written queries plus ratio/derived values in Python."""
    from perfcore_adapters.sqlalchemy import create_engine_for

    engine = create_engine_for(url)
    with engine.connect() as conn:
        started = time.perf_counter()
        queries = baseline_sql(conn.dialect.name)
        out: dict[str, dict[str, Decimal | None]] = {}
        for r in conn.exec_driver_sql(queries[0]):
            ins, good, dfx = _d(r[1]), _d(r[2]), _d(r[3])
            v = out.setdefault(r[0], {})
            v.update(inspected=ins, good=good, defects=dfx, lots=_d(r[4]), failed_lots=_d(r[5]))
            v["mean_good"] = _d(r[6]) / _d(r[7]) if r[7] else None  # type: ignore[operator]
            v.update(max_defects=_d(r[8]), min_good=_d(r[9]), scrap=_d(r[10]), big_lots=_d(r[11]))
            v["fpy"] = good / ins if ins else None  # type: ignore[operator]
            v["defect_rate"] = dfx / ins if ins else None  # type: ignore[operator]
            fpy, rate = v["fpy"], v["defect_rate"]
            v["fpy_pct"] = fpy * 100 if fpy is not None else None
            v["quality_index"] = (
                fpy * 100 - rate * 10 if fpy is not None and rate is not None else None
            )
        for r in conn.exec_driver_sql(queries[1]):
            v = out.setdefault(r[0], {})
            unplanned = _d(r[3])
            v.update(downtime_minutes=_d(r[1]), stops=_d(r[2]), unplanned=unplanned)
            v["availability"] = 1 - unplanned / 14400 if unplanned is not None else None
        for r in conn.exec_driver_sql(queries[2]):
            v = out.setdefault(r[0], {})
            v.update(good_qtd=_d(r[1]), insp_3m=_d(r[2]))
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, out


LOOP_INDICATORS = [
    ("inspection", "sum({inspected})", ""),
    ("inspection", "sum({good})", ""),
    ("inspection", "sum({defects})", ""),
    ("inspection", "count(*)", ""),
    ("inspection", "count(*)", "AND NOT {passed}"),
    ("inspection", "avg({good})", ""),
    ("inspection", "max({defects})", ""),
    ("inspection", "min({good})", ""),
    ("inspection", "sum({inspected} - {good})", ""),
    ("inspection", "count(*)", "AND {inspected} > 40"),
    ("inspection", "sum({good})", "CUM"),
    ("inspection", "sum({inspected})", "CUM"),
    ("downtime", "sum({minutes})", ""),
    ("downtime", "count(*)", ""),
    ("downtime", "sum({minutes})", "AND NOT {planned}"),
]


# March and Jan 1 - Mar 31 in the plan's zone (Asia/Shanghai, UTC+8), as stored UTC text
_UTC_MARCH = ("2025-02-28 16:00:00.000000", "2025-03-31 16:00:00.000000")
_UTC_QUARTER = ("2024-12-31 16:00:00.000000", "2025-03-31 16:00:00.000000")


def loop_run(url: str, subjects: list[str], *, core: bool = False, form: bool = False) -> float:
    """Seconds for the per-subject, per-indicator loop over ``subjects`` (a sample), best of two
    passes (the first warms the pages the loop reads, as both other sides get a warm run).

    Default: raw DB-API cursor over perfcore's stored period key and covering index — the
    cheapest loop possible on this store. ``core``: the same queries through SQLAlchemy Core
    ``text()`` as an application would issue them. ``form``: the form-based data model — no
    stored period key, so each query selects the subject's rows by the period's UTC bounds
    through the (subject, occurred_at) index (raw DB-API)."""
    import sqlalchemy as sa

    from perfcore_adapters.sqlalchemy import create_engine_for

    engine = create_engine_for(url)
    names = ("inspected", "good", "defects", "passed", "minutes", "planned")
    with engine.connect() as conn:
        dialect = conn.dialect.name
        cols = {n: _j(dialect, n) for n in names}
        mark = "?" if dialect == "sqlite" else "%s"
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        sqls = []
        for etype, agg, extra in LOOP_INDICATORS:
            if form:
                lo, hi = _UTC_QUARTER if extra == "CUM" else _UTC_MARCH
                period = f"occurred_at >= '{lo}' AND occurred_at < '{hi}' AND is_current"
            elif extra == "CUM":
                period = "period_day BETWEEN '2025-01-01' AND '2025-03-31'"
            else:
                period = f"period_month = '{MARCH}'"
            cond = "" if extra == "CUM" else extra.format(**cols)
            sqls.append(
                f"SELECT {agg.format(**cols)} FROM evidence WHERE evidence_type = '{etype}' "
                f"AND {period} AND subject_kind = 'person' AND subject_id = {mark} {cond}"
            )
        texts = [sa.text(q.replace(mark, ":s")) for q in sqls]
        best = float("inf")
        for _pass in range(2):
            started = time.perf_counter()
            for subject in subjects:
                values = []
                if core:
                    for stmt in texts:
                        values.append(conn.execute(stmt, {"s": subject}).scalar())
                else:
                    for sql in sqls:
                        cur.execute(sql, (subject,))
                        values.append(cur.fetchone()[0])
                good, ins, dfx = _d(values[1]), _d(values[0]), _d(values[2])
                fpy = good / ins if ins and good is not None else None
                rate = dfx / ins if ins and dfx is not None else None
                if fpy is not None and rate is not None:
                    _ = fpy * 100 - rate * 10
            best = min(best, time.perf_counter() - started)
    engine.dispose()
    return best


def scan_floor(url: str) -> float:
    """Seconds (best of two) to merely visit the covering-index entries any set-based
    computation of March must read — ``count(*)`` grouped by (month, subject) over March's
    inspections and downtime events and January-February's inspections (the cumulative
    windows) — with no aggregate to compute and nothing built in Python."""
    from perfcore_adapters.sqlalchemy import create_engine_for

    engine = create_engine_for(url)
    queries = [
        "SELECT subject_kind, subject_id, period_month, count(*) FROM evidence "
        f"WHERE evidence_type = '{etype}' AND is_current AND period_month IN ({months}) "
        "GROUP BY period_month, subject_kind, subject_id"
        for etype, months in (
            ("inspection", f"'{MARCH}'"),
            ("downtime", f"'{MARCH}'"),
            ("inspection", "'2025-01', '2025-02'"),
        )
    ]
    best = float("inf")
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        for _pass in range(2):
            started = time.perf_counter()
            for sql in queries:
                cur.execute(sql)
                cur.fetchall()
            best = min(best, time.perf_counter() - started)
    engine.dispose()
    return best


def _peak_kb() -> int:
    """Peak RSS of this process image: ``VmHWM`` (reset by exec, unlike ``ru_maxrss``, which
    keeps the peak of the parent forked before exec), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def child_rss(url: str) -> None:
    """(child mode) run the push-down once and print peak RSS in MB."""
    perfcore_run(url)
    print(json.dumps({"peak_rss_mb": round(_peak_kb() / 1024, 1)}))


def _compare(records: Any, base: dict[str, dict[str, Decimal | None]]) -> int:
    """How many (subject, indicator) values differ beyond 1e-6 relative."""
    bad = 0
    for rec in records:
        want = base.get(rec.subject.id, {})
        for name, value in rec.values.items():
            other = want.get(name)
            if (value is None) != (other is None):
                if not (other is None and value == 0):  # counts: 0 vs no row
                    bad += 1
            elif (
                value is not None
                and other is not None
                and abs(value - other) > Decimal("1e-6") * max(Decimal(1), abs(other))
            ):
                bad += 1
    return bad


def measure(url: str, subjects: int, sample: int, label: str) -> dict[str, Any]:
    """One B2 measurement on ``url``."""
    # two rounds each, alternating, best of two: neither side pays for the cold cache alone
    base_s, base = baseline_run(url)
    first = perfcore_run(url)
    base_s = min(base_s, baseline_run(url)[0])
    run = perfcore_run(url, store=True)
    mine_s = min(first["values_s"], run["values_s"])
    mismatches = _compare(run["records"], base)
    rng = random.Random(3)
    picked = [f"E{rng.randrange(subjects):05d}" for _ in range(sample)]
    loop_s = loop_run(url, picked) * subjects / sample
    core_s = loop_run(url, picked, core=True) * subjects / sample
    form_s = loop_run(url, picked, form=True) * subjects / sample
    floor_s = scan_floor(url)
    return {
        "bench": label,
        "subjects": subjects,
        "scorecards": run["n"],
        "perfcore_s": round(mine_s, 3),
        "scorecard_build_s": round(run["build_s"], 3),
        "store_s": round(run["store_s"], 3),
        "baseline_s": round(base_s, 3),
        "loop_s_extrapolated": round(loop_s, 2),
        "loop_sample_subjects": sample,
        "mismatches": mismatches,
        "ratio": round(mine_s / base_s, 2),
        "target": 1.5,
        "loop_speedup": round(loop_s / mine_s, 1),
        "loop_core_s_extrapolated": round(core_s, 2),
        "loop_core_speedup": round(core_s / mine_s, 1),
        "loop_form_s_extrapolated": round(form_s, 2),
        "loop_form_speedup": round(form_s / mine_s, 1),
        "scan_floor_s": round(floor_s, 3),
        "loop_speedup_ceiling": round(loop_s / floor_s, 1),
        "loop_target": 20,
    }


def pg_measure(rows: int, subjects: int, sample: int) -> dict[str, Any]:
    """B2 on a throwaway PostgreSQL cluster with ``rows`` generated server-side."""
    from perfcore_adapters.sqlalchemy import create_engine_for, upgrade
    from perfcore_adapters.sqlalchemy.testing_pg import find_pg_bin, shared_cluster

    if find_pg_bin() is None:
        return {"bench": "B2.pg", "skipped": "no PostgreSQL binaries"}
    cluster = shared_cluster()
    assert cluster is not None
    url = cluster.create_database("b2")
    engine = create_engine_for(url)
    upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT setseed(0.42)")
        conn.exec_driver_sql(_PG_FILL.format(rows=rows, subjects=subjects))
        for etype, name, slot, kind in SLOTS:
            conn.exec_driver_sql(
                "INSERT INTO field_slots (evidence_type, field, slot, kind) "
                f"VALUES ('{etype}', '{name}', {slot}, '{kind}')"
            )
        conn.exec_driver_sql(
            "INSERT INTO settings (name, value) VALUES ('period_tz', 'Asia/Shanghai')"
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE evidence")
    load_s = time.perf_counter() - started
    engine.dispose()
    result = measure(url, subjects, sample, "B2.pg")
    result.update(rows=rows, load_s=round(load_s, 1), ok=None)
    result["note"] = "reported, no target; cluster with fsync=off"
    return result


_PG_FILL = """
INSERT INTO evidence (idempotency_key, evidence_type, subject_kind, subject_id, occurred_at,
  period_day, period_month, recorded_at, source, external_id, version, is_current, fields,
  n0, n1, n2, n3)
SELECT 'k' || g, t, 'person', 'E' || lpad(s::text, 5, '0'), at,
  to_char(at + interval '8 hours', 'YYYY-MM-DD'), to_char(at + interval '8 hours', 'YYYY-MM'),
  now(), 'gen', 'k' || g, 1, true,
  CASE WHEN t = 'inspection' THEN jsonb_build_object('inspected', ins, 'good', ins - d,
       'defects', dfx, 'passed', d = 0)
  ELSE jsonb_build_object('minutes', mins, 'planned', planned) END,
  CASE WHEN t = 'inspection' THEN ins ELSE mins END,
  CASE WHEN t = 'inspection' THEN ins - d ELSE planned::int END,
  CASE WHEN t = 'inspection' THEN dfx END,
  CASE WHEN t = 'inspection' THEN (d = 0)::int END
FROM (
  SELECT g, (random() * ({subjects} - 1))::int AS s,
    timestamp '2025-01-01' + random() * interval '92 days' - interval '8 hours' AS at,
    CASE WHEN random() < 0.8 THEN 'inspection' ELSE 'downtime' END AS t,
    1 + (random() * 58)::int AS ins, (random() * 4)::int AS d, (random() * 3)::int AS dfx,
    round((random() * 240)::numeric, 1) AS mins, random() < 0.3 AS planned
  FROM generate_series(1, {rows}) AS g
) AS x
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="B2/B5 push-down scorecards")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--subjects", type=int, default=0)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--pg-rows", type=int, default=0)
    parser.add_argument("--rss-child", default="")
    args = parser.parse_args(argv)
    if args.rss_child:
        child_rss(args.rss_child)
        return 0
    rows = args.rows or (200_000 if args.quick else 1_000_000)
    subjects = args.subjects or (2_000 if args.quick else 10_000)
    sample = 50 if args.quick else 100
    with tempfile.TemporaryDirectory(prefix="perfcore-b2-") as tmp:
        url = f"sqlite:///{tmp}/b2.db"
        build_store(url, rows, subjects)
        result = measure(url, subjects, sample, "B2")
        result["rows"] = rows
        result["ok"] = (
            result["ratio"] <= 1.5 and result["loop_speedup"] >= 20 and result["mismatches"] == 0
        )
        print(json.dumps(result))
        child = subprocess.run(
            [sys.executable, __file__, "--rss-child", url],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        peak = json.loads(child.stdout.strip().splitlines()[-1])["peak_rss_mb"]
        print(
            json.dumps(
                {
                    "bench": "B5",
                    "rows": rows,
                    "subjects": subjects,
                    "peak_rss_mb": peak,
                    "ratio": round(peak / 300, 2),
                    "target": 300,
                    "ok": peak <= 300,
                }
            )
        )
    if args.quick and not args.pg_rows:
        note = "B2 on PostgreSQL runs in full mode (10M rows) or with --pg-rows N"
        print(json.dumps({"bench": "B2.pg", "skipped": note}))
    elif not args.no_pg:
        pg_rows = args.pg_rows or 10_000_000
        print(json.dumps(pg_measure(pg_rows, 10_000, sample)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
