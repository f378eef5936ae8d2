"""Rater-bias statistics and flags (default thresholds are perfcore's own; docs/calibration.md §8).

Per rater j (team of n_j ratings, mean m_j, SD s_j; population M, S; ddof = 0):

* leniency / severity  L_j = m_j − M,  t_j = (m_j − M)/(S/√n_j); flag |t_j| > 2 when n_j ≥ 5.
* range restriction    RR_j = s_j/S; flag RR_j < 0.5.
* central tendency     share of ratings in the middle bucket; flag > g_mid + 20 pp.
* distribution         Δ_c = p_jc − g_c per bucket; flag an excess > 5 pp, labelled leniency (top
                       bucket), central tendency (middle) or severity (bottom).
* χ² goodness of fit   Σ_c (O_c − E_c)²/E_c over buckets after pooling every expected count < 5
                       into its smaller neighbour; df = K' − 1; flag p < 0.05.
* halo                 see :func:`halo`.

Raters with fewer than ``min_group`` (4) ratings are *suppressed*: no aggregate and no flag is
reported for them (Workleap hides averages below 4 people), only the fact that they were
suppressed. Every flag carries the threshold it used and a sentence for a person.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from itertools import repeat
from operator import add, itemgetter, mul

from attrs import frozen

from perfcore.domain.calibration.batch import RatingBatch, TeamStats, team_stats
from perfcore.domain.calibration.guidelines import DistributionGuideline
from perfcore.domain.calibration.scale import BucketMapping
from perfcore.domain.errors import InvalidValue

__all__ = [
    "BiasFlag",
    "BiasReport",
    "BiasThresholds",
    "ChiSquare",
    "HaloReport",
    "RaterBias",
    "chi2_sf",
    "chi_square",
    "halo",
    "rater_bias",
    "within_ratee_sd",
]


@frozen
class BiasThresholds:
    """Thresholds for flags (perfcore's own defaults unless noted).

    Attributes:
        leniency_t: flag |t_j| above this (2.0).
        leniency_min_n: only when n_j ≥ this (5).
        range_ratio: flag RR_j below this (0.5).
        middle_excess: flag middle share above g_mid + this (0.20).
        share_delta: flag a bucket share above its guideline by more than this (0.05, the
            commercial calculator's 5 pp).
        pool_below: pool χ² buckets whose expected count is below this (5).
        alpha: flag χ² p-values below this (0.05; our choice).
        min_group: suppress raters with fewer ratings than this (4).
        halo_r_margin: flag a rater whose mean inter-dimension r exceeds the org mean by more
            than this (0.20; our choice — the literature gives no cut-off).
        halo_sd_ratio: flag a rater whose standardised within-ratee SD is below this fraction of
            the org mean (0.5; our choice).
    """

    leniency_t: float = 2.0
    leniency_min_n: int = 5
    range_ratio: float = 0.5
    middle_excess: Fraction = Fraction(1, 5)
    share_delta: Fraction = Fraction(1, 20)
    pool_below: float = 5.0
    alpha: float = 0.05
    min_group: int = 4
    halo_r_margin: float = 0.2
    halo_sd_ratio: float = 0.5


@frozen
class BiasFlag:
    """One flag: ``kind`` (leniency, severity, range_restriction, central_tendency,
    distribution, halo), the statistic, the threshold used (as text) and a sentence."""

    rater: int
    kind: str
    statistic: float
    threshold: str
    sentence: str


@frozen
class ChiSquare:
    """χ² goodness of fit after pooling.

    Attributes:
        statistic: Σ (O − E)²/E over the pooled groups (NaN when not testable).
        df: pooled groups − 1 (0 when not testable).
        p_value: upper-tail probability (NaN when not testable).
        groups: the pooled bucket groups, e.g. ``(("low", "mid"), ("high",))``.
        reason: why there is no test, or ``None``.
    """

    statistic: float
    df: int
    p_value: float
    groups: tuple[tuple[str, ...], ...]
    reason: str | None = None


def chi2_sf(x: float, df: int) -> float:
    """Upper-tail probability P(χ²_df ≥ x) for integer ``df`` ≥ 1, closed form.

    Even df: e^(−x/2)·Σ_{i<df/2} (x/2)^i/i!. Odd df: erfc(√(x/2)) + e^(−x/2)·Σ_{i=1}^{(df−1)/2}
    (x/2)^(i−1/2)/Γ(i+1/2). For df = 2 this is e^(−x/2).

    Raises:
        InvalidValue: ``df`` < 1 (field ``df``).
    """
    if df < 1:
        raise InvalidValue(f"df {df}", field="df", valid="≥ 1")
    if x <= 0:
        return 1.0
    half = x / 2.0
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    total = math.erfc(math.sqrt(half))
    for i in range(1, (df - 1) // 2 + 1):
        total += math.exp((i - 0.5) * math.log(half) - half - math.lgamma(i + 0.5))
    return min(1.0, total)


def chi_square(
    observed: Sequence[float],
    expected: Sequence[float],
    *,
    names: Sequence[str] | None = None,
    pool_below: float = 5.0,
) -> ChiSquare:
    """χ² of ordered bucket counts, pooling small expected counts into neighbours.

    Pooling rule (deterministic): while a group has E < ``pool_below`` and more than one group
    is left, take the group with the smallest E (lowest position on ties) and merge it with
    the adjacent group of smaller E (the higher neighbour on ties). ``pool_below=0`` disables
    pooling. [CALC §1.5] O 8/11/1 vs E 4/14/2 unpooled → 5.142857, df 2, p 0.0764.

    Raises:
        InvalidValue: lengths differ (field ``expected``); a negative count.
    """
    if len(observed) != len(expected):
        raise InvalidValue(
            f"{len(expected)} expected counts for {len(observed)} observed",
            field="expected",
            valid="one expected count per bucket",
        )
    labels = list(names) if names is not None else [str(i) for i in range(len(observed))]
    if any(o < 0 for o in observed) or any(e < 0 for e in expected):
        raise InvalidValue("negative count", field="observed", valid="counts ≥ 0")
    groups = [[label] for label in labels]
    obs = list(map(float, observed))
    exp = list(map(float, expected))
    while len(groups) > 1:
        small = [i for i, e in enumerate(exp) if e < pool_below]
        if not small:
            break
        i = min(small, key=lambda k: (exp[k], k))
        if i == 0:
            j = 1
        elif i == len(groups) - 1:
            j = i - 1
        else:
            j = i - 1 if exp[i - 1] < exp[i + 1] else i + 1
        a, b = min(i, j), max(i, j)
        groups[a : b + 1] = [groups[a] + groups[b]]
        obs[a : b + 1] = [obs[a] + obs[b]]
        exp[a : b + 1] = [exp[a] + exp[b]]
    pooled = tuple(tuple(g) for g in groups)
    if len(groups) < 2:
        return ChiSquare(math.nan, 0, math.nan, pooled, "too few expected counts to test")
    if any(e <= 0 for e in exp):
        return ChiSquare(math.nan, 0, math.nan, pooled, "a bucket has expected count 0")
    stat = math.fsum((o - e) ** 2 / e for o, e in zip(obs, exp, strict=True))
    df = len(groups) - 1
    return ChiSquare(stat, df, chi2_sf(stat, df), pooled)


@frozen
class RaterBias:
    """Bias statistics of one rater; all ``None`` when ``suppressed`` (n < min_group).

    Attributes:
        shares: bucket → share of this rater's ratings; deltas: bucket → share − guideline.
    """

    rater: int
    n: int
    suppressed: bool
    mean: float | None
    leniency: float | None
    t: float | None
    range_ratio: float | None
    middle_share: float | None
    shares: dict[str, float] | None
    deltas: dict[str, float] | None
    chi2: ChiSquare | None
    flags: tuple[BiasFlag, ...]


@frozen
class BiasReport:
    """Bias statistics for every rater with ratings, plus the thresholds used."""

    raters: tuple[RaterBias, ...]
    thresholds: BiasThresholds
    suppressed: tuple[int, ...]

    @property
    def flags(self) -> tuple[BiasFlag, ...]:
        """Every rater's flags in rater order (suppressed raters have none)."""
        return tuple(f for r in self.raters for f in r.flags)


def _label(position: int, size: int) -> tuple[str, str]:
    if position == size - 1:
        return "leniency", "too many top ratings (leniency)"
    if position == 0:
        return "severity", "too many bottom ratings (severity)"
    return "central_tendency", "too many middle ratings (central tendency)"


def _pp(x: float) -> str:
    return f"{x * 100:.1f} pp"


def rater_bias(
    batch: RatingBatch,
    *,
    mapping: BucketMapping,
    guideline: DistributionGuideline | None = None,
    stats: TeamStats | None = None,
    thresholds: BiasThresholds | None = None,
    names: Sequence[str] | None = None,
) -> BiasReport:
    """Leniency t, range restriction, middle share, Δ vs guideline and χ² per rater.

    ``mapping`` puts each rating in a bucket; ``guideline`` (same bucket order) supplies g_c.
    ``names`` labels raters in sentences (default ``rater <index>``).

    Raises:
        InvalidValue: mapping and guideline bucket orders differ (field ``guideline``); a rating
            without a bucket (field ``values[i]``, valid = mapped ratings).
    """
    th = thresholds or BiasThresholds()
    st = stats or team_stats(batch)
    order = mapping.order
    if guideline is not None and guideline.order != order:
        raise InvalidValue(
            f"guideline buckets {list(guideline.order)} differ from mapping {list(order)}",
            field="guideline",
            valid=", ".join(order),
        )
    lookup = mapping.float_lookup()
    size = len(order)
    counts = [[0] * size for _ in range(batch.rater_count)]
    try:
        buckets = list(map(lookup.__getitem__, batch.values))
    except KeyError:
        bad = next(i for i, v in enumerate(batch.values) if v not in lookup)
        raise InvalidValue(
            f"rating {batch.values[bad]} has no bucket",
            field=f"values[{bad}]",
            valid=", ".join(str(k) for k in sorted(mapping.mapping)),
        ) from None
    # count (rater, bucket) pairs in C: key = rater·size + bucket
    for key, count in Counter(map(add, map(mul, batch.raters, repeat(size)), buckets)).items():
        counts[key // size][key % size] = count
    mid = size // 2 if size % 2 else None
    targets = [float(guideline.targets[b]) for b in order] if guideline else None
    big_m, big_s = st.pop_mean, st.pop_sd
    results: list[RaterBias] = []
    suppressed: list[int] = []
    sqrt = math.sqrt
    for g in range(batch.rater_count):
        n = st.n[g]
        if not n:
            continue
        if n < th.min_group:
            suppressed.append(g)
            results.append(
                RaterBias(g, n, True, None, None, None, None, None, None, None, None, ())
            )
            continue
        who = names[g] if names is not None else f"rater {g}"
        flags: list[BiasFlag] = []
        mean = st.mean[g]
        lenient = mean - big_m
        t = lenient / (big_s / sqrt(n)) if big_s > 0 else math.nan
        if n >= th.leniency_min_n and abs(t) > th.leniency_t:
            kind = "leniency" if t > 0 else "severity"
            flags.append(
                BiasFlag(
                    g,
                    kind,
                    t,
                    f"|t| > {th.leniency_t:g} with n ≥ {th.leniency_min_n}",
                    f"{who} rates {abs(lenient):.2f} points {'above' if t > 0 else 'below'} "
                    f"the population mean {big_m:.2f} (t = {t:.2f}, n = {n}): likely {kind}.",
                )
            )
        rr = st.sd[g] / big_s if big_s > 0 else math.nan
        if rr < th.range_ratio:
            flags.append(
                BiasFlag(
                    g,
                    "range_restriction",
                    rr,
                    f"RR < {th.range_ratio:g}",
                    f"{who} uses a narrow range: SD {st.sd[g]:.2f} is {rr:.0%} of the "
                    f"population SD {big_s:.2f}.",
                )
            )
        row = counts[g]
        shares = [c / n for c in row]
        middle = shares[mid] if mid is not None else None
        if mid is not None and middle is not None and targets is not None:
            limit = targets[mid] + float(th.middle_excess)
            if middle > limit:
                flags.append(
                    BiasFlag(
                        g,
                        "central_tendency",
                        middle,
                        f"middle share > guideline + {_pp(float(th.middle_excess))}",
                        f"{who} puts {middle:.0%} of people in the middle bucket "
                        f"'{order[mid]}' (guideline {targets[mid]:.0%}).",
                    )
                )
        deltas: dict[str, float] | None = None
        chi: ChiSquare | None = None
        if targets is not None:
            deltas = {}
            for c, name in enumerate(order):
                d = shares[c] - targets[c]
                deltas[name] = d
                if d > float(th.share_delta) + 1e-12:
                    kind, text = _label(c, size)
                    flags.append(
                        BiasFlag(
                            g,
                            "distribution",
                            d,
                            f"share above guideline by > {_pp(float(th.share_delta))}",
                            f"{who}: {shares[c]:.0%} in '{name}' vs guideline "
                            f"{targets[c]:.0%} — {text}.",
                        )
                    )
            chi = chi_square(row, [n * x for x in targets], names=order, pool_below=th.pool_below)
            if chi.reason is None and chi.p_value < th.alpha:
                flags.append(
                    BiasFlag(
                        g,
                        "distribution",
                        chi.statistic,
                        f"χ² p < {th.alpha:g}",
                        f"{who}'s distribution differs from the guideline "
                        f"(χ² = {chi.statistic:.2f}, df = {chi.df}, p = {chi.p_value:.3f}).",
                    )
                )
        results.append(
            RaterBias(
                g,
                n,
                False,
                mean,
                lenient,
                t,
                rr,
                middle,
                dict(zip(order, shares, strict=True)),
                deltas,
                chi,
                tuple(flags),
            )
        )
    return BiasReport(tuple(results), th, tuple(suppressed))


# --------------------------------------------------------------------------- halo


def within_ratee_sd(
    rows: Sequence[Sequence[float]], *, standardise: bool = False
) -> tuple[float, ...]:
    """SD (ddof 0) across dimensions for each ratee (row).

    With ``standardise=True`` each dimension (column) is first z-scored over ``rows`` (ddof 0),
    as Pulakos & Schmitt (1984) require when dimension means differ; a constant column becomes 0.
    [CALC §1.5] [[4,4,4],[5,5,4],[3,3,3]] raw → 0, 0.4714, 0.

    Raises:
        InvalidValue: rows of different length (field ``rows[i]``).
    """
    if not rows:
        return ()
    width = len(rows[0])
    if width < 1:
        raise InvalidValue("a row has no dimensions", field="rows[0]", valid="≥ 1 dimension")
    _check_rectangular(rows, width)
    cols = [list(map(float, col)) for col in zip(*rows, strict=True)]
    if standardise:
        cols = [_zcol(col, len(rows)) for col in cols]
    return _sds_of_columns(cols, width)


def _sds_of_columns(cols: list[list[float]], width: int) -> tuple[float, ...]:
    """Per-row SD (ddof 0, two-pass: mean first, then squared deviations) of column data.

    Three dimensions (the usual competency triple) take an unrolled fast path.
    """
    sqrt = math.sqrt
    inv = 1.0 / width
    out: list[float] = []
    append = out.append
    if width == 3:
        for x, y, z in zip(*cols, strict=True):
            m = (x + y + z) * inv
            dx, dy, dz = x - m, y - m, z - m
            append(sqrt((dx * dx + dy * dy + dz * dz) * inv))
        return tuple(out)
    for row in zip(*cols, strict=True):
        m = sum(row) * inv
        append(sqrt(sum([(x - m) * (x - m) for x in row]) * inv))
    return tuple(out)


def _check_rectangular(rows: Sequence[Sequence[float]], width: int) -> None:
    if len(set(map(len, rows))) > 1:
        bad = next(i for i, row in enumerate(rows) if len(row) != width)
        raise InvalidValue(
            f"{len(rows[bad])} dimensions, expected {width}",
            field=f"rows[{bad}]",
            valid=str(width),
        )


def _zcol(col: list[float], count: int) -> list[float]:
    """Z-score one column (ddof 0); a constant column becomes all zeros."""
    centre = math.fsum(col) / count
    spread = math.sqrt(math.fsum([(x - centre) * (x - centre) for x in col]) / count)
    if not spread > 0:
        return [0.0] * count
    inv = 1.0 / spread
    return [(x - centre) * inv for x in col]


def _mean_pairwise_r(cols: Sequence[Sequence[float]]) -> float | None:
    """Mean Pearson r over all pairs of columns that vary (None when no pair does).

    Sums of squares and cross-products are one-pass sums (exact for ratings on a decimal
    scale of a few steps); a column whose centred sum of squares is at most 1e-12 × its raw sum
    of squares counts as constant.
    """
    k = len(cols[0])
    width = len(cols)
    sums = [sum(col) for col in cols]
    ssd: list[float | None] = []
    for col, s1 in zip(cols, sums, strict=True):
        raw = sum(map(mul, col, col))
        centred = raw - s1 * s1 / k
        ssd.append(centred if centred > 1e-12 * raw else None)
    total, pairs = 0.0, 0
    for a in range(width):
        sa = ssd[a]
        if sa is None:
            continue
        for b in range(a + 1, width):
            sb = ssd[b]
            if sb is None:
                continue
            cross = sum(map(mul, cols[a], cols[b])) - sums[a] * sums[b] / k
            total += cross / math.sqrt(sa * sb)
            pairs += 1
    return total / pairs if pairs else None


@frozen
class HaloReport:
    """Halo measures per rater and their org-wide means.

    Attributes:
        r_measure: rater → mean pairwise Pearson r between dimensions across the rater's ratees
            (``None`` when suppressed or no pair has variance).
        sd_measure: rater → mean over ratees of the SD across standardised dimensions.
        org_r / org_sd: means of the per-rater measures over non-suppressed raters.
        suppressed: raters with fewer than ``min_group`` ratees.
        flags: halo flags with thresholds and sentences.
    """

    r_measure: dict[int, float | None]
    sd_measure: dict[int, float]
    org_r: float | None
    org_sd: float | None
    suppressed: tuple[int, ...]
    flags: tuple[BiasFlag, ...]


def halo(
    raters: Sequence[int],
    rows: Sequence[Sequence[float]],
    *,
    thresholds: BiasThresholds | None = None,
    names: Sequence[str] | None = None,
) -> HaloReport:
    """Both halo measures of §1.5 for ratees scored on several dimensions.

    ``raters[i]`` rated ratee ``i`` with dimension scores ``rows[i]``. (a) r-measure: mean
    pairwise correlation between dimensions across the rater's ratees, compared with the org
    mean; (b) SD-measure: mean within-ratee SD after standardising each dimension over the whole
    population. High r and low SD suggest one impression drives every dimension (Thorndike 1920).

    Raises:
        InvalidValue: lengths differ (field ``rows``); fewer than 2 dimensions or ragged rows
            (field ``rows[i]``).
    """
    th = thresholds or BiasThresholds()
    if len(raters) != len(rows):
        raise InvalidValue(
            f"{len(rows)} rows for {len(raters)} raters", field="rows", valid="one row per rater"
        )
    width = len(rows[0]) if rows else 0
    if rows and width < 2:
        raise InvalidValue("halo needs at least 2 dimensions", field="rows[0]", valid="≥ 2")
    _check_rectangular(rows, width)
    r_measure: dict[int, float | None] = {}
    sd_measure: dict[int, float] = {}
    suppressed: list[int] = []
    if len(rows) > 1:
        cols = [list(map(float, col)) for col in zip(*rows, strict=True)]
        sds = _sds_of_columns([_zcol(c, len(rows)) for c in cols], width)
        # group ratees by rater once (stable sort), then work on contiguous slices
        order = sorted(range(len(raters)), key=raters.__getitem__)
        pick = itemgetter(*order)
        grouped = [pick(col) for col in cols]
        sd_sorted = pick(sds)
        keys = pick(raters)
        for g in sorted(set(raters)):
            start, end = bisect_left(keys, g), bisect_right(keys, g)
            if end - start < th.min_group:
                suppressed.append(g)
                continue
            r_measure[g] = _mean_pairwise_r([col[start:end] for col in grouped])
            sd_measure[g] = sum(sd_sorted[start:end]) / (end - start)
    elif rows:
        suppressed.append(raters[0])
    rs = [r for r in r_measure.values() if r is not None]
    org_r = math.fsum(rs) / len(rs) if rs else None
    org_sd = math.fsum(sd_measure.values()) / len(sd_measure) if sd_measure else None
    flags: list[BiasFlag] = []
    for g, r in r_measure.items():
        who = names[g] if names is not None else f"rater {g}"
        if r is not None and org_r is not None and r > org_r + th.halo_r_margin:
            flags.append(
                BiasFlag(
                    g,
                    "halo",
                    r,
                    f"r > org mean + {th.halo_r_margin:g}",
                    f"{who}'s dimension scores move together (mean r = {r:.2f} vs "
                    f"{org_r:.2f} org-wide): possible halo.",
                )
            )
        sd = sd_measure[g]
        if org_sd is not None and org_sd > 0 and sd < th.halo_sd_ratio * org_sd:
            flags.append(
                BiasFlag(
                    g,
                    "halo",
                    sd,
                    f"standardised SD < {th.halo_sd_ratio:g} × org mean",
                    f"{who} scores each person almost the same on every dimension "
                    f"(standardised SD {sd:.2f} vs {org_sd:.2f} org-wide): possible halo.",
                )
            )
    return HaloReport(r_measure, sd_measure, org_r, org_sd, tuple(suppressed), tuple(flags))
