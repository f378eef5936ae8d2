"""Every ``perfcore`` command through typer's CliRunner, on the starter plan of ``perfcore init``
(SQLite file in a temp dir): exit codes, one-line errors with hints, and the figures.

Starter data (``perfcore init`` writes them; numbers recomputed here from those rows):
E1 inspected 120+130+125+118 = 493, good 116+111+121+117 = 465 → first pass yield 465/493;
E2 inspected 100+110+105+102 = 417, good 97+108+96+100 = 401 → 401/417.
First pass yield = good / inspected (ISO 22400-2 FPY, a ratio of sums).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfcore_adapters.cli._app import app

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PERFCORE_DB", raising=False)
    monkeypatch.delenv("PERFCORE_PLAN", raising=False)
    result = runner.invoke(app, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "160"}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_a_starter_plan_data_and_database(project: Path) -> None:
    assert (project / "perfcore.yaml").is_file()
    assert (project / "data" / "inspections.csv").is_file()
    assert (project / "perfcore.db").is_file()
    code, _, err = run("init")
    assert code == 1
    assert "perfcore.yaml already exists" in err
    assert "hint: use --force" in err


def test_validate_accepts_a_good_plan(project: Path) -> None:
    code, out, _ = run("validate", "perfcore.yaml")
    assert code == 0
    assert "is valid" in out
    assert "3 indicators, 1 objectives" in out


def test_validate_reports_a_bad_plan_as_file_line_column_and_exits_1(project: Path) -> None:
    text = (project / "perfcore.yaml").read_text(encoding="utf-8")
    bad = text.replace("indicators: {fpy: 100}", "indicators: {fyp: 100}")
    (project / "bad.yaml").write_text(bad, encoding="utf-8")
    line_no = next(i for i, ln in enumerate(bad.splitlines(), 1) if "{fyp: 100}" in ln)
    column = bad.splitlines()[line_no - 1].index("fyp") + 1
    code, out, err = run("validate", "bad.yaml")
    assert code == 1
    assert (
        f"bad.yaml:{line_no}:{column}: objectives.quality.indicators.fyp: unknown indicator 'fyp'"
        in err
    )
    assert "did you mean 'fpy'?" in err
    assert "Traceback" not in out + err
    code, out, _ = run("validate", "bad.yaml", "--json")
    assert code == 1
    [problem] = json.loads(out)
    assert (problem["line"], problem["column"]) == (line_no, column)


def test_validate_reports_a_yaml_syntax_error_with_its_position(project: Path) -> None:
    (project / "broken.yaml").write_text("perfcore: 1\nname: [unclosed\n", encoding="utf-8")
    code, out, err = run("validate", "broken.yaml")
    assert code == 1
    assert "broken.yaml:" in err
    assert "Traceback" not in out + err


def test_user_errors_are_one_line_plus_a_hint_and_usage_errors_exit_2(project: Path) -> None:
    code, out, err = run("score", "--period", "2025-13")
    assert code == 1
    assert err.splitlines() == [
        "error: --period: '2025-13': month 13 does not exist (valid: 1..12)",
        "hint: check --period; `--help` after the command shows what it takes",
    ]
    assert "Traceback" not in out + err
    code, _, err = run("validate", "missing.yaml")
    assert code == 1
    assert "no plan file at missing.yaml" in err
    code, _, _ = run("score")  # --period is required
    assert code == 2
    code, _, _ = run("no-such-command")
    assert code == 2


def test_sync_then_score_json_gives_first_pass_yield_per_leader(project: Path) -> None:
    code, out, _ = run("sync")
    assert code == 0
    assert "inspections" in out
    code, out, _ = run("sync", "inspections")  # idempotent: all duplicates the second time
    assert code == 0
    assert "│    8 │   0 │          8 │" in out  # read, new, duplicates
    code, _, err = run("sync", "inspection")
    assert code == 1
    assert "unknown source 'inspection'" in err
    assert "did you mean 'inspections'?" in err
    code, out, _ = run("score", "--period", "2025-03", "--json")
    assert code == 0
    cards = {row["subject"]: row for row in json.loads(out)}
    assert set(cards) == {"person:E1", "person:E2"}
    e1 = cards["person:E1"]
    assert e1["values"]["fpy"] == pytest.approx(465 / 493, abs=1e-12)
    assert e1["values"]["inspected"] == 493
    assert cards["person:E2"]["values"]["fpy"] == pytest.approx(401 / 417, abs=1e-12)
    assert e1["plan_version"] == 1
    assert e1["period"] == "2025-03"
    # ratio scoring against the 0.95 target: score = fpy / 0.95, attainment in percent
    assert e1["scores"]["fpy"] == pytest.approx(round(465 / 493 / 0.95, 3), abs=1e-9)
    assert e1["attainments_percent"]["fpy"] == pytest.approx(
        round(465 / 493 / 0.95 * 100, 2), abs=1e-9
    )
    assert e1["objective_scores"]["quality"] == e1["total"]
    code, out, _ = run("score", "--period", "2025-03", "--subject", "person:E2", "--json")
    assert code == 0
    assert [r["subject"] for r in json.loads(out)] == ["person:E2"]
    code, out, _ = run("score", "--period", "2025-03")
    assert code == 0
    assert "person:E1" in out
    code, _, err = run("score", "--period", "2024-01")
    assert code == 1
    assert "no scorecard in 2024-01" in err


def test_dashboard_reviews_and_incentives_show_the_loop(project: Path) -> None:
    assert run("sync")[0] == 0
    # E1's 2025-03-04 yield 111/130 = 0.854 and E2's 2025-03-05 yield 96/105 = 0.914 ...
    # only E1's day is under the 0.9 daily threshold -> one alert, one review with a 48 h SLA
    # from the moment the data arrived (the sync, now)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    late = dt.datetime.now(dt.UTC) + dt.timedelta(hours=49)
    code, out, _ = run("dashboard", "--now", soon.isoformat())
    assert code == 0
    assert "fpy per day" in out
    assert "low_fpy" in out
    assert "open reviews (1)" in out
    code, out, _ = run("reviews", "--json", "--now", soon.isoformat())
    assert code == 0
    [review] = json.loads(out)
    assert review["subject"] == "person:E1"
    assert review["assignee"] == "M1"
    assert review["sla_status"] == "on_time"
    assert 46 <= float(review["hours_left"]) <= 47.1
    code, out, _ = run("reviews", "--now", late.isoformat())
    assert code == 0
    assert "overdue" in out
    code, out, _ = run("incentives")
    assert code == 0
    assert "incentive ledger" in out
    # rule quality_month: fpy >= 0.95 pays 50 points; E2 401/417 = 0.962 yes, E1 465/493 no
    code, out, _ = run("incentives", "--period", "2025-03", "--json")
    assert code == 0
    assert [(r["subject"], r["balance"]) for r in json.loads(out)] == [("person:E2", "50")]
    code, out, _ = run("incentives", "--period", "2025-03", "--entries")
    assert "0 new award(s) for 2025-03" in out  # evaluating again awards nothing twice
    code, _, err = run("dashboard", "--now", "yesterday")
    assert code == 1
    assert "not an ISO 8601 time" in err


def test_sync_as_of_a_past_moment_dates_the_review_deadlines_then(project: Path) -> None:
    # replaying history: the data of 4 March arrives on 4 March at 18:00 UTC, so E1's low-yield
    # review is due 48 h later, 6 March 18:00 UTC; on 5 March at 12:00 UTC 30 h are left
    assert run("sync", "--now", "2025-03-04T18:00+00:00")[0] == 0
    code, out, _ = run("reviews", "--json", "--now", "2025-03-05T12:00+00:00")
    assert code == 0
    [review] = json.loads(out)
    assert review["subject"] == "person:E1"
    assert float(review["hours_left"]) == 30.0
    code, out, _ = run("reviews", "--json", "--now", "2025-03-06T19:00+00:00")
    assert [r["sla_status"] for r in json.loads(out)] == ["overdue"]
    code, _, err = run("sync", "--now", "2025-03-04T18:00")
    assert code == 1
    assert "has no time zone" in err


def test_dashboard_sparkline_fits_one_line_of_an_80_column_terminal(project: Path) -> None:
    assert run("sync")[0] == 0
    result = runner.invoke(app, ["dashboard"], env={"COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [ln for ln in lines if ln.startswith("│ person:E")]
    assert len(rows) == 2  # one line per leader: the sparkline does not wrap or collapse
    assert all("…" not in row for row in rows)
    wide = runner.invoke(app, ["dashboard"], env={"COLUMNS": "200"}, catch_exceptions=False)
    assert "last 30 days" in wide.stdout


def test_calibrate_without_sessions_says_how_to_get_one(project: Path) -> None:
    code, _, err = run("calibrate")
    assert code == 1
    assert "no calibration sessions yet" in err
    code, _, err = run("calibrate", "cal-x")
    assert code == 1
    assert "no calibration session 'cal-x'" in err


def test_simulate_replays_history_against_a_proposed_plan_without_touching_the_db(
    project: Path, db_state: Callable[[Path], tuple[object, ...]]
) -> None:
    assert run("sync")[0] == 0
    before = db_state(project / "perfcore.db")
    text = (project / "perfcore.yaml").read_text(encoding="utf-8")
    stricter = text.replace("below: 0.9, grain: day", "below: 0.97, grain: day")
    (project / "proposed.yaml").write_text(stricter, encoding="utf-8")
    code, out, _ = run(
        "simulate", "--plan", "proposed.yaml", "--from", "2025-03", "--to", "2025-03", "--json"
    )
    assert code == 0, out
    doc = json.loads(out)
    # daily yields under 0.97 (recomputed from the starter rows): E1 03-03 116/120 = 0.967,
    # 03-04 111/130 = 0.854, 03-05 121/125 = 0.968; E2 03-05 96/105 = 0.914 -> 4 (E2 03-03
    # 97/100 = 0.97 is not under); under 0.9: only E1 03-04 -> 1
    assert doc["alerts"] == {"current": 1, "proposed": 4}
    assert db_state(project / "perfcore.db") == before
    code, out, _ = run(
        "simulate", "--plan", "proposed.yaml", "--from", "2025-03", "--to", "2025-03"
    )
    assert code == 0
    assert "sandbox" in out
    code, _, err = run(
        "simulate", "--plan", "proposed.yaml", "--from", "2025-04", "--to", "2025-03"
    )
    assert code == 1
    assert "before --from" in err


def test_db_upgrade_plugins_and_report(project: Path) -> None:
    code, out, _ = run("db", "upgrade", "--db", "other.db")
    assert code == 0
    assert (project / "other.db").is_file()
    code, out, _ = run("plugins")
    assert code == 0
    assert "builtin" in out
    code, out, _ = run("plugins", "--json")
    assert "csv" in json.loads(out)["sources"]
    assert run("sync")[0] == 0
    code, out, _ = run("report", "--out", "rep")
    assert code == 0
    html = (project / "rep" / "index.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert len(list((project / "rep" / "charts").glob("*.png"))) >= 2


def test_commands_without_a_plan_explain_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run("score", "--period", "2025-03")  # read-only: no database, none made
    assert code == 1
    assert "no database at" in err
    assert "perfcore init" in err
    assert not (tmp_path / "perfcore.db").exists()
    code, out, err = run("sync")
    assert code == 1
    assert "no plan" in err
    assert "perfcore init" in err
    assert "Traceback" not in out + err


SQL_PLAN = """\
perfcore: 1
name: mes plan
time_zone: UTC
period: month
evidence:
  inspection:
    fields: {inspected: number, good: number}
