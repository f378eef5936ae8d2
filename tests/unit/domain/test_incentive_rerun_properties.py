"""Re-running any rule is idempotent (hypothesis).

For a rule with cooldown and caps, any sequence of runs in which each period is first run in
chronological order, with arbitrary re-runs of already-run periods interleaved, leaves exactly the
ledger a single chronological run leaves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.commission import CommissionPlan, CommissionTier
from perfcore.domain.incentive import (
    Cadence,
    Caps,
    CommissionReward,
    Condition,
    FixedReward,
    IncentiveRule,
    RateReward,
    RewardTier,
    TieredReward,
    run_rule,
)
from perfcore.domain.ledger import Ledger
from perfcore.domain.values import Period, SubjectRef

AT = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
SUBJECT = SubjectRef.person("E1")


def cond(values: Mapping[str, Decimal | None]) -> bool | None:
    v = values["rounds"]
    return None if v is None else v >= 5


def rules() -> st.SearchStrategy[IncentiveRule]:
    reward = st.one_of(
        st.builds(
            lambda rate: RateReward("rounds", rate, "points"),
            st.integers(1, 5),
        ),
        st.just(TieredReward("rounds", [RewardTier(5, 10), RewardTier(10, 25)], kind="points")),
        st.just(FixedReward("leave_days", "0.5")),
        st.just(
            CommissionReward(
                CommissionPlan("marginal", (CommissionTier(0, 1), CommissionTier(1, "1.5"))),
                credited="rounds",
                quota=7,
                rate="33.3",
                currency="EUR",
            )
        ),
    )
    caps = st.builds(
        Caps,
        per_award=st.none() | st.integers(0, 60),
        per_subject_year=st.none() | st.integers(0, 150),
    )
    cadence = st.builds(
        Cadence,
        st.just("month"),
        cooldown_periods=st.integers(0, 2),
        cooldown_days=st.integers(0, 40),
    )
    return st.builds(
        IncentiveRule,
        id=st.just("r"),
        reward=reward,
        cadence=cadence,
        condition=st.just(Condition("rounds >= 5", ["rounds"])),
        caps=caps,
    )


@settings(max_examples=120, deadline=None)
@given(
    rule=rules(),
    values=st.lists(st.none() | st.integers(0, 20), min_size=1, max_size=14),
    reruns=st.lists(st.integers(0, 13), max_size=25),
)
def test_any_sequence_of_runs_and_reruns_equals_a_single_run(
    rule: IncentiveRule, values: list[int | None], reruns: list[int]
) -> None:
    periods = [Period.month(2025, 1)]
    for _ in values[1:]:
        periods.append(periods[-1].next())

    def run(ledger: Ledger, i: int) -> None:
        run_rule(rule, ledger, SUBJECT, periods[i], {"rounds": values[i]}, condition=cond, at=AT)

    single = Ledger()
    for i in range(len(periods)):
        run(single, i)

    mixed = Ledger()
    pending = list(reruns)
    for i in range(len(periods)):
        run(mixed, i)
        while pending and pending[0] <= i:
            run(mixed, pending.pop(0))
        run(mixed, i)
    assert mixed.entries == single.entries
