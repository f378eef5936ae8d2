"""Rater-bias statistics — formulas, perfcore's default thresholds, vectors worked by hand.

Expected values are recomputed here with the standard library (statistics, math), never copied
from the implementation's output.
"""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from perfcore.domain.calibration.batch import RatingBatch
from perfcore.domain.calibration.bias import (
    BiasReport,
    BiasThresholds,
    chi2_sf,
    chi_square,
    halo,
    rater_bias,
    within_ratee_sd,
)
from perfcore.domain.calibration.guidelines import DistributionGuideline
from perfcore.domain.calibration.scale import BucketMapping
from perfcore.domain.errors import InvalidValue

MAPPING = BucketMapping.of({"bottom": [1, 2], "middle": [3], "top": [4, 5]})
GUIDE = DistributionGuideline.of({"bottom": "0.1", "middle": "0.7", "top": "0.2"})

TEAMS = [
    [5, 5, 5, 4, 5],  # rater 0: lenient
    [3, 3, 3, 3, 3],  # rater 1: everyone in the middle
    [1, 2, 3, 4, 5],  # rater 2: full range
    [2, 3, 2, 1, 3],  # rater 3: severe-ish
    [1, 2],  # rater 4: too small to report
]


def batch_of(teams: list[list[int]]) -> RatingBatch:
    raters = [g for g, team in enumerate(teams) for _ in team]
    return RatingBatch.build(raters, [v for team in teams for v in team])


def report() -> BiasReport:
    return rater_bias(batch_of(TEAMS), mapping=MAPPING, guideline=GUIDE, names=list("ABCDE"))


def test_chi_square_of_the_research_example() -> None:
    """Worked by hand: n 20, O 8/11/1 vs E 4/14/2 → χ² 5.142857, df 2,
    p = e^(−χ²/2) = 0.0764 (unpooled arithmetic check)."""
    result = chi_square([8, 11, 1], [4, 14, 2], pool_below=0)
    assert result.statistic == pytest.approx(5.142857, abs=1e-6)
    assert result.df == 2
    assert result.p_value == pytest.approx(math.exp(-5.142857 / 2), abs=1e-6)
    assert result.p_value == pytest.approx(0.0764, abs=5e-5)


def test_chi_square_pools_small_expected_counts_until_none_is_left() -> None:
    """§1.5: pool buckets with E < 5. E 4/14/2: 2 joins 14 (→ 4/16), then 4 joins 16 → one group,
    no test, and the reason says so."""
    result = chi_square([8, 11, 1], [4, 14, 2], names=["bottom", "middle", "top"])
    assert result.groups == (("bottom", "middle", "top"),)
    assert result.reason == "too few expected counts to test"
    assert math.isnan(result.statistic)


def test_chi_square_after_pooling_two_groups() -> None:
    """n 40 at 10/70/20 → E 4/28/8; O 10/20/10. Bottom pools into middle: O 30/10 vs E 32/8 →
    χ² = 4/32 + 4/8 = 0.625, df 1, p = erfc(√(0.625/2))."""
    result = chi_square([10, 20, 10], [4, 28, 8], names=["b", "m", "t"])
    assert result.groups == (("b", "m"), ("t",))
    assert result.statistic == pytest.approx(0.625)
    assert result.df == 1
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(0.3125)))


@pytest.mark.parametrize(
    ("critical", "df"), [(3.841, 1), (5.991, 2), (7.815, 3), (9.488, 4), (11.070, 5)]
)
def test_chi2_upper_tail_matches_the_5_percent_table(critical: float, df: int) -> None:
    """Standard χ² table: these are the 0.05 critical values."""
    assert chi2_sf(critical, df) == pytest.approx(0.05, abs=2e-4)


def test_halo_within_ratee_sd_vector() -> None:
    """Worked by hand: [[4,4,4],[5,5,4],[3,3,3]] → 0, 0.4714, 0."""
    rows = [[4, 4, 4], [5, 5, 4], [3, 3, 3]]
    assert within_ratee_sd(rows) == pytest.approx((0, 0.4714, 0), abs=5e-5)


