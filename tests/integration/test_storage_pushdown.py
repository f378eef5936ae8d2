"""Push-down evaluation gives the Python back end's values (property test on generated evidence,
SQLite and PostgreSQL), and the incremental refresh recomputes only the touched pairs.

The reference is computed independently of the adapter: the application's Python path
(perfcore.services.measuring.compute_indicator_values over the subject's AcceptedEvidence)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from attrs import frozen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan, loads
from perfcore.services.measuring import compute_indicator_values
from perfcore.services.records import AcceptedEvidence
from perfcore_adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for, upgrade
from perfcore_adapters.sqlalchemy.pushdown import compute_values_sql
from perfcore_adapters.sqlalchemy.refresh import dirty_pairs, refresh_dirty

PLAN = """\
perfcore: 1
name: push-down parity
time_zone: Asia/Shanghai
period: month
evidence:
  inspection:
    fields: {inspected: number, good: number, code: text, passed: boolean}
indicators:
  inspected: {evidence: inspection, agg: sum, expr: inspected}
  good: {evidence: inspection, agg: sum, expr: good}
  fpy: {type: ratio, numerator: good, denominator: inspected, target: 0.95}
  lots: {evidence: inspection, agg: count}
  failed_lots: {evidence: inspection, agg: count, filter: "not passed"}
  good_counted: {evidence: inspection, agg: count, expr: good}
  mean_good: {evidence: inspection, agg: average, expr: good}
  least_good: {evidence: inspection, agg: min, expr: good}
  most_good: {evidence: inspection, agg: max, expr: good}
  codes: {evidence: inspection, agg: count_distinct, expr: code}
  median_good: {evidence: inspection, agg: median, expr: good}
  weighted: {evidence: inspection, agg: sum, expr: "good * 2 / inspected", filter: "inspected > 3"}
  fpy_pct: {type: derived, expr: "fpy * 100", inputs: [fpy]}
  filled: {evidence: inspection, agg: sum, expr: good, filter: "code == 'zz'", fill_nulls_with: 0}
  trailing: {type: cumulative, evidence: inspection, agg: sum, expr: inspected, window: 2 months}
