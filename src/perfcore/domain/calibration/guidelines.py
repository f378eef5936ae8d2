"""Distribution guidelines: per-bucket share constraints, live check and exact allocation.

Source: SAP SuccessFactors distribution guidelines (operators ``= < <= > >= between`` and the
"add/remove N subjects" hint; SAP KBA 3045355,
https://userapps.support.sap.com/sap/support/knowledge/en/3045355); counts are allocated with the
largest-remainder (Hamilton) method. All arithmetic is exact
(:class:`~fractions.Fraction`): ``13 × 0.2`` is exactly ``13/5``, never ``2.6000000000000001``.

A guideline is *guidance with warnings* (O'Boyle & Aguinis 2012 found performance is Paretian, not
normal), so :meth:`DistributionGuideline.check` reports; only a session's lock policy may block.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Literal

from attrs import field, frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import as_decimal

__all__ = [
    "BucketRule",
    "BucketStatus",
    "DistributionGuideline",
    "GuidelineCheck",
    "Operator",
    "allocate",
    "as_share",
]


class Operator(enum.StrEnum):
    """How a bucket's share p = n/N is constrained."""

    EQ = "="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    BETWEEN = "between"


def as_share(value: object, *, field: str = "share") -> Fraction:
    """Convert ``value`` (``"0.2"``, ``Decimal``, ``Fraction``, ``int``, ``float`` via repr) to an
    exact Fraction in ``[0, 1]``.

    Raises:
        InvalidValue: not a number or outside ``[0, 1]``.
    """
    share = value if isinstance(value, Fraction) else Fraction(as_decimal(value, field=field))
    if share < 0 or share > 1:
        raise InvalidValue(f"share {value} is outside 0..1", field=field, valid="0 ≤ share ≤ 1")
    return share


def _opt_share(value: object) -> Fraction | None:
    return None if value is None else as_share(value, field="upper")


def _rules(value: Iterable[BucketRule]) -> tuple[BucketRule, ...]:
    return tuple(value)


def _pct(share: Fraction) -> str:
    text = f"{float(share) * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


@frozen
class BucketRule:
    """One constraint: ``share(bucket) <op> value`` (``upper`` only for ``between``).

    Raises:
        InvalidValue: ``between`` without ``upper`` or with ``upper < value`` (field ``upper``).
    """

    bucket: str
    op: Operator = field(converter=Operator)
    value: Fraction = field(converter=as_share)
    upper: Fraction | None = field(default=None, converter=_opt_share)

    def __attrs_post_init__(self) -> None:
        if self.op is Operator.BETWEEN:
            if self.upper is None or self.upper < self.value:
                raise InvalidValue(
                    "'between' needs an upper share not below the lower one",
                    field="upper",
                    valid=f"{self.value} ≤ upper ≤ 1",
                )
        elif self.upper is not None:
            raise InvalidValue(
                f"'upper' is only used with 'between', not {self.op.value!r}",
                field="upper",
                valid="omit upper",
            )

    def count_bounds(self, total: int) -> tuple[int, int]:
        """Smallest and largest head-count in the bucket that satisfy the rule for ``total``.

        ``=`` with a non-integer ``N·x`` accepts the two nearest integers (⌊N·x⌋..⌈N·x⌉), the only
        achievable reading. ``lo > hi`` means no count can satisfy the rule.
        """
        exact = total * self.value
        if self.op is Operator.LE:
            return 0, math.floor(exact)
        if self.op is Operator.LT:
            return 0, math.ceil(exact) - 1
        if self.op is Operator.GE:
            return math.ceil(exact), total
        if self.op is Operator.GT:
            return math.floor(exact) + 1, total
        if self.op is Operator.BETWEEN:
            assert self.upper is not None
            return math.ceil(exact), math.floor(total * self.upper)
        return math.floor(exact), math.ceil(exact)

    def describe(self) -> str:
        """Human text, e.g. ``≤ 20%`` or ``between 60% and 80%``."""
        if self.op is Operator.BETWEEN:
            assert self.upper is not None
            return f"between {_pct(self.value)} and {_pct(self.upper)}"
        symbol = {"<=": "≤", ">=": "≥"}.get(self.op.value, self.op.value)
        return f"{symbol} {_pct(self.value)}"


