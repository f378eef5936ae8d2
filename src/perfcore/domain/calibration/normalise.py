"""Normalisation *suggestions* for rater leniency/severity (sources: docs/calibration.md §8).

Nothing here overwrites a rating. Each method returns a :class:`Suggestions` — one float (or
``None``) per input rating plus, per rater that was not normalised, the reason. The committee
decides; the chosen value, the suggested value and the method go on the adjustment event
(session.py).

Notation: r rating; rater (team) j with n_j ratings, mean m_j, SD s_j; population mean M
and SD S over all ratings. ddof = 0 (population SD) unless ``ddof=1`` is passed to
:func:`~perfcore.domain.calibration.batch.team_stats`.

Methods:
  z-score      r' = M + S·(r − m_j)/s_j, clamped to the scale, optionally rounded to the step
  mean shift   r' = r − (m_j − M)
  ratio        r' = r·M/m_j            (ratio scales only, m_j > 0)
  min–max      r' = L + (r − min_j)(U − L)/(max_j − min_j)
  percentile   PR = 100·(b + e/2)/n_j  (b below, e equal incl. self — mid-rank ties)
  shrinkage    λ_j = τ²/(τ² + σ²/n_j), δ_j = λ_j(m_j − M), r' = r − δ_j, with
               σ² = pooled within-team variance Σ_j Σ_i (r_ij − m_j)² / (N − ddof·J),
               τ² = max(0, Var_j(m_j) − mean_j(σ²/n_j))   (Var over teams with the same ddof)

Guards: a team with n_j < ``n_min`` or s_j = 0 (z-score), max_j = min_j (min–max), m_j ≤ 0
(ratio) gets no suggestion and a reason. Shrinkage is the method *for* small teams and has no
n_min; it needs at least two teams with ratings.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence

from attrs import frozen

from perfcore.domain.calibration.batch import RatingBatch, TeamStats, team_stats
from perfcore.domain.calibration.scale import RatingScale
from perfcore.domain.errors import InvalidValue

__all__ = [
    "DEFAULT_N_MIN",
    "Method",
    "NormalisationReport",
    "Shrinkage",
    "Suggestions",
    "mean_shift",
    "min_max",
    "percentile_rank",
    "percentile_ranks",
    "ratio",
    "shrinkage",
    "shrinkage_lambda",
    "suggest_all",
    "zscore",
    "zscore_rescale",
]

#: Smallest team normalised by z-score, min–max and percentile rank. The calculatorsir source
#: (§1.4) calls teams under ~10 unreliable; 5 matches the leniency flag's n ≥ 5 (§1.5). Proposal.
DEFAULT_N_MIN = 5


class Method(enum.StrEnum):
    """Normalisation method names, as stored on an adjustment's ``method``."""

    ZSCORE = "zscore"
    MEAN_SHIFT = "mean_shift"
    RATIO = "ratio"
    MIN_MAX = "min_max"
    PERCENTILE = "percentile_rank"
    SHRINKAGE = "shrinkage"


@frozen
class Suggestions:
    """One method's output.

    Attributes:
        method: which method.
        values: per input rating, the suggested value (percentile rank 0..100 for
            ``percentile_rank``) or ``None`` when the rater was guarded.
        skipped: rater index → reason, for every rater with ratings that got no suggestion.
    """

    method: Method
    values: tuple[float | None, ...]
    skipped: dict[int, str]


@frozen
class Shrinkage:
    """Empirical-Bayes shrinkage of rater leniency, with its ingredients.

    Attributes:
        suggestions: r − δ_j per rating.
        sigma2: pooled within-team variance σ².
        tau2: between-team variance of true leniency τ² (≥ 0).
        lam: λ_j per rater (NaN for raters without ratings).
        leniency: δ_j = λ_j(m_j − M) per rater.
        shrunk_mean: M + δ_j per rater — the team mean pulled towards M.
    """

    suggestions: Suggestions
    sigma2: float
    tau2: float
    lam: tuple[float, ...]
    leniency: tuple[float, ...]
    shrunk_mean: tuple[float, ...]


# --------------------------------------------------------------------------- scalar forms