"""
TZ = ZoneInfo("Asia/Shanghai")
SUBJECTS = [SubjectRef.person(f"E{i}") for i in range(1, 5)]
START = dt.datetime(2025, 2, 27, tzinfo=dt.UTC)
PERIODS = [Period.month(2025, 3), Period.month(2025, 4)]


WINDOWED = (
    "  recent_mean: {type: cumulative, evidence: inspection, agg: average, expr: good,"
    " window: 10 days}\n"
)
"""A second cumulative indicator: an average over a 10-day window (a window not aligned to
months, and a second window query for the same evidence type)."""


MERGED = (
    "  good_qtd: {type: cumulative, evidence: inspection, agg: sum, expr: good,"
    " grain_to_date: quarter}\n"
    "  least_2m: {type: cumulative, evidence: inspection, agg: min, expr: good, window: 2 months}\n"
    "  most_2m: {type: cumulative, evidence: inspection, agg: max, expr: good, window: 2 months}\n"
    "  mean_2m: {type: cumulative, evidence: inspection, agg: average, expr: good,"
    " window: 2 months}\n"
    "  lots_2m: {type: cumulative, evidence: inspection, agg: count, filter: passed,"
    " window: 2 months}\n"
    "  checks_qtd: {type: cumulative, evidence: audit, agg: sum, expr: score,"
    " grain_to_date: quarter}\n"
)
"""Windows made of whole months whose monthly parts are merged in Python (sum, min, max,
average, filtered count), and an evidence type (``audit``) read only by a cumulative indicator:
its window months are scanned without a simple-indicator scan to share."""


def _plan(extra: str = "") -> Plan:
    text = PLAN + extra
    if "audit" in extra:
        text = text.replace("evidence:\n", "evidence:\n  audit:\n    fields: {score: number}\n", 1)
    return loads(text, "parity.yaml")


row_strategy = st.fixed_dictionaries(
    {
        "subject": st.sampled_from(SUBJECTS),
        "minutes": st.integers(0, 62 * 24 * 60),
        "inspected": st.integers(0, 40).map(Decimal),
        "good": st.one_of(
            st.none(), st.decimals(0, 40, places=2, allow_nan=False, allow_infinity=False)
        ),
        "code": st.sampled_from(["a", "b", "c", "zz", ""]),
        "passed": st.booleans(),
    }
)


def _evidence(rows: list[dict[str, object]], *, audits: bool = False) -> list[AcceptedEvidence]:
    """Inspections from ``rows``; with ``audits`` every row also gives an ``audit`` row
    (score = inspected) 0, 30 or 60 days earlier, so audits fall in every month from
    December to April."""
    out = []
    for i, r in enumerate(rows):
        at = START + dt.timedelta(minutes=int(r["minutes"]))  # type: ignore[call-overload]
        values = {k: r[k] for k in ("inspected", "good", "code", "passed")}
        subject = r["subject"]
        assert isinstance(subject, SubjectRef)
        out.append(AcceptedEvidence(f"k{i}", "inspection", subject, at, at, "mes", str(i), values))
        if audits:
            when = at - dt.timedelta(days=30 * (i % 3))
            score = {"score": r["inspected"]}
            out.append(AcceptedEvidence(f"a{i}", "audit", subject, when, when, "qa", str(i), score))
    return out


def _q(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("1e-9"))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('pd')}/pd.db"
    else:
        from perfcore_adapters.sqlalchemy.testing_pg import fresh_database_url

        url = fresh_database_url(request)
    made = create_engine_for(url)
    upgrade(made)
    yield made
    made.dispose()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(row_strategy, max_size=40))
@pytest.mark.parametrize(
    ("extra", "asked"),
    [("", "4"), (WINDOWED, "4"), (MERGED, "3"), (MERGED, "all"), (MERGED, "1")],
    ids=["one-window", "two-windows", "merged-3-subjects", "merged-all", "merged-1-subject"],
)
def test_pushdown_values_equal_the_python_back_end(
    engine: Engine, extra: str, asked: str, rows: list[dict[str, object]]
) -> None:
    """``asked``: the subjects passed — 4, 3 (a statement shape padded to 4), 1, or ``all``
    (no subject filter: every subject with evidence comes back)."""
    plan = _plan(extra)
    evidence = _evidence(rows, audits="audit" in extra)
    subjects = None if asked == "all" else SUBJECTS[: int(asked)]
    uow = SqlAlchemyUnitOfWork(engine, tz=TZ)
    with uow:
        for ev in evidence:
            uow.evidence.add(
                ev.key, ev, subject=ev.subject, evidence_type=ev.evidence_type, at=ev.occurred_at
            )
        uow.evidence.flush()
        got = compute_values_sql(uow.connection, plan, PERIODS, subjects=subjects)
        # rolled back at exit: every example starts from an empty table
    if subjects is None:
        with_rows = {(e.subject, p.key) for e in evidence for p in PERIODS}
        assert set(got) <= with_rows
    for subject in subjects or SUBJECTS:
        mine = [e for e in evidence if e.subject == subject]
        for period in PERIODS:
            by_type = {
                etype: [e.row() for e in mine if e.evidence_type == etype]
                for etype in ("inspection", "audit")
            }
            want = compute_indicator_values(plan, period, by_type)
            if (subject, period.key) not in got:  # no filter: a pair without evidence is absent
                assert subjects is None
                assert all(not v.evidence_count for v in want.values())
                continue
            have = got[(subject, period.key)]
            assert set(have) == set(want)
            for name, expected in want.items():
                assert _q(have[name].value) == _q(expected.value), (subject, period.key, name)
                if name not in ("fpy", "fpy_pct"):
                    assert have[name].evidence_count == expected.evidence_count, name


def test_only_touched_subject_periods_are_refreshed(tmp_path: object) -> None:
    plan = _plan()
    engine = create_engine_for(f"sqlite:///{tmp_path}/inc.db")
    upgrade(engine)
    uow = SqlAlchemyUnitOfWork(engine, tz=TZ)
    rows = [
        {"subject": s, "minutes": d * 24 * 60, "inspected": Decimal(10), "good": Decimal(9),
         "code": "a", "passed": True}
        for s in SUBJECTS for d in (5, 40)
    ]  # fmt: skip
    evidence = _evidence(rows)
    with uow:
        for ev in evidence:
            uow.evidence.add(
                ev.key, ev, subject=ev.subject, evidence_type="inspection", at=ev.occurred_at
            )
        first = refresh_dirty(uow, plan)
        uow.commit()
    assert len(first) == len(SUBJECTS) * 2  # March and April for everyone
    late = AcceptedEvidence(
        "late", "inspection", SUBJECTS[1], dt.datetime(2025, 4, 2, tzinfo=dt.UTC),
        dt.datetime(2025, 4, 2, tzinfo=dt.UTC), "mes", "late",
        {"inspected": Decimal(10), "good": Decimal(1), "code": "b", "passed": False},
    )  # fmt: skip
    with uow:
        uow.evidence.add(
            "late", late, subject=late.subject, evidence_type="inspection", at=late.occurred_at
        )
        pairs, _ = dirty_pairs(uow, plan)
        assert pairs == {(SUBJECTS[1], Period.month(2025, 4))}
        again = refresh_dirty(uow, plan)
        uow.commit()
    assert [(r.subject, r.period_key) for r in again] == [(SUBJECTS[1], "2025-04")]
    assert again[0].values["fpy"] == Decimal(10) / Decimal(20)  # (9 + 1) / (10 + 10)
    with uow:
        assert refresh_dirty(uow, plan) == []
        stored = uow.scorecards.get(SUBJECTS[1], "2025-04")
    assert stored == again[0]
    engine.dispose()


@frozen
class Correction:
    """A corrected record: version 2 of an evidence record, superseding version 1's key."""

    key: str
    values: Mapping[str, object]
    version: int
    supersedes: str