sources:
  mes:
    kind: sql
    stream: inspections
    config:
      url: "sqlite:///{db}"
      streams:
        - name: inspections
          query: "select id, leader, day, inspected, good, updated from insp"
          id_column: id
          watermark_column: updated
          occurred_at_column: day
          fields:
            leader: {column: leader, type: text}
            inspected: {column: inspected, type: number}
            good: {column: good, type: number}
    evidence: inspection
    subject: {field: leader, kind: person}
    occurred_at: {field: day}
    fields: {inspected: inspected, good: good}
indicators:
  fpy: {type: ratio, numerator: good_sum, denominator: inspected_sum, target: 0.95}
  good_sum: {evidence: inspection, agg: sum, expr: good}
  inspected_sum: {evidence: inspection, agg: sum, expr: inspected}
objectives:
  quality: {indicators: {fpy: 1}}
"""


def test_sync_pulls_a_plugin_source_with_its_bookmark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    monkeypatch.chdir(tmp_path)
    mes = tmp_path / "mes.db"
    with sqlite3.connect(mes) as con:
        con.execute(
            "create table insp (id integer primary key, leader text, day text, inspected int,"
            " good int, updated int)"
        )
        con.executemany(
            "insert into insp values (?, ?, ?, ?, ?, ?)",
            [(i, "E1", f"2025-03-0{i}", 100, 90 + i, i) for i in range(1, 6)],
        )
    (tmp_path / "mes.yaml").write_text(SQL_PLAN.replace("{db}", str(mes)), encoding="utf-8")
    code, out, err = run("sync", "--plan", "mes.yaml")
    assert code == 0, out + err
    assert "│ mes    │    5 │   5 │          0 │        0 │" in out
    code, out, _ = run("sync", "--plan", "mes.yaml")  # bookmark: nothing new to read
    assert "│ mes    │    0 │   0 │          0 │        0 │" in out
    code, out, _ = run("score", "--period", "2025-03", "--plan", "mes.yaml", "--json")
    [card] = json.loads(out)
    # good 91+92+93+94+95 = 465 of 500 inspected
    assert card["values"]["fpy"] == pytest.approx(465 / 500, abs=1e-12)


def test_version_and_help_exit_0() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.startswith("perfcore ")
    code, out, _ = run("--help")
    assert code == 0
    for command in ("init", "validate", "sync", "score", "dashboard", "reviews", "calibrate"):
        assert command in out
    for command in ("incentives", "simulate", "plugins", "report", "demo", "db"):
        assert command in out
