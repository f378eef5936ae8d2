"""The two demo scenarios on the bundled real data: where their files are, how their rows are
cut into arrival slices, and the declared simulated behaviour of their managers.

The data ship inside the package (``demo_data/data/``, put there by the wheel build from
``examples/data/``); in a source checkout they are read from ``examples/data/`` directly.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from attrs import frozen

from perfcore.plan import Plan
from perfcore_adapters.cli._common import fail
from perfcore_adapters.cli._ingest import read_csv
from perfcore_adapters.cli._replay import Slice

__all__ = [
    "GARMENT",
    "SALES",
    "Scenario",
    "data_root",
    "demo_dir",
    "install_demo_files",
]

HERE = Path(__file__).resolve().parent
DATASETS = ("garment-worker-productivity", "crm-sales-opportunities")


@frozen
class Scenario:
    """A demo scenario: plan file name, database file name, and the declared rater biases
    (manager id → rating steps added to what the scorecard suggests; simulated)."""

    key: str
    title: str
    plan_file: str
    db_file: str
    rater_bias: Mapping[str, int]


GARMENT = Scenario(
    key="garment",
    title="Garment factory",
    plan_file="garment.yaml",
    db_file="perfcore.db",
    rater_bias={},
)
SALES = Scenario(
    key="sales",
    title="Sales organisation",
    plan_file="sales.yaml",
    db_file="sales.db",
    rater_bias={"rocco.neubert": 1, "cara.losch": -1},
)


def demo_dir() -> Path:
    """The directory holding the demo plans (inside the installed package)."""
    return HERE / "demo_data"


def data_root() -> Path:
    """The directory holding the demo datasets (packaged copy, else the checkout's examples)."""
    packaged = demo_dir() / "data"
    if all((packaged / d / "PROVENANCE.md").is_file() for d in DATASETS):
        return packaged
    for parent in HERE.parents:
        candidate = parent / "examples" / "data"
        if all((candidate / d / "PROVENANCE.md").is_file() for d in DATASETS):
            return candidate
    fail(
        "the demo data are missing from this installation",
        "reinstall perfcore from a source checkout: pip install .",
    )


def install_demo_files(workdir: Path) -> None:
    """Copy the demo plans and the datasets (with their PROVENANCE.md) into ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    for plan in (GARMENT.plan_file, SALES.plan_file):
        shutil.copyfile(demo_dir() / plan, workdir / plan)
    root = data_root()
    for dataset in DATASETS:
        target = workdir / "data" / dataset
        target.mkdir(parents=True, exist_ok=True)
        for item in (root / dataset).iterdir():
            if item.is_file():
                shutil.copyfile(item, target / item.name)


def garment_slices(plan: Plan, path: Path) -> list[Slice]:
    """One slice per production day, arriving at 18:00 factory time (end of the shift)."""
    by_day: dict[dt.date, list[dict[str, str]]] = defaultdict(list)
    for row in read_csv(path):
        day = dt.datetime.strptime(row["date"], "%m/%d/%Y").date()
        by_day[day].append(row)
    return [
        Slice(dt.datetime.combine(day, dt.time(18), plan.tz), "garment_csv", list(rows))
        for day, rows in sorted(by_day.items())
    ]


def sales_slices(plan: Plan, path: Path) -> list[Slice]:
    """Closed deals arrive weekly, Sunday 20:00 UTC, with the week of their close date (a week is
    cut at the month end, so no deal arrives after its quarter closed); deals still open (no close
    date) arrive with the first slice, where they are quarantined with that reason."""
    rows = read_csv(path)
    open_rows = [r for r in rows if not r["close_date"]]
    by_day: dict[dt.date, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if not row["close_date"]:
            continue
        closed = dt.date.fromisoformat(row["close_date"])
        sunday = closed + dt.timedelta(days=6 - closed.weekday())
        month_end = (closed.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        by_day[min(sunday, month_end - dt.timedelta(days=1))].append(row)
    slices = [
        Slice(dt.datetime.combine(day, dt.time(20), plan.tz), "crm_pipeline", list(part))
        for day, part in sorted(by_day.items())
    ]
    if slices and open_rows:
        first = slices[0].arrives - dt.timedelta(hours=1)
        slices.insert(0, Slice(first, "crm_pipeline", list(open_rows)))
    return slices