def test_a_correction_refreshes_both_the_old_and_the_new_period(tmp_path: object) -> None:
    """Version 2 moves a lot from March to April: March is recomputed without version 1 (which
    no longer counts; with no evidence left, its scorecard is removed) and April with version 2
    — and only those two pairs."""
    plan = _plan()
    engine = create_engine_for(f"sqlite:///{tmp_path}/fix.db")
    upgrade(engine)
    uow = SqlAlchemyUnitOfWork(engine, tz=TZ)
    march = dt.datetime(2025, 3, 10, tzinfo=dt.UTC)
    values = {"inspected": Decimal(10), "good": Decimal(9), "code": "a", "passed": True}
    with uow:
        for subject in SUBJECTS[:2]:
            key = f"v1-{subject.id}"
            ev = AcceptedEvidence(key, "inspection", subject, march, march, "mes", key, values)
            uow.evidence.add(key, ev, subject=subject, evidence_type="inspection", at=march)
        refresh_dirty(uow, plan)
        uow.commit()
    fixed = Correction("v2-E1", {**values, "good": Decimal(4)}, 2, "v1-E1")
    april = dt.datetime(2025, 4, 3, tzinfo=dt.UTC)
    with uow:
        uow.evidence.add("v2-E1", fixed, subject=SUBJECTS[0], evidence_type="inspection", at=april)
        pairs, _ = dirty_pairs(uow, plan)
        assert pairs == {(SUBJECTS[0], Period.month(2025, 3)), (SUBJECTS[0], Period.month(2025, 4))}
        records = {r.period_key: r for r in refresh_dirty(uow, plan)}
        uow.commit()
    assert set(records) == {"2025-04"}  # version 1 no longer counts: nothing left in March
    assert records["2025-04"].values["fpy"] == Decimal(4) / Decimal(10)
    with uow:
        assert uow.scorecards.get(SUBJECTS[0], "2025-03") is None
        untouched = uow.scorecards.get(SUBJECTS[1], "2025-03")
    assert untouched is not None
    assert untouched.values["fpy"] == Decimal(9) / Decimal(10)
    engine.dispose()


@pytest.mark.postgres
def test_a_batch_on_postgresql_raises_work_mem_for_its_transaction_only(
    request: pytest.FixtureRequest,
) -> None:
    from perfcore_adapters.sqlalchemy.testing_pg import fresh_database_url

    engine = create_engine_for(fresh_database_url(request))
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("SET work_mem = '4MB'")
        conn.commit()
        compute_values_sql(conn, _plan(), PERIODS)  # every subject: a batch
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "64MB"
        conn.rollback()
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "4MB"  # back after it ends
        conn.exec_driver_sql("SET work_mem = '256MB'")
        conn.commit()
        compute_values_sql(conn, _plan(), PERIODS)
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "256MB"  # never lowered
    engine.dispose()