def test_halo_sd_measure_standardises_each_dimension_first() -> None:
    """Pulakos & Schmitt (1984), §1.5: z-score each dimension (ddof 0), then SD per ratee."""
    rows = [[4, 4, 4], [5, 5, 4], [3, 3, 3]]
    cols = list(zip(*rows, strict=True))
    z = [
        [(x - statistics.fmean(c)) / statistics.pstdev(c) for x in c]
        for c in cols  # every column varies here
    ]
    expected = [statistics.pstdev(row) for row in zip(*z, strict=True)]
    assert within_ratee_sd(rows, standardise=True) == pytest.approx(expected)


def test_halo_flags_a_rater_whose_dimensions_move_together() -> None:
    """r-measure: rater 0 gives identical scores on all dimensions (r = 1); rater 1's dimensions
    are weakly related. Org mean r = (1 + r₁)/2, so rater 0 exceeds it by (1 − r₁)/2 > 0.2."""
    r0 = [[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]]
    r1 = [[1, 3, 2], [2, 1, 4], [3, 4, 1], [4, 2, 3]]
    cols = list(zip(*r1, strict=True))
    r1_mean = statistics.fmean(
        statistics.correlation(cols[a], cols[b]) for a, b in itertools.combinations(range(3), 2)
    )
    result = halo([0] * 4 + [1] * 4, r0 + r1)
    assert result.r_measure[0] == pytest.approx(1.0)
    assert result.r_measure[1] == pytest.approx(r1_mean)
    assert result.org_r == pytest.approx((1 + r1_mean) / 2)
    kinds = {(f.rater, f.threshold) for f in result.flags}
    assert (0, "r > org mean + 0.2") in kinds
    assert (0, "standardised SD < 0.5 × org mean") in kinds
    assert all(f.rater == 0 for f in result.flags)
    assert "possible halo" in result.flags[0].sentence


def test_halo_suppresses_raters_with_fewer_than_four_ratees() -> None:
    result = halo([0, 0, 0], [[1, 2], [2, 3], [3, 3]])
    assert result.suppressed == (0,)
    assert result.r_measure == {}


def test_leniency_t_statistic_and_flag() -> None:
    """§1.5: t_j = (m_j − M)/(S/√n_j), flag |t| > 2 and n ≥ 5 (population ddof 0)."""
    everyone = [v for team in TEAMS for v in team]
    big_m, big_s = statistics.fmean(everyone), statistics.pstdev(everyone)
    t0 = (statistics.fmean(TEAMS[0]) - big_m) / (big_s / math.sqrt(5))
    result = report()
    a = result.raters[0]
    assert a.t == pytest.approx(t0)
    assert a.leniency == pytest.approx(statistics.fmean(TEAMS[0]) - big_m)
    flag = next(f for f in a.flags if f.kind == "leniency")
    assert flag.threshold == "|t| > 2 with n ≥ 5"
    assert flag.statistic == pytest.approx(t0)
    assert flag.sentence.startswith("A rates")


def test_range_restriction_and_central_tendency_of_an_all_middle_rater() -> None:
    """§1.5: RR = s_j/S < 0.5 and middle share 100% > 70% + 20 pp."""
    b = report().raters[1]
    assert b.range_ratio == 0.0
    assert b.middle_share == 1.0
    kinds = {f.kind: f.threshold for f in b.flags}
    assert kinds["range_restriction"] == "RR < 0.5"
    assert kinds["central_tendency"] == "middle share > guideline + 20.0 pp"


def test_excess_top_share_is_labelled_leniency() -> None:
    """§1.5 commercial calculator: Δ > 5 pp; excess top share = leniency."""
    a = report().raters[0]
    assert a.deltas is not None
    assert a.deltas["top"] == pytest.approx(1.0 - 0.2)
    sentence = next(f.sentence for f in a.flags if f.kind == "distribution")
    assert "(leniency)" in sentence