def zscore_rescale(
    rating: float,
    team_mean: float,
    team_sd: float,
    pop_mean: float,
    pop_sd: float,
    *,
    scale: RatingScale | None = None,
    round_to_step: bool = False,
) -> float:
    """r' = M + S·(r − m_j)/s_j, clamped to ``scale`` when given (§1.4 method 1).

    [SRC calculatorsir] 3.5 with m_j 4.2, s_j 0.7, M 3.8, S 0.6 → z = −1 → 3.2.

    Raises:
        InvalidValue: ``team_sd`` ≤ 0 (field ``team_sd``) — a zero-variance team has no z-score.
    """
    if not team_sd > 0:
        raise InvalidValue("team SD is zero; no z-score", field="team_sd", valid="> 0")
    value = pop_mean + pop_sd * (rating - team_mean) / team_sd
    if scale is not None:
        value = scale.round_to_step(value) if round_to_step else scale.clamp(value)
    return value


def shrinkage_lambda(tau2: float, sigma2: float, n: int) -> float:
    """λ = τ²/(τ² + σ²/n) — the weight kept on a team's own mean (§1.4 method 6).

    [CALC] τ² 0.09, σ² 0.5, n 5 → 0.473684. Returns 0 when τ² = 0.

    Raises:
        InvalidValue: n < 1, σ² < 0 or τ² < 0.
    """
    if n < 1:
        raise InvalidValue(f"team size {n}", field="n", valid="≥ 1")
    if sigma2 < 0 or tau2 < 0:
        raise InvalidValue("variances cannot be negative", field="tau2/sigma2", valid="≥ 0")
    denominator = tau2 + sigma2 / n
    return tau2 / denominator if denominator > 0 else 0.0


def percentile_rank(value: float, team: Sequence[float]) -> float:
    """PR = 100·(b + e/2)/n with b ratings below, e equal (incl. ``value`` itself) (§1.4 m. 5).

    Raises:
        InvalidValue: ``value`` is not one of ``team`` (field ``value``).
    """
    below = sum(1 for v in team if v < value)
    equal = sum(1 for v in team if v == value)
    if not equal:
        raise InvalidValue("value is not in the team", field="value", valid="one of the team")
    return 100.0 * (below + 0.5 * equal) / len(team)


# --------------------------------------------------------------------------- batch forms


def _finish(
    batch: RatingBatch,
    method: Method,
    slope: Sequence[float | None],
    offset: Sequence[float],
    skipped: dict[int, str],
    scale: RatingScale | None,
    round_to_step: bool,
) -> Suggestions:
    """values[i] = offset[g] + slope[g]·r, post-processed; None where slope[g] is None."""
    out: list[float | None] = []
    append = out.append
    if scale is None:
        for g, r in zip(batch.raters, batch.values, strict=True):
            k = slope[g]
            append(None if k is None else offset[g] + k * r)
    else:
        low, high = float(scale.minimum), float(scale.maximum)
        for g, r in zip(batch.raters, batch.values, strict=True):
            k = slope[g]
            if k is None:
                append(None)
                continue
            v = offset[g] + k * r
            append(low if v < low else high if v > high else v)
        if round_to_step:
            rnd = scale.round_to_step
            out = [None if v is None else rnd(v) for v in out]
    return Suggestions(method, tuple(out), skipped)


def _small(stats: TeamStats, g: int, n_min: int) -> str | None:
    n = stats.n[g]
    if n < n_min:
        return f"only {n} rating(s); at least {n_min} needed to normalise"
    return None


#: What a per-rater rule returns: ``(slope, offset)`` for r' = offset + slope·r, or the reason
#: (text) why that rater gets no suggestion.
_Line = tuple[float, float] | str


def _linear(
    batch: RatingBatch,
    method: Method,
    st: TeamStats,
    n_min: int,
    line: Callable[[int], _Line],
    scale: RatingScale | None,
    round_to_step: bool,
) -> Suggestions:
    """Suggest r' = offset_g + slope_g·r for every rater g that passes the guards.

    Raters without ratings are left out silently; one with fewer than ``n_min`` ratings, or for
    whom ``line(g)`` returns a reason, gets no suggestion and that reason in ``skipped``.
    """
    skipped: dict[int, str] = {}
    slope: list[float | None] = [None] * batch.rater_count
    offset = [0.0] * batch.rater_count
    for g in range(batch.rater_count):
        if not st.n[g]:
            continue
        found = _small(st, g, n_min) or line(g)
        if isinstance(found, str):
            skipped[g] = found
            continue
        slope[g], offset[g] = found
    return _finish(batch, method, slope, offset, skipped, scale, round_to_step)


