"""Normalisation suggestions — golden vectors worked by hand (docs/calibration.md).

The two-team vector (ddof 0): A = [5,4,4,4,3] (lenient), B = [4,3,3,2,2] (severe),
M = 3.4, S = 0.916515, m_A = 4.0, s_A = 0.632456, m_B = 2.8, s_B = 0.748331.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.calibration.batch import RatingBatch, team_stats
from perfcore.domain.calibration.normalise import (
    Method,
    mean_shift,
    min_max,
    percentile_rank,
    percentile_ranks,
    ratio,
    shrinkage,
    shrinkage_lambda,
    suggest_all,
    zscore,
    zscore_rescale,
)
from perfcore.domain.calibration.scale import RatingScale
from perfcore.domain.errors import InvalidValue

A = [5, 4, 4, 4, 3]
B = [4, 3, 3, 2, 2]
SCALE = RatingScale(1, 5, 1)


def two_teams() -> RatingBatch:
    return RatingBatch.build([0] * 5 + [1] * 5, A + B)


# The §1.4 [CALC] table, one row per distinct (rating, team):
# r, team, z, r' (z rescaled), mean-shift, ratio, PR in team
TABLE = [
    (5, 0, 1.5811, 4.8491, 4.4, 4.25, 90),
    (4, 0, 0.0, 3.4000, 3.4, 3.40, 50),
    (3, 0, -1.5811, 1.9509, 2.4, 2.55, 10),
    (4, 1, 1.6036, 4.8697, 4.6, 4.8571, 90),
    (3, 1, 0.2673, 3.6449, 3.6, 3.6429, 60),
    (2, 1, -1.0690, 2.4202, 2.6, 2.4286, 20),
]


def _value_of(batch: RatingBatch, values: tuple[float | None, ...], r: int, team: int) -> float:
    for g, v, out in zip(batch.raters, batch.values, values, strict=True):
        if g == team and v == r:
            assert out is not None
            return out
    raise AssertionError("row not found")


def test_two_team_statistics_match_the_research_vector() -> None:
    """Worked by hand: M 3.4, S 0.916515, m/s per team (ddof 0)."""
    stats = team_stats(two_teams())
    assert stats.pop_mean == pytest.approx(3.4)
    assert stats.pop_sd == pytest.approx(0.916515, abs=1e-6)
    assert stats.mean == pytest.approx((4.0, 2.8))
    assert stats.sd == pytest.approx((0.632456, 0.748331), abs=1e-6)
    assert stats.ddof == 0


@pytest.mark.parametrize(("r", "team", "z", "rz", "shift", "rat", "pr"), TABLE)
def test_two_team_vector_every_column(
    r: int, team: int, z: float, rz: float, shift: float, rat: float, pr: float
) -> None:
    """Worked by hand, the table: z, rescaled z, mean shift, ratio and PR columns."""
    batch = two_teams()
    stats = team_stats(batch)
    z_here = (r - stats.mean[team]) / stats.sd[team]
    assert z_here == pytest.approx(z, abs=5e-5)
    assert _value_of(batch, zscore(batch, scale=SCALE).values, r, team) == pytest.approx(
        rz, abs=5e-5
    )
    assert _value_of(batch, mean_shift(batch).values, r, team) == pytest.approx(shift)
    assert _value_of(batch, ratio(batch).values, r, team) == pytest.approx(rat, abs=5e-5)
    assert _value_of(batch, percentile_ranks(batch).values, r, team) == pytest.approx(pr)


def test_zscore_of_three_and_a_half_becomes_three_point_two() -> None:
    """Calculator Sir's score normalizer example: 3.5, m 4.2, s 0.7, M 3.8, S 0.6 → z −1 → 3.2."""
    assert zscore_rescale(3.5, 4.2, 0.7, 3.8, 0.6) == pytest.approx(3.2)
    assert zscore_rescale(3.5, 4.2, 0.7, 3.8, 0.6, scale=RatingScale(1, 5, "0.1")) == (
        pytest.approx(3.2)
    )


def test_zscore_clamps_to_the_scale_and_rounds_to_the_step() -> None:
    """Clamp to [1, 5]: 4 + 0.6·(5 − 2)/0.5 = 7.6 → 5; step rounding 3.2 → 3 on a whole scale."""
    assert zscore_rescale(5, 2, 0.5, 4, 0.6, scale=SCALE) == 5.0
    assert zscore_rescale(3.5, 4.2, 0.7, 3.8, 0.6, scale=SCALE, round_to_step=True) == 3.0


def test_shrinkage_lambda_and_shrunk_team_mean() -> None:
    """Worked by hand: τ² 0.09, σ² 0.5, n 5 → λ 0.473684; shrunk mean of team A
    (m 4.0 towards M 3.4) = 3.4 + λ·0.6 = 3.684211."""
    lam = shrinkage_lambda(0.09, 0.5, 5)
    assert lam == pytest.approx(0.473684, abs=1e-6)
    assert 3.4 + lam * (4.0 - 3.4) == pytest.approx(3.684211, abs=1e-6)