Status = Literal["ok", "below", "above", "unattainable", "unconstrained"]


@frozen
class BucketStatus:
    """Live status of one bucket.

    Attributes:
        count / share: people in the bucket and their exact share of ``total``.
        low / high: the allowed head-count range (``None`` when unconstrained).
        status: ``ok``, ``below`` (add people), ``above`` (remove people), ``unattainable``
            (no head-count satisfies the rule at this N), ``unconstrained`` (no rule).
        move: the smallest number of people to move — positive = add, negative = remove.
        move_most: for a range rule (``between``, or ``=`` at a fractional N·x) the largest
            move still inside the range (same sign); otherwise equal to ``move``.
        sentence: the hint an HR partner reads.
    """

    bucket: str
    count: int
    share: Fraction
    rule: BucketRule | None
    low: int | None
    high: int | None
    status: Status
    move: int
    move_most: int
    sentence: str


@frozen
class GuidelineCheck:
    """Result of checking head-counts against a guideline; ``ok`` when no bucket is off."""

    total: int
    buckets: tuple[BucketStatus, ...]

    @property
    def ok(self) -> bool:
        """True when no bucket is below, above or unattainable."""
        return not self.violations

    @property
    def violations(self) -> tuple[BucketStatus, ...]:
        """The buckets whose status is "below", "above" or "unattainable", in bucket order."""
        return tuple(b for b in self.buckets if b.status in ("below", "above", "unattainable"))

    def summary(self) -> str:
        """One line per violated bucket (empty when ok)."""
        return "; ".join(b.sentence for b in self.violations)


def _people(k: int) -> str:
    return f"{k} {'person' if k == 1 else 'people'}"


def _status(bucket: str, count: int, total: int, rule: BucketRule | None) -> BucketStatus:
    share = Fraction(count, total) if total else Fraction(0)
    head = f"{bucket}: {count} of {total} ({_pct(share)})"
    if rule is None:
        return BucketStatus(bucket, count, share, None, None, None, "unconstrained", 0, 0, head)
    lo, hi = rule.count_bounds(total)
    wanted = f"guideline {rule.describe()}"
    if lo > hi:
        sentence = f"{head}, {wanted} cannot be met with {total} people"
        return BucketStatus(bucket, count, share, rule, lo, hi, "unattainable", 0, 0, sentence)
    ranged = rule.op in (Operator.BETWEEN, Operator.EQ)
    if count < lo:
        k_min = lo - count
        k_max = hi - count if ranged else k_min
        span = f"{k_min}" if k_min == k_max else f"{k_min} to {k_max}"
        unit = "person" if k_max == 1 else "people"
        sentence = f"{head}, {wanted} → add {span} {unit}"
        return BucketStatus(bucket, count, share, rule, lo, hi, "below", k_min, k_max, sentence)
    if count > hi:
        k_min = count - hi
        k_max = count - lo if ranged else k_min
        span = f"{k_min}" if k_min == k_max else f"{k_min} to {k_max}"
        unit = "person" if k_max == 1 else "people"
        sentence = f"{head}, {wanted} → remove {span} {unit}"
        return BucketStatus(bucket, count, share, rule, lo, hi, "above", -k_min, -k_max, sentence)
    return BucketStatus(bucket, count, share, rule, lo, hi, "ok", 0, 0, f"{head}, {wanted}: ok")


def allocate(
    total: int,
    shares: Mapping[str, Fraction],
    *,
    tie: Literal["higher_first", "lower_first"] = "higher_first",
) -> dict[str, int]:
    """Largest-remainder (Hamilton) allocation of ``total`` people to buckets, exactly.

    ``shares`` is ordered low → high and must sum to 1. Each bucket gets ⌊N·g⌋; the seats left
    go one each to the largest fractional parts. Equal remainders go to the higher bucket first
    (``tie="higher_first"``, the default — perfcore's rule) or the lower one. Worked by hand:
    13 people at 20/70/10 → 3/9/1. The result always sums to ``total``.

    Raises:
        InvalidValue: ``total < 0`` (field ``total``) or shares not summing to 1 (field
            ``shares``, message names the actual total).
    """
    if total < 0:
        raise InvalidValue(f"total {total} is negative", field="total", valid="≥ 0")
    _check_sum(shares)
    names = list(shares)
    quotas = [total * shares[n] for n in names]
    counts = [math.floor(q) for q in quotas]
    left = total - sum(counts)
    sign = -1 if tie == "higher_first" else 1
    order = sorted(range(len(names)), key=lambda i: (-(quotas[i] - counts[i]), sign * i))
    for i in order[:left]:
        counts[i] += 1
    return dict(zip(names, counts, strict=True))


