"""The calibration grid shows per-rater bias statistics and flags next to the normalisation
suggestions (perfcore's rule; formulas as in docs/calibration.md: t_j = (m_j − M) /
(S/√n_j), RR_j = s_j/S, ddof = 0, flag |t| > 2 when n ≥ 5, RR < 0.5; raters with fewer than 4
ratings suppressed). Expected numbers are computed here with the statistics module."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal

from perfcore.domain.calibration.scale import BucketMapping, RatingScale
from perfcore.domain.calibration.session import CalibrationSession
from perfcore.domain.values import SubjectRef
from perfcore.services import queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock

RATINGS = {
    "M1": [5, 5, 5, 5, 4, 5],  # lenient and range-restricted
    "M2": [1, 2, 3, 3, 2, 1],  # severe
    "M3": [3, 3],  # fewer than 4 ratings: suppressed
}


def _session(bus: MessageBus, clock: FakeClock) -> None:
    plan = bus.ctx.plan()
    session = CalibrationSession(
        id="s1",
        cycle_id="2025-01",
        facilitator="HR1",
        scale=RatingScale(1, 5),
        guideline=plan.guideline,
        mapping=BucketMapping.of(plan.spec.calibration.buckets),
    )
    n = 0
    for rater, values in RATINGS.items():
        for value in values:
            n += 1
            session.add_subject(SubjectRef.person(f"X{n:02}"), Decimal(value), rater=rater)
    session.open("HR1", clock.now())
    session.start("HR1", clock.now())
    with bus.uow as uow:
        uow.calibrations.add("s1", session)
        uow.commit()


def _fixed(x: float) -> str:
    return format(Decimal(repr(x)).quantize(Decimal("0.01")))


def test_the_calibration_grid_flags_lenient_and_severe_raters(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    _session(perfcore_bus, fake_clock)
    grid = queries.calibration_grid(perfcore_bus, "s1")
    every = [v for vs in RATINGS.values() for v in vs]
    big_m, big_s = statistics.mean(every), statistics.pstdev(every)

    def t(values: list[int]) -> str:
        return _fixed((statistics.mean(values) - big_m) / (big_s / math.sqrt(len(values))))

    by_rater = {r["rater"]: r for r in grid["raters"]}
    assert list(by_rater) == ["M1", "M2", "M3"]
    m1, m2, m3 = by_rater["M1"], by_rater["M2"], by_rater["M3"]
    assert (m1["leniency_t"], m2["leniency_t"]) == (t(RATINGS["M1"]), t(RATINGS["M2"]))
    assert (m1["leniency_t"], m2["leniency_t"]) == ("2.50", "-2.30")
    assert m1["range_ratio"] == _fixed(statistics.pstdev(RATINGS["M1"]) / big_s) == "0.26"
    kinds1 = {f["kind"] for f in m1["flags"]}
    kinds2 = {f["kind"] for f in m2["flags"]}
    assert {"leniency", "range_restriction"} <= kinds1
    assert "severity" in kinds2
    assert "range_restriction" not in kinds2  # RR = 0.57 >= 0.5
    assert (m3["suppressed"], m3["flags"], m3["leniency_t"]) == (True, [], None)
    # the suggestions are still there, next to the flags
    assert len(grid["subjects"]) == 14
    assert all("suggested" in s for s in grid["subjects"])