def test_shrinkage_on_the_two_team_vector_uses_pooled_variance() -> None:
    """Computed by hand from §1.4's formulas (ddof 0): σ² = (2.0 + 2.8)/10 = 0.48;
    Var(m) = 0.36; mean σ²/n = 0.096; τ² = 0.264; λ = 0.264/0.36 = 0.733333; δ_A = 0.44."""
    result = shrinkage(two_teams())
    assert result.sigma2 == pytest.approx(0.48)
    assert result.tau2 == pytest.approx(0.264)
    assert result.lam == pytest.approx((0.733333, 0.733333), abs=1e-6)
    assert result.leniency == pytest.approx((0.44, -0.44))
    assert result.shrunk_mean == pytest.approx((3.84, 2.96))
    assert result.suggestions.values[0] == pytest.approx(5 - 0.44)
    assert result.suggestions.method is Method.SHRINKAGE


def test_shrinkage_with_no_between_team_spread_suggests_no_change() -> None:
    """τ² = max(0, …) clamps to 0 when team means agree: λ = 0, ratings unchanged."""
    batch = RatingBatch.build([0, 0, 1, 1], [2, 4, 4, 2])
    result = shrinkage(batch)
    assert result.tau2 == 0.0
    assert result.suggestions.values == (2.0, 4.0, 4.0, 2.0)


def test_min_max_stretches_each_team_to_the_scale_ends() -> None:
    """§1.4 method 4 by hand: A spans 3..5 → 1 + (r − 3)·4/2; B spans 2..4 → 1 + (r − 2)·2."""
    values = min_max(two_teams(), scale=SCALE).values
    assert values == pytest.approx((5, 3, 3, 3, 1, 5, 3, 3, 1, 1))


def test_percentile_rank_uses_mid_ranks_for_ties() -> None:
    """§1.4 method 5: PR = 100·(b + e/2)/n; a 4 in A has b 1, e 3 → 50."""
    assert percentile_rank(4, A) == pytest.approx(50)
    assert percentile_rank(3, B) == pytest.approx(60)


def test_small_and_zero_variance_teams_get_no_suggestion_but_a_reason() -> None:
    """Guards (§1.4 method 1): n_j < n_min and s_j = 0 are not normalised."""
    batch = RatingBatch.build([0] * 5 + [1] * 5 + [2] * 2, A + [3] * 5 + [4, 2])
    result = zscore(batch, scale=SCALE)
    assert result.values[5:] == (None,) * 7
    assert "SD 0" in result.skipped[1]
    assert "at least 5" in result.skipped[2]
    assert 0 not in result.skipped
    assert "max = min" in min_max(batch, scale=SCALE).skipped[1]


def test_ratio_refuses_teams_with_non_positive_mean() -> None:
    batch = RatingBatch.build([0, 0, 1, 1], [-1, -1, 2, 3])
    assert "ratio scale" in ratio(batch).skipped[0]


def test_suggest_all_shares_one_set_of_statistics() -> None:
    report = suggest_all(two_teams(), scale=SCALE)
    assert report.mean_shift.values[0] == pytest.approx(4.4)
    assert report.percentile_rank.values[0] == pytest.approx(90)
    assert report.shrinkage.lam[0] == pytest.approx(0.733333, abs=1e-6)


def test_sample_ddof_is_available_and_documented() -> None:
    """ddof 1 divides by n − 1: s_A = sqrt(2/4) = 0.707107."""
    assert team_stats(two_teams(), ddof=1).sd[0] == pytest.approx(math.sqrt(0.5))


def test_bad_rater_index_names_the_field() -> None:
    with pytest.raises(InvalidValue) as err:
        RatingBatch.build([0, 3], [1, 2], rater_count=2)
    assert err.value.field == "raters[1]"
    assert err.value.valid == "an integer 0..1"


def test_non_numeric_rating_names_the_field() -> None:
    with pytest.raises(InvalidValue) as err:
        RatingBatch.build([0, 0], [1, "x"])
    assert err.value.field == "values[1]"


def test_zero_team_sd_refused_by_the_scalar_form() -> None:
    with pytest.raises(InvalidValue) as err:
        zscore_rescale(3, 3, 0, 3, 1)
    assert err.value.field == "team_sd"


teams = st.lists(st.lists(st.integers(1, 5), min_size=1, max_size=12), min_size=2, max_size=6)


@settings(max_examples=60, deadline=None)
@given(teams)
def test_every_method_preserves_rank_order_within_a_rater(data: list[list[int]]) -> None:
    """Property (issue 4): if a rater rated i below j, no suggestion puts i above j."""
    raters = [g for g, team in enumerate(data) for _ in team]
    values = [v for team in data for v in team]
    batch = RatingBatch.build(raters, values)
    report = suggest_all(batch, scale=SCALE, n_min=2)
    outputs = [
        report.zscore.values,
        report.mean_shift.values,
        report.ratio.values,
        report.min_max.values,
        report.percentile_rank.values,
        report.shrinkage.suggestions.values,
    ]
    for out in outputs:
        for i in range(len(values)):
            for j in range(len(values)):
                if raters[i] == raters[j] and values[i] < values[j]:
                    a, b = out[i], out[j]
                    if a is not None and b is not None:
                        assert a <= b + 1e-12