def zscore(
    batch: RatingBatch,
    stats: TeamStats | None = None,
    *,
    scale: RatingScale | None = None,
    round_to_step: bool = False,
    n_min: int = DEFAULT_N_MIN,
) -> Suggestions:
    """Z-score per rater rescaled to the population (§1.4 method 1), clamped to ``scale``.

    Guards: n_j < n_min, s_j = 0 (every rating identical), S = 0.
    """
    st = stats or team_stats(batch)
    big_s, big_m = st.pop_sd, st.pop_mean

    def line(g: int) -> _Line:
        if not st.sd[g] > 0:
            return "all ratings identical (SD 0); no z-score"
        if not big_s > 0:
            return "population SD is 0; nothing to rescale to"
        k = big_s / st.sd[g]
        return k, big_m - k * st.mean[g]

    return _linear(batch, Method.ZSCORE, st, n_min, line, scale, round_to_step)


def mean_shift(
    batch: RatingBatch,
    stats: TeamStats | None = None,
    *,
    scale: RatingScale | None = None,
    round_to_step: bool = False,
    n_min: int = 1,
) -> Suggestions:
    """r' = r − (m_j − M) (§1.4 method 2). Guard: n_j < n_min (default 1: none)."""
    st = stats or team_stats(batch)

    def line(g: int) -> _Line:
        return 1.0, st.pop_mean - st.mean[g]

    return _linear(batch, Method.MEAN_SHIFT, st, n_min, line, scale, round_to_step)


def ratio(
    batch: RatingBatch,
    stats: TeamStats | None = None,
    *,
    scale: RatingScale | None = None,
    round_to_step: bool = False,
    n_min: int = 1,
) -> Suggestions:
    """r' = r·M/m_j (§1.4 method 3). Guards: m_j ≤ 0 (not a ratio scale), n_j < n_min."""
    st = stats or team_stats(batch)

    def line(g: int) -> _Line:
        if not st.mean[g] > 0:
            return "team mean is not positive; ratio correction needs a ratio scale"
        return st.pop_mean / st.mean[g], 0.0

    return _linear(batch, Method.RATIO, st, n_min, line, scale, round_to_step)


def min_max(
    batch: RatingBatch,
    stats: TeamStats | None = None,
    *,
    scale: RatingScale,
    round_to_step: bool = False,
    n_min: int = DEFAULT_N_MIN,
) -> Suggestions:
    """r' = L + (r − min_j)(U − L)/(max_j − min_j), L/U the scale ends (§1.4 method 4).

    Guards: max_j = min_j (undefined), n_j < n_min.
    """
    st = stats or team_stats(batch)
    low, high = float(scale.minimum), float(scale.maximum)

    def line(g: int) -> _Line:
        if not st.maximum[g] > st.minimum[g]:
            return "all ratings identical (max = min); min–max is undefined"
        k = (high - low) / (st.maximum[g] - st.minimum[g])
        return k, low - k * st.minimum[g]

    return _linear(batch, Method.MIN_MAX, st, n_min, line, scale, round_to_step)


def percentile_ranks(
    batch: RatingBatch, stats: TeamStats | None = None, *, n_min: int = DEFAULT_N_MIN
) -> Suggestions:
    """Percentile rank of each rating within its rater's team, mid-rank ties (§1.4 method 5).

    Values are 0..100 (not on the rating scale); map them to buckets downstream (e.g. ≥ 80 top).
    """
    st = stats or team_stats(batch)
    out: list[float | None] = [None] * len(batch.values)
    values = batch.values
    skipped: dict[int, str] = {}
    for g, idx in enumerate(batch.members):
        if not idx:
            continue
        reason = _small(st, g, n_min)
        if reason is not None:
            skipped[g] = reason
            continue
        counts: dict[float, int] = {}
        for i in idx:
            v = values[i]
            counts[v] = counts.get(v, 0) + 1
        scale = 100.0 / len(idx)
        pr: dict[float, float] = {}
        below = 0
        for v in sorted(counts):
            e = counts[v]
            pr[v] = scale * (below + 0.5 * e)
            below += e
        for i in idx:
            out[i] = pr[values[i]]
    return Suggestions(Method.PERCENTILE, tuple(out), skipped)