def _check_sum(shares: Mapping[str, Fraction], *, field: str = "shares") -> None:
    total = sum(shares.values(), Fraction(0))
    if total != 1:
        raise InvalidValue(
            f"shares sum to {float(total) * 100:g}% ({total}), not 100%",
            field=field,
            valid="shares summing to exactly 1 (100%)",
        )


def _targets(value: Mapping[str, object]) -> dict[str, Fraction]:
    return {str(k): as_share(v, field=f"targets.{k}") for k, v in value.items()}


@frozen
class DistributionGuideline:
    """Target shares per bucket (low → high, summing to 1) plus optional operator rules.

    ``targets`` drive allocation, χ² and Δ (bias.py). ``rules`` drive the live check; when no
    rules are given each bucket gets ``= target`` (the two nearest head-counts are accepted).

    Raises:
        InvalidValue: shares not summing to 1 (field ``targets``, the actual total in the
            message); a rule naming an unknown bucket (field ``rules[i].bucket``, valid = bucket
            names); two rules for one bucket.
    """

    targets: dict[str, Fraction] = field(converter=_targets)
    rules: tuple[BucketRule, ...] = field(default=(), converter=_rules)
    tie: Literal["higher_first", "lower_first"] = "higher_first"

    def __attrs_post_init__(self) -> None:
        _check_sum(self.targets, field="targets")
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.bucket not in self.targets:
                raise InvalidValue(
                    f"unknown bucket {rule.bucket!r}",
                    field=f"rules[{i}].bucket",
                    valid=", ".join(self.targets),
                )
            if rule.bucket in seen:
                raise InvalidValue(
                    f"bucket {rule.bucket!r} has two rules",
                    field=f"rules[{i}].bucket",
                    valid="one rule per bucket (use 'between' for a range)",
                )
            seen.add(rule.bucket)

    @classmethod
    def of(
        cls, targets: Mapping[str, object], rules: Iterable[BucketRule] = ()
    ) -> DistributionGuideline:
        """Build from ``{"low": "0.1", "mid": "0.7", "high": "0.2"}`` (low → high)."""
        return cls(targets=dict(targets), rules=tuple(rules))

    @property
    def order(self) -> tuple[str, ...]:
        """Bucket names low → high."""
        return tuple(self.targets)

    def rule_for(self, bucket: str) -> BucketRule:
        """The explicit rule of ``bucket`` or the default ``= target`` rule."""
        for rule in self.rules:
            if rule.bucket == bucket:
                return rule
        return BucketRule(bucket, Operator.EQ, self.targets[bucket])

    def allocate(self, total: int) -> dict[str, int]:
        """Integer head-counts per bucket for ``total`` people (see :func:`allocate`)."""
        return allocate(total, self.targets, tie=self.tie)

    def check(self, counts: Mapping[str, int]) -> GuidelineCheck:
        """Live check of head-counts per bucket (missing buckets count 0).

        Raises:
            InvalidValue: a count for an unknown bucket (field ``counts.<name>``) or a negative
                count.
        """
        for name, count in counts.items():
            if name not in self.targets:
                raise InvalidValue(
                    f"unknown bucket {name!r}",
                    field=f"counts.{name}",
                    valid=", ".join(self.targets),
                )
            if count < 0:
                raise InvalidValue(f"negative count {count}", field=f"counts.{name}", valid="≥ 0")
        total = sum(counts.values())
        return GuidelineCheck(
            total,
            tuple(
                _status(name, counts.get(name, 0), total, self.rule_for(name))
                for name in self.targets
            ),
        )
