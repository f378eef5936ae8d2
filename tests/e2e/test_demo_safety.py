"""``perfcore demo`` does not overwrite someone's work without ``--force``, and Ctrl-C stops it
cleanly: one line, exit 130, no traceback, no worker process left running, no half-written
database left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfcore_adapters.cli._app import app

runner = CliRunner()
FLAGS = ("--force", "--no-report", "--jobs", "2")


@pytest.mark.parametrize("existing", ["perfcore.db", "garment.yaml", "perfcore.yaml"])
def test_demo_refuses_to_replace_existing_files_without_force(
    tmp_path: Path, existing: str
) -> None:
    (tmp_path / existing).write_text("mine\n", encoding="utf-8")
    result = runner.invoke(app, ["demo", "--workdir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path} already has {existing}; the demo would replace them",
        "hint: pass --force to overwrite, or choose a new --workdir",
    ]
    assert (tmp_path / existing).read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "data").exists()


def _live_processes_in_session(sid: int) -> list[str]:
    """Processes of session ``sid`` that still run (zombies, already exited, are not counted)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            out.append(f"{entry.name} {state}")
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find child processes")
def test_ctrl_c_stops_the_demo_and_its_workers_with_one_line(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    workdir.mkdir()
    (workdir / "perfcore.db").write_text("old\n", encoding="utf-8")  # --force replaces it
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfcore_adapters.cli", "demo", "--workdir", str(workdir), *FLAGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    try:
        for _ in range(200):  # the demo has started once it copied its data (at most 10 s)
            if (workdir / "data").is_dir() or proc.poll() is not None:
                break
            time.sleep(0.05)
        time.sleep(1.0)  # the workers are replaying
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = err.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text
    assert f"demo interrupted; partial databases in {workdir} removed (re-run with --force)" in (
        text.replace("\n", " ")
    )
    time.sleep(0.3)
    assert _live_processes_in_session(proc.pid) == []
    assert not (workdir / "perfcore.db").exists()