def shrinkage(
    batch: RatingBatch,
    stats: TeamStats | None = None,
    *,
    scale: RatingScale | None = None,
    round_to_step: bool = False,
) -> Shrinkage:
    """Empirical-Bayes shrinkage of rater leniency (§1.4 method 6; formulas in module doc).

    The ddof of ``stats`` is used for σ² (N − ddof·J) and for Var_j(m_j) (J − ddof).
    Guard: fewer than two raters with ratings → every rater skipped.
    """
    st = stats or team_stats(batch)
    teams = [g for g in range(batch.rater_count) if st.n[g]]
    big_m = st.pop_mean
    nan = math.nan
    count = batch.rater_count
    if len(teams) < 2 or st.pop_n - st.ddof * len(teams) <= 0:
        reason = "shrinkage needs at least two raters with ratings"
        skipped = dict.fromkeys(teams, reason)
        empty = Suggestions(Method.SHRINKAGE, (None,) * len(batch.values), skipped)
        return Shrinkage(empty, nan, nan, (nan,) * count, (nan,) * count, (nan,) * count)
    within = math.fsum((st.sd[g] ** 2) * (st.n[g] - st.ddof) for g in teams)
    sigma2 = within / (st.pop_n - st.ddof * len(teams))
    means = [st.mean[g] for g in teams]
    grand = math.fsum(means) / len(means)
    var_means = math.fsum((m - grand) ** 2 for m in means) / (len(means) - st.ddof)
    noise = math.fsum(sigma2 / st.n[g] for g in teams) / len(teams)
    tau2 = max(0.0, var_means - noise)
    lam = [nan] * count
    delta = [nan] * count
    shrunk = [nan] * count
    slope: list[float | None] = [None] * count
    offset = [0.0] * count
    for g in teams:
        lam[g] = shrinkage_lambda(tau2, sigma2, st.n[g])
        delta[g] = lam[g] * (st.mean[g] - big_m)
        shrunk[g] = big_m + delta[g]
        slope[g] = 1.0
        offset[g] = -delta[g]
    suggestions = _finish(batch, Method.SHRINKAGE, slope, offset, {}, scale, round_to_step)
    return Shrinkage(suggestions, sigma2, tau2, tuple(lam), tuple(delta), tuple(shrunk))


@frozen
class NormalisationReport:
    """Every method's suggestions for one batch, computed from one :class:`TeamStats`."""

    stats: TeamStats
    zscore: Suggestions
    mean_shift: Suggestions
    ratio: Suggestions
    min_max: Suggestions
    percentile_rank: Suggestions
    shrinkage: Shrinkage


def suggest_all(
    batch: RatingBatch,
    *,
    scale: RatingScale,
    round_to_step: bool = False,
    n_min: int = DEFAULT_N_MIN,
    ddof: int = 0,
) -> NormalisationReport:
    """Run every method on ``batch`` (one pass of statistics shared by all)."""
    st = team_stats(batch, ddof=ddof)
    kw = {"scale": scale, "round_to_step": round_to_step}
    return NormalisationReport(
        stats=st,
        zscore=zscore(batch, st, n_min=n_min, **kw),  # type: ignore[arg-type]
        mean_shift=mean_shift(batch, st, **kw),  # type: ignore[arg-type]
        ratio=ratio(batch, st, **kw),  # type: ignore[arg-type]
        min_max=min_max(batch, st, n_min=n_min, **kw),  # type: ignore[arg-type]
        percentile_rank=percentile_ranks(batch, st, n_min=n_min),
        shrinkage=shrinkage(batch, st, **kw),  # type: ignore[arg-type]
    )
