"""User mistakes on the command line are one ``error:`` line plus one ``hint:`` line, exit 1, and
no traceback (docs/cli.md, "Errors"); read-only commands never create a database or a folder."""

from __future__ import annotations

import sys
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


def run(*args: str) -> tuple[int, list[str]]:
    """Exit code and the lines on stderr (stdout must not carry a traceback either)."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stderr.splitlines()


def test_a_plan_that_is_not_utf8_is_one_line_with_the_byte_and_a_hint(project: Path) -> None:
    (project / "latin1.yaml").write_bytes("name: caf\u00e9\n".encode("latin-1"))
    code, lines = run("validate", "latin1.yaml")
    assert code == 1
    assert lines == [
        "error: latin1.yaml: not UTF-8 text (byte 0xE9 at offset 9)",
        "hint: a plan is a UTF-8 YAML file: re-save it as UTF-8",
    ]
    (project / "noise.yaml").write_bytes(bytes([0xFF, 0xFE, 0x00, 0x81]) * 8)
    code, lines = run("validate", "noise.yaml")
    assert code == 1
    assert lines[0] == "error: noise.yaml: not UTF-8 text (byte 0xFF at offset 0)"


def test_a_latin1_csv_names_the_encoding_options_of_the_source(project: Path) -> None:
    csv_path = project / "data" / "inspections.csv"
    text = csv_path.read_text(encoding="utf-8").replace("L1", "L\u00e9", 1)
    csv_path.write_bytes(text.encode("latin-1"))
    line = text[: text.index("\u00e9")].count("\n") + 1
    code, lines = run("sync")
    assert code == 1
    assert lines[0] == f"error: data/inspections.csv: not utf-8-sig text (byte 0xE9 on line {line})"
    assert lines[-1] == (
        "hint: re-save it as UTF-8, or set `encoding:` in the plan source's config "
        "(a codec name such as latin-1 or cp1252, or auto to detect it)"
    )
    plan = project / "perfcore.yaml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace(
            "config: {path: data/inspections.csv}",
            "config: {path: data/inspections.csv, encoding: latin-1}",
        ),
        encoding="utf-8",
    )
    code, lines = run("sync")
    assert code == 0, lines


def test_db_that_is_a_directory_or_not_a_database_is_one_line(project: Path) -> None:
    (project / "folder").mkdir()
    code, lines = run("score", "--period", "2025-03", "--db", "folder")
    assert code == 1
    assert lines == [
        f"error: --db {project / 'folder'} is a directory",
        "hint: pass the path of a SQLite file, e.g. --db perfcore.db",
    ]
    code, lines = run("score", "--period", "2025-03", "--db", "perfcore.yaml")
    assert code == 1
    assert lines == [
        "error: --db is not a SQLite database (file is not a database)",
        "hint: pass the path of a perfcore database file, or a postgresql+psycopg:// URL",
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["score", "--period", "2025-03"],
        ["dashboard"],
        ["reviews"],
        ["calibrate", "S1"],
        ["incentives"],
        ["report", "--out", "out"],
    ],
)
def test_read_only_commands_refuse_a_missing_database_and_create_nothing(
    project: Path, command: list[str]
) -> None:
    missing = project / "nowhere" / "x.db"
    code, lines = run(*command, "--db", str(missing))
    assert code == 1
    assert lines == [
        f"error: no database at {missing}",
        "hint: check --db, or create one with `perfcore init` / `perfcore sync`",
    ]
    assert not missing.parent.exists()
    code, lines = run(*command, "--db", "new.db")
    assert code == 1
    assert not (project / "new.db").exists()


def test_a_read_only_database_is_one_line(project: Path) -> None:
    assert run("sync")[0] == 0
    url = f"sqlite:///file:{project / 'perfcore.db'}?mode=ro&uri=true"
    (project / "data" / "inspections.csv").write_text(
        "date,leader,line,inspected,good\n2025-03-20,E1,L1,10,9\n", encoding="utf-8"
    )
    code, lines = run("sync", "--db", url)
    assert code == 1
    assert lines[0] == "error: the database is read-only (attempt to write a readonly database)"
    assert lines[1] == ("hint: run in a writable folder or pass --db PATH to a writable location")


def test_postgres_without_psycopg_says_which_extra_to_install(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    code, lines = run("score", "--period", "2025-03", "--db", "postgresql+psycopg://u@h/db")
    assert code == 1
    assert lines == [
        "error: a postgresql:// database needs the psycopg driver, which is not installed",
        "hint: pip install 'perfcore[postgres]'",
    ]


def test_an_interrupted_sync_says_re_run_to_resume_and_exits_130(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import perfcore_adapters.cli._cmd_data as data

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "sync_all", interrupted)
    code, lines = run("sync")
    assert code == 130
    assert lines == [
        "interrupted; re-run to resume (committed batches are kept, repeats count as duplicates)"
    ]


def test_commands_leave_no_write_ahead_log_behind(project: Path) -> None:
    assert run("sync")[0] == 0
    assert run("score", "--period", "2025-03")[0] == 0
    assert sorted(p.name for p in project.glob("perfcore.db*")) == ["perfcore.db"]


def test_an_unreachable_database_server_is_one_line(project: Path) -> None:
    pytest.importorskip("psycopg")
    code, lines = run("sync", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert code == 1
    assert lines[0].startswith("error: database error: connection failed")
    assert lines[1] == (
        "hint: check --db (a SQLite file path or a postgresql+psycopg:// URL) and that it is "
        "reachable"
    )


def test_a_mistyped_subject_is_refused_and_stores_nothing(
    project: Path, db_state: Callable[[Path], tuple[object, ...]]
) -> None:
    assert run("sync")[0] == 0
    assert run("score", "--period", "2025-03")[0] == 0
    before = db_state(project / "perfcore.db")
    code, lines = run("score", "--period", "2025-03", "--subject", "person:E3")
    assert code == 1
    assert lines == [
        "error: --subject person:E3: no evidence for this subject in the database",
        "hint: did you mean 'person:E2'? valid: person:E1, person:E2",
    ]
    code, lines = run("score", "--period", "2025-04", "--subject", "person:E1", "--json")
    assert code == 1
    assert lines == [
        "error: --subject person:E1: no evidence for this subject in 2025-04",
        "hint: check --period (the subject has evidence in other periods)",
    ]
    assert db_state(project / "perfcore.db") == before  # no empty scorecard was written
    code, lines = run("score", "--period", "2025-03", "--subject", "person:E2", "--json")
    assert code == 0


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("sqlite:/x.db", "looks like a database URL, but 'sqlite:' is not followed by //"),
        ("sqlit:x.db", "looks like a database URL, but 'sqlit:' is not followed by //"),
        ("sqlite://x.db", "a SQLite URL needs three slashes before the path"),
    ],
)
def test_a_malformed_db_url_is_refused_not_taken_as_a_file_name(
    project: Path, value: str, error: str
) -> None:
    before = sorted(p.name for p in project.iterdir())
    code, lines = run("db", "upgrade", "--db", value)
    assert code == 1
    assert lines[0] == f"error: --db {value}: {error}"
    assert lines[1].startswith("hint: write sqlite:///")
    assert sorted(p.name for p in project.iterdir()) == before  # no folder or file was made


def test_an_empty_csv_is_refused_and_a_header_only_csv_loads_nothing(project: Path) -> None:
    csv_path = project / "data" / "inspections.csv"
    header = csv_path.read_text(encoding="utf-8").splitlines()[0]
    csv_path.write_bytes(b"")
    result = runner.invoke(app, ["sync"], env={"COLUMNS": "200"}, catch_exceptions=False)
    assert result.stdout == ""  # refused before the progress display starts
    code, lines = run("sync")
    assert code == 1
    assert lines[0] == "error: data/inspections.csv is empty: no header row"
    assert lines[1].startswith("hint: a CSV source starts with a header row")
    csv_path.write_text(header + "\n", encoding="utf-8")
    code, lines = run("sync")
    assert code == 0, lines


def test_a_missing_source_file_says_where_it_was_looked_for(project: Path) -> None:
    (project / "data" / "inspections.csv").unlink()
    code, lines = run("sync")
    assert code == 1
    assert lines[0].startswith("error: the source file ")
    assert lines[0].endswith("inspections.csv does not exist")
    assert lines[1] == (
        "hint: check config.path of the plan source: a relative path is looked up next to the "
        f"plan file, then in the working directory ({project})"
    )


def test_data_never_turns_into_emoji_and_an_empty_subject_is_refused(project: Path) -> None:
    assert run("sync")[0] == 0
    code, lines = run("score", "--period", "2025-03", "--subject", "person::smile:")
    assert code == 1
    assert (
        lines[0] == "error: --subject person::smile:: no evidence for this subject in the database"
    )
    code, lines = run("score", "--period", "2025-03", "--subject", "")
    assert code == 1
    assert lines[0].startswith("error: --subject: '' is not a subject reference")


def test_a_csv_of_blank_lines_has_no_header_row(project: Path) -> None:
    (project / "data" / "inspections.csv").write_text("\n\n", encoding="utf-8")
    code, lines = run("sync")
    assert code == 1
    assert lines[0] == "error: data/inspections.csv is empty: no header row"


def test_an_unsupported_database_gets_a_hint(project: Path) -> None:
    code, lines = run("score", "--period", "2025-03", "--db", "mysql://u@h/db")
    assert code == 1
    assert lines == [
        "error: storage: unsupported database 'mysql' (valid: sqlite or postgresql)",
        "hint: --db takes a SQLite file path or postgresql://user@host/db",
    ]


@pytest.mark.parametrize("when", ["9999-12-30T00:00+00:00", "0001-01-01T00:00+00:00"])
def test_a_now_far_outside_any_real_history_is_refused(project: Path, when: str) -> None:
    code, lines = run("sync", "--now", when)
    assert code == 1
    assert lines == [
        f"error: --now {when!r} is out of range",
        "hint: give a time between the years 1900 and 2999",
    ]
