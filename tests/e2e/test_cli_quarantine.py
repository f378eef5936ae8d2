"""Rejected rows are visible from the command line: ``sync`` prints the top reasons (grouped,
counted, one example each), ``perfcore quarantine`` lists them, and a source whose every row was
rejected makes ``sync`` exit 1 with a line saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfcore_adapters.cli._app import app

runner = CliRunner()
HEADER = "date,leader,line,inspected,good\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PERFCORE_DB", raising=False)
    monkeypatch.delenv("PERFCORE_PLAN", raising=False)
    result = runner.invoke(app, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write_rows(project: Path, rows: list[str]) -> None:
    (project / "data" / "inspections.csv").write_text(HEADER + "".join(rows), encoding="utf-8")


def test_sync_prints_grouped_reasons_with_counts_and_an_example(project: Path) -> None:
    write_rows(
        project,
        [
            "2025-03-03,E1,L1,120,116\n",
            '2025-03-04,E1,L1,"1,000",111\n',  # three rows with a number that is not a number,
            "2025-03-05,E1,L1,n/a,121\n",  # grouped as one reason (the quoted value differs)
            "2025-03-06,E1,L1,?,117\n",
            "2025-03-03,E2,L2,100,\n",  # good is empty: another reason
        ],
    )
    code, out, _ = run("sync")
    assert code == 0
    lines = out.splitlines()
    start = lines.index("top reasons for rejected rows")
    first, example, second = lines[start + 1], lines[start + 2], lines[start + 3]
    assert first.startswith("  3 × inspections: fields.inspected: '1,000' is not a number")
    assert example.strip() == (  # where the row is in the file (header = line 1), then its values
        "e.g. inspections.csv:3: date=2025-03-04, leader=E1, line=L1, inspected=1,000, good=111"
    )
    assert second.startswith("  1 × inspections: fields.good")
    assert "perfcore quarantine --source inspections" in out

    code, out, _ = run("quarantine", "--json")
    assert code == 0
    groups = json.loads(out)
    assert [(g["field"], g["count"]) for g in groups] == [
        ("fields.inspected", 3),
        ("fields.good", 1),
    ]
    assert (
        groups[1]["example"]
        == "inspections.csv:6: date=2025-03-03, leader=E2, line=L2, inspected=100"
    )
    code, out, _ = run("quarantine", "--source", "inspections", "--limit", "1")
    assert code == 0
    assert out.splitlines()[0] == "quarantine: 4 rejected records"
    assert "… 1 more kinds of reason (1 rows)" in out


def test_quarantine_without_rejections_says_so(project: Path) -> None:
    assert run("sync")[0] == 0
    code, out, _ = run("quarantine")
    assert code == 0
    assert out.strip() == "no rejected records"


def test_sync_exits_1_when_every_row_of_a_source_is_rejected(project: Path) -> None:
    write_rows(project, ["2025-03-03,E1,L1,n/a,116\n", "2025-03-04,E2,L2,n/a,97\n"])
    code, out, err = run("sync")
    assert code == 1
    assert "  2 × inspections: fields.inspected: 'n/a' is not a number" in out
    assert err.splitlines() == [
        "error: every row of source 'inspections' (2 of 2) was rejected",
        "hint: see the reasons above; when every row fails the same way, the plan's source "
        "mapping (id, subject, occurred_at, fields) or the file is usually wrong",
    ]


def test_a_ragged_csv_row_is_rejected_not_trimmed(project: Path) -> None:
    # Row 2 has two values more than the five header columns; trailing empty cells (row 3) are
    # not values. Expected: 2 accepted, 1 rejected with the extra values named.
    write_rows(
        project,
        [
            "2025-03-03,E1,L1,120,116\n",
            "2025-03-04,E1,L1,100,95,7,oops\n",
            "2025-03-05,E1,L1,110,104,,\n",
        ],
    )
    code, out, _ = run("sync")
    assert code == 0
    code, out, _ = run("quarantine", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 1
    assert "2 more value(s) than the header has columns: '7', 'oops'" in rows[0]["reason"]


def test_a_bad_row_read_again_from_another_line_is_quarantined_once(project: Path) -> None:
    bad = "2025-03-04,E1,L1,n/a,111\n"
    write_rows(project, ["2025-03-03,E1,L1,120,116\n", bad])
    assert run("sync")[0] == 0
    write_rows(project, ["2025-03-02,E2,L2,90,88\n", "2025-03-03,E1,L1,120,116\n", bad])
    assert run("sync")[0] == 0
    code, out, _ = run("quarantine", "--json")
    assert code == 0
    [group] = json.loads(out)
    assert group["count"] == 1  # the same record, although it moved from line 3 to line 4
    assert group["example"].startswith("inspections.csv:3: ")  # where it was first seen


def test_an_example_with_a_multi_line_cell_stays_on_one_line(project: Path) -> None:
    write_rows(project, ["2025-03-03,E1,L1,120,116\n", '2025-03-04,E1,"L\n2",n/a,111\n'])
    code, out, _ = run("sync")
    assert code == 0
    code, out, _ = run("quarantine", "--json")
    [group] = json.loads(out)
    # the row starts on line 3 and ends on line 4 (where the reader is when it has read it)
    assert (
        group["example"]
        == "inspections.csv:4: date=2025-03-04, leader=E1, line=L⏎2, inspected=n/a, good=111"
    )