def test_full_range_rater_is_not_flagged_for_range() -> None:
    everyone = [v for team in TEAMS for v in team]
    c = report().raters[2]
    assert c.range_ratio == pytest.approx(statistics.pstdev(TEAMS[2]) / statistics.pstdev(everyone))
    assert "range_restriction" not in {f.kind for f in c.flags}


def test_small_groups_are_suppressed_in_aggregates() -> None:
    """§1.1/§1.5: fewer than 4 ratings → no mean, no shares, no flags; only the fact."""
    result = report()
    e = result.raters[4]
    assert e.suppressed
    assert (e.mean, e.shares, e.t) == (None, None, None)
    assert e.flags == ()
    assert result.suppressed == (4,)


def test_distribution_chi_square_flag_uses_the_alpha_threshold() -> None:
    """n 50, O 0/25/25 vs E 5/35/10 (none below 5): χ² = 5 + 100/35 + 22.5, df 2, p = e^(−χ²/2)."""
    result = rater_bias(batch_of([[3] * 25 + [5] * 25]), mapping=MAPPING, guideline=GUIDE)
    chi = result.raters[0].chi2
    assert chi is not None
    assert chi.statistic == pytest.approx(5 + 100 / 35 + 22.5)
    assert chi.p_value == pytest.approx(math.exp(-(5 + 100 / 35 + 22.5) / 2))
    assert any(f.threshold == "χ² p < 0.05" for f in result.raters[0].flags)


def test_thresholds_are_configurable() -> None:
    loose = BiasThresholds(leniency_t=100.0, range_ratio=0.0, share_delta=1)
    flags = rater_bias(batch_of(TEAMS), mapping=MAPPING, thresholds=loose).flags
    assert {f.kind for f in flags} <= {"central_tendency"}


def test_rating_without_a_bucket_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        rater_bias(batch_of([[1, 2, 3, 7]]), mapping=MAPPING)
    assert err.value.field == "values[3]"
    assert err.value.valid == "1, 2, 3, 4, 5"


def test_guideline_buckets_must_match_the_mapping() -> None:
    other = DistributionGuideline.of({"low": "0.5", "high": "0.5"})
    with pytest.raises(InvalidValue) as err:
        rater_bias(batch_of(TEAMS), mapping=MAPPING, guideline=other)
    assert err.value.field == "guideline"


@pytest.mark.parametrize(
    ("ratings", "bucket", "label"),
    [
        ([4] * 4 + [3] * 6, "top", "(leniency)"),
        ([3] * 9 + [4], "middle", "(central tendency)"),
        ([1] * 3 + [3] * 7, "bottom", "(severity)"),
    ],
)
def test_share_excess_examples_from_the_research_are_labelled(
    ratings: list[int], bucket: str, label: str
) -> None:
    """Nova Calculator's bias checker (docs/calibration.md §8): 40 % top vs 20 % → leniency;
    90 % middle vs 70 % → central tendency; 30 % bottom vs 10 % → severity (each Δ = 20 pp)."""
    rater = rater_bias(batch_of([ratings]), mapping=MAPPING, guideline=GUIDE).raters[0]
    assert rater.deltas is not None
    assert rater.deltas[bucket] == pytest.approx(0.2)
    sentences = [f.sentence for f in rater.flags if f.threshold.startswith("share above")]
    assert len(sentences) == 1
    assert label in sentences[0]


@pytest.mark.parametrize("rows", [[[1, 5], [2, 2], [3, 4]], [[1, 2, 3, 4], [4, 4, 4, 4]]])
def test_within_ratee_sd_for_other_numbers_of_dimensions(rows: list[list[int]]) -> None:
    """Any number of dimensions: SD across the row, ddof 0 (statistics.pstdev)."""
    assert within_ratee_sd(rows) == pytest.approx([statistics.pstdev(r) for r in rows])


def test_ragged_rows_are_refused_with_the_row_index() -> None:
    with pytest.raises(InvalidValue) as err:
        within_ratee_sd([[1, 2, 3], [1, 2]])
    assert (err.value.field, err.value.valid) == ("rows[1]", "3")
