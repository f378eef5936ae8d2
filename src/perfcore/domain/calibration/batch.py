"""Ratings as parallel columns, and the per-rater statistics every method shares.

The hot path (benchmark B6: 100,000 ratings from 5,000 raters in ≤ 1 s) works on two parallel
sequences — ``raters[i]`` (an integer rater index ``0..rater_count-1``) and ``values[i]`` (the
rating) — never on per-pair objects. Statistics are IEEE doubles (they involve square roots);
exact arithmetic is kept where head-counts matter (guidelines.py).

ddof: standard deviations and variances use **ddof = 0** (population form, divide by n) unless a
function says otherwise (perfcore's rule); the worked two-team example in docs/calibration.md uses
ddof = 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from attrs import field, frozen

from perfcore.domain.errors import InvalidValue

__all__ = ["RatingBatch", "TeamStats", "team_stats"]


def _as_float(value: object, index: int) -> float:
    if isinstance(value, float | int | Decimal | Fraction) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    raise InvalidValue(
        f"rating {value!r} is not a finite number", field=f"values[{index}]", valid="a number"
    )


@frozen
class RatingBatch:
    """Ratings as parallel columns: ``raters[i]`` gave rating ``values[i]``.

    Build with :meth:`build`, which validates once so the statistics can run tight loops.

    Attributes:
        raters: rater index per rating, each in ``0..rater_count-1``.
        values: rating per rating (float).
        rater_count: number of raters (indices without ratings are allowed; they get n = 0).
    """

    raters: tuple[int, ...]
    values: tuple[float, ...]
    rater_count: int
    members: tuple[tuple[int, ...], ...] = field(eq=False, repr=False)

    @classmethod
    def build(
        cls,
        raters: Sequence[int],
        values: Sequence[object],
        *,
        rater_count: int | None = None,
    ) -> RatingBatch:
        """Validate and freeze the columns.

        Raises:
            InvalidValue: columns of different length (field ``values``), a non-integer or
                out-of-range rater index (field ``raters[i]``), a non-finite rating
                (field ``values[i]``).
        """
        if len(raters) != len(values):
            raise InvalidValue(
                f"{len(values)} ratings for {len(raters)} rater indices",
                field="values",
                valid="one rating per rater index",
            )
        count = rater_count if rater_count is not None else (max(raters) + 1 if raters else 0)
        members: list[list[int]] = [[] for _ in range(count)]
        try:
            for i, rater in enumerate(raters):
                members[rater].append(i)
                if rater < 0:
                    raise IndexError
        except (IndexError, TypeError):
            bad = next(
                i for i, r in enumerate(raters) if not isinstance(r, int) or not 0 <= r < count
            )
            raise InvalidValue(
                f"rater index {raters[bad]!r} is out of range",
                field=f"raters[{bad}]",
                valid=f"an integer 0..{count - 1}",
            ) from None
        floats = tuple(_as_float(v, i) for i, v in enumerate(values))
        return cls(tuple(raters), floats, count, tuple(tuple(m) for m in members))

    def __len__(self) -> int:
        return len(self.values)

    def team_values(self, rater: int) -> list[float]:
        """The ratings given by ``rater``, in input order."""
        values = self.values
        return [values[i] for i in self.members[rater]]


@frozen
class TeamStats:
    """Per-rater (team) and population statistics, ddof as recorded.

    Attributes:
        n, mean, sd, minimum, maximum: per rater index (mean/sd/min/max are NaN when n = 0).
        pop_n, pop_mean, pop_sd: over all ratings (M and S in :mod:`.normalise`).
        ddof: delta degrees of freedom used for ``sd`` and ``pop_sd``.
    """

    n: tuple[int, ...]
    mean: tuple[float, ...]
    sd: tuple[float, ...]
    minimum: tuple[float, ...]
    maximum: tuple[float, ...]
    pop_n: int
    pop_mean: float
    pop_sd: float
    ddof: int


def _sd(ss: float, n: int, ddof: int) -> float:
    return math.sqrt(ss / (n - ddof)) if n - ddof > 0 else math.nan


def team_stats(batch: RatingBatch, *, ddof: int = 0) -> TeamStats:
    """Compute n, mean, SD, min and max per rater, and the population mean and SD.

    Means use :func:`math.fsum` (exactly rounded); SDs use the two-pass sum of squared deviations
    so that large offsets do not cancel. ``ddof`` 0 = population SD (divide by n), 1 = sample SD.

    Raises:
        InvalidValue: ``ddof`` not 0 or 1 (field ``ddof``).
    """
    if ddof not in (0, 1):
        raise InvalidValue(f"ddof {ddof} is not supported", field="ddof", valid="0 or 1")
    values = batch.values
    fsum, sqrt, nan = math.fsum, math.sqrt, math.nan
    n: list[int] = []
    mean: list[float] = []
    sd: list[float] = []
    low: list[float] = []
    high: list[float] = []
    for idx in batch.members:
        team = [values[i] for i in idx]
        k = len(team)
        n.append(k)
        if not k:
            mean.append(nan)
            sd.append(nan)
            low.append(nan)
            high.append(nan)
            continue
        m = fsum(team) / k
        mean.append(m)
        ss = fsum([(v - m) * (v - m) for v in team])
        sd.append(sqrt(ss / (k - ddof)) if k - ddof > 0 else nan)
        low.append(min(team))
        high.append(max(team))
    total = len(values)
    pop_mean = fsum(values) / total if total else nan
    pop_ss = fsum([(v - pop_mean) * (v - pop_mean) for v in values]) if total else nan
    return TeamStats(
        tuple(n),
        tuple(mean),
        tuple(sd),
        tuple(low),
        tuple(high),
        total,
        pop_mean,
        _sd(pop_ss, total, ddof),
        ddof,
    )
