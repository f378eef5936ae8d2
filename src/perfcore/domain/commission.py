"""Sales commission: quota, tiers with *named* semantics, decelerators, caps, ramp, clawbacks.

Notation (as in the open-source https://github.com/theodortrampe/commission-calculator,
``src/lib/utils/commissionLogic.ts``): quota ``Q``, credited bookings ``B``, attainment ``a = B/Q``,
target variable pay ``V`` and the effective base rate ``r = V/Q`` (or a rate given directly).
Tiers are attainment bands ``[l_k, l_{k+1})`` with a multiplier ``m_k`` (``< 1`` is a
decelerator, ``> 1`` an accelerator; a lower multiplier on a *higher* band is a "windfall"
decelerator). Three tier semantics pay differently, so a plan must name one
(:class:`TierMethod`):

``marginal``
    each slice of ``B`` is paid at its own band's multiplier:
    ``C = Σ r·m_k·max(0, min(B, Q·l_{k+1}) − Q·l_k)``. A band may be flagged ``retroactive``:
    once reached, every slice *below* it is re-rated at its multiplier too (QuotaPath's "full rate
    from 50 % applied retroactively" lifts the decelerator, while the accelerator above quota stays
    marginal).
``retroactive``
    the band that contains ``a`` rates *all* of ``B`` (OCA ``commission`` "section" type): step
    cliffs at every boundary.
``base_plus_overage``
    ``C = min(B, Q)·r + max(0, B − Q)·r·m(a)`` when ``a ≥ 1`` (the quota is paid at the base rate,
    the overage at the multiplier of the band containing ``a``), and ``C = B·r·m(a)`` below quota
    (so a decelerator band applies to everything while it holds, RevOps Masters' $20,000 case).

Then kickers (a fixed share of ``V`` for each attainment milestone reached, cumulative), then caps
(payout cap absolute or as a multiple of ``V``; an attainment cap limits the credited amount first).

Ramp and proration scale the quota and the target variable alike (the rate stays ``V/Q``), as in
the ``commission-calculator`` repo: effective quota ``Q·ramp·proration`` with
``proration = active days / period days``.

Everything is computed in exact rationals; only :attr:`CommissionResult.amount` is rounded (half
up, to the plan's ``places``, 2 by default).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from attrs import field, frozen

from perfcore.domain.accounts import non_negative, optional_non_negative
from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import InvalidValue
from perfcore.domain.objective import to_decimal
from perfcore.domain.values import as_decimal, quantize

__all__ = [
    "CommissionLine",
    "CommissionPlan",
    "CommissionResult",
    "CommissionTier",
    "Kicker",
    "TierMethod",
    "prorata_clawback_amount",
    "prorata_clawback_fraction",
    "proration_factor",
]


class TierMethod(enum.StrEnum):
    """How tier multipliers apply to the credited amount (module docstring)."""

    MARGINAL = "marginal"
    RETROACTIVE = "retroactive"
    BASE_PLUS_OVERAGE = "base_plus_overage"


def _c_method(value: object) -> TierMethod:
    return parse_choice(TierMethod, value, field="method", what="tier method")


def _c_lower(value: object) -> Decimal:
    return as_decimal(value, field="lower")


def _c_multiplier(value: object) -> Decimal:
    return as_decimal(value, field="multiplier")


def _c_at(value: object) -> Decimal:
    return as_decimal(value, field="at")


def _c_share(value: object) -> Decimal:
    return as_decimal(value, field="share")


def _c_payout_cap(value: object) -> Decimal | None:
    return None if value is None else as_decimal(value, field="payout_cap")


def _c_payout_cap_multiple(value: object) -> Decimal | None:
    return None if value is None else as_decimal(value, field="payout_cap_multiple")


def _c_attainment_cap(value: object) -> Decimal | None:
    return None if value is None else as_decimal(value, field="attainment_cap")


def _frac(d: Decimal) -> Fraction:
    return Fraction(d)


def _round(f: Fraction, places: int) -> Decimal:
    """Round an exact rational half away from zero to ``places`` decimals, exactly."""
    scale = 10**places
    scaled = abs(f) * scale
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    out = Decimal(whole).scaleb(-places)
    return -out if f < 0 else out


@frozen
class CommissionTier:
    """One attainment band starting at ``lower`` (a fraction: ``0.5`` = 50 % of quota).

    The band ends where the next one starts; the last is open-ended. ``multiplier`` ≥ 0 scales the
    base rate. ``retroactive`` only matters for :attr:`TierMethod.MARGINAL` (module docstring).
    """

    lower: Decimal = field(converter=_c_lower)
    multiplier: Decimal = field(converter=_c_multiplier)
    retroactive: bool = False


@frozen
class Kicker:
    """A one-off bonus of ``share`` × target variable once attainment reaches ``at``."""

    at: Decimal = field(converter=_c_at)
    share: Decimal = field(converter=_c_share)


@frozen
class CommissionLine:
    """One row of the explanation: ``base`` (money) paid at ``rate × multiplier`` = ``amount``.

    ``amount`` is exact (not rounded); ``label`` says which band / part it is.
    """

    label: str
    base: Decimal
    multiplier: Decimal
    amount: Decimal


@frozen
class CommissionResult:
    """Outcome of :meth:`CommissionPlan.compute`.

    Attributes:
        amount: the payout, rounded half-up to the plan's places (currency units).
        exact: the payout before rounding (28 significant digits if not terminating).
        attainment: credited / effective quota (fraction, 1 = 100 %).
        effective_quota: quota × ramp × proration.
        rate: effective base rate ``r``.
        lines: the slices / parts that make up the payout, then kickers.
        capped: True when a payout or attainment cap reduced the amount.
    """

    amount: Decimal
    exact: Decimal
    attainment: Decimal
    effective_quota: Decimal
    rate: Decimal
    lines: tuple[CommissionLine, ...]
    capped: bool


def _check_tiers(tiers: Sequence[CommissionTier]) -> None:
    if not tiers:
        raise InvalidValue(
            "a commission plan needs at least one tier",
            field="tiers",
            valid="tiers starting at lower=0",
        )
    if tiers[0].lower != 0:
        raise InvalidValue(
            f"the first tier must start at 0, got {tiers[0].lower}",
            field="tiers[0].lower",
            valid="0",
        )
    for i, t in enumerate(tiers):
        if t.multiplier < 0:
            raise InvalidValue(
                f"negative multiplier {t.multiplier}",
                field=f"tiers[{i}].multiplier",
                valid="a multiplier >= 0 (below 1 is a decelerator)",
            )
        if i and t.lower <= tiers[i - 1].lower:
            raise InvalidValue(
                f"tier lower bounds must increase: {tiers[i - 1].lower} then {t.lower}",
                field=f"tiers[{i}].lower",
                valid=f"a value > {tiers[i - 1].lower}",
            )


@frozen
class CommissionPlan:
    """A commission plan: tier method + tiers + kickers + caps.

    Attributes:
        method: :class:`TierMethod` (named explicitly; there is no default).
        tiers: attainment bands, first at 0, strictly increasing ``lower``.
        kickers: milestone bonuses (share of the target variable), cumulative.
        payout_cap: maximum payout in currency units, or ``None``.
        payout_cap_multiple: maximum payout as a multiple of the (effective) target variable.
        attainment_cap: credited bookings above ``quota × attainment_cap`` earn nothing.
        places: decimals of the rounded payout (2 for cents).

    Raises:
        InvalidValue: tiers empty / not starting at 0 / not increasing (``tiers[i].lower``),
            negative multipliers (``tiers[i].multiplier``), negative caps, kicker shares or rates.
    """

    method: TierMethod = field(converter=_c_method)
    tiers: tuple[CommissionTier, ...] = field(converter=tuple)
    kickers: tuple[Kicker, ...] = field(default=(), converter=tuple)
    payout_cap: Decimal | None = field(default=None, converter=_c_payout_cap)
    payout_cap_multiple: Decimal | None = field(default=None, converter=_c_payout_cap_multiple)
    attainment_cap: Decimal | None = field(default=None, converter=_c_attainment_cap)
    places: int = 2

    def __attrs_post_init__(self) -> None:
        _check_tiers(self.tiers)
        optional_non_negative(self.payout_cap, field="payout_cap")
        optional_non_negative(self.payout_cap_multiple, field="payout_cap_multiple")
        if self.attainment_cap is not None and self.attainment_cap <= 0:
            raise InvalidValue(
                f"attainment_cap must be > 0, got {self.attainment_cap}",
                field="attainment_cap",
                valid="a fraction > 0 (3 = 300 % of quota)",
            )
        for i, k in enumerate(self.kickers):
            if k.share < 0 or k.at < 0:
                raise InvalidValue(
                    "kicker milestone and share must be >= 0",
                    field=f"kickers[{i}].share" if k.share < 0 else f"kickers[{i}].at",
                    valid="numbers >= 0",
                )
        if not 0 <= self.places <= 6:
            raise InvalidValue(
                f"places must be 0..6, got {self.places}", field="places", valid="0..6"
            )

    # ---------------------------------------------------------------- computation
    def compute(
        self,
        *,
        quota: object,
        credited: object,
        rate: object | None = None,
        target_variable: object | None = None,
        ramp: object = 1,
        proration: object = 1,
    ) -> CommissionResult:
        """Commission for one subject and period.

        Args:
            quota: the full-period quota ``Q`` (> 0), currency units.
            credited: credited bookings ``B`` (≥ 0; negative credits net out before this call).
            rate: base rate ``r`` (≥ 0), or
            target_variable: ``V`` (≥ 0) so that ``r = V/Q``. Give exactly one; kickers and
                ``payout_cap_multiple`` need ``V``.
            ramp: new-hire ramp factor in (0, 1] (e.g. 0.5 in month two).
            proration: active days / period days in (0, 1] (see :func:`proration_factor`).

        Raises:
            InvalidValue: each bad argument by name, with the valid range.
        """
        q = _frac(_positive(quota, "quota"))
        b = _frac(non_negative(credited, field="credited"))
        ramp_f = _frac(_unit_interval(ramp, "ramp"))
        pro_f = _frac(_unit_interval(proration, "proration"))
        if (rate is None) == (target_variable is None):
            raise InvalidValue(
                "give exactly one of rate or target_variable",
                field="rate",
                valid="rate >= 0, or target_variable >= 0 with rate = V / quota",
            )
        v: Fraction | None = None
        if rate is not None:
            r = _frac(non_negative(rate, field="rate"))
        else:
            v = _frac(non_negative(target_variable, field="target_variable"))
            r = v / q
        if v is None and (self.kickers or self.payout_cap_multiple is not None):
            raise InvalidValue(
                "kickers and payout_cap_multiple are shares of the target variable",
                field="target_variable",
                valid="target_variable >= 0 for this plan",
            )
        qe = q * ramp_f * pro_f
        ve = None if v is None else v * ramp_f * pro_f
        capped = False
        if self.attainment_cap is not None and b > qe * _frac(self.attainment_cap):
            b = qe * _frac(self.attainment_cap)
            capped = True
        a = b / qe
        lines = self._lines(a, b, qe, r)
        total = sum((line[3] for line in lines), Fraction(0))
        for k in sorted(self.kickers, key=lambda x: x.at):
            if ve is not None and a >= _frac(k.at):
                bonus = _frac(k.share) * ve
                lines.append((f"kicker at {k.at}", ve, _frac(k.share), bonus))
                total += bonus
        caps = []
        if self.payout_cap is not None:
            caps.append(_frac(self.payout_cap))
        if self.payout_cap_multiple is not None and ve is not None:
            caps.append(_frac(self.payout_cap_multiple) * ve)
        if caps and total > min(caps):
            total = min(caps)
            capped = True
        return CommissionResult(
            amount=_round(total, self.places),
            exact=to_decimal(total),
            attainment=to_decimal(a),
            effective_quota=to_decimal(qe),
            rate=to_decimal(r),
            lines=tuple(
                CommissionLine(label, to_decimal(base), to_decimal(m), to_decimal(amt))
                for label, base, m, amt in lines
            ),
            capped=capped,
        )

    def _band(self, a: Fraction) -> int:
        k = 0
        for i, t in enumerate(self.tiers):
            if a >= _frac(t.lower):
                k = i
        return k

    def _lines(
        self, a: Fraction, b: Fraction, qe: Fraction, r: Fraction
    ) -> list[tuple[str, Fraction, Fraction, Fraction]]:
        tiers = self.tiers
        band = self._band(a)
        m_at = _frac(tiers[band].multiplier)
        if self.method is TierMethod.RETROACTIVE:
            return [(f"all credited at tier {band} ({tiers[band].lower}+)", b, m_at, b * r * m_at)]
        if self.method is TierMethod.BASE_PLUS_OVERAGE:
            if a < 1:
                return [(f"below quota at tier {band}", b, m_at, b * r * m_at)]
            over = b - qe
            return [
                ("base to quota", qe, Fraction(1), qe * r),
                (f"overage at tier {band}", over, m_at, over * r * m_at),
            ]
        # marginal, with optional retroactive re-rating below the highest reached flagged band
        lift = max(
            (i for i, t in enumerate(tiers) if t.retroactive and a >= _frac(t.lower)), default=-1
        )
        out: list[tuple[str, Fraction, Fraction, Fraction]] = []
        for i, t in enumerate(tiers):
            lo = qe * _frac(t.lower)
            hi = qe * _frac(tiers[i + 1].lower) if i + 1 < len(tiers) else None
            top = b if hi is None else min(b, hi)
            piece = max(Fraction(0), top - lo)
            if piece == 0:
                continue
            m = _frac(tiers[lift].multiplier) if i <= lift else _frac(t.multiplier)
            label = f"slice {t.lower}+" if hi is None else f"slice {t.lower}-{tiers[i + 1].lower}"
            if i < lift:
                label += f" (re-rated at tier {lift})"
            out.append((label, piece, m, piece * r * m))
        return out


def _positive(value: object, name: str) -> Decimal:
    d = as_decimal(value, field=name)
    if d <= 0:
        raise InvalidValue(f"{name} must be > 0, got {d}", field=name, valid="a number > 0")
    return d


def _unit_interval(value: object, name: str) -> Decimal:
    d = as_decimal(value, field=name)
    if not 0 < d <= 1:
        raise InvalidValue(f"{name} must be in (0, 1], got {d}", field=name, valid="0 < x <= 1")
    return d


def proration_factor(active_days: int, period_days: int) -> Decimal:
    """``active_days / period_days``, exact to 28 digits.

    Raises:
        InvalidValue: ``period_days`` ≤ 0 or ``active_days`` outside ``1..period_days``.
    """
    if period_days <= 0:
        raise InvalidValue(
            f"period_days must be > 0, got {period_days}", field="period_days", valid="> 0"
        )
    if not 0 < active_days <= period_days:
        raise InvalidValue(
            f"active_days must be in 1..{period_days}, got {active_days}",
            field="active_days",
            valid=f"1..{period_days}",
        )
    return to_decimal(Fraction(active_days, period_days))


def prorata_clawback_fraction(months_active: object, term_months: object) -> Decimal:
    """Share of a commission to take back when a contract ends early: ``1 − active/term``.

    Pro-rata clawback as in https://getgangly.com/blog/sales-clawback: a 12-month contract
    cancelled after 6 months → 0.5.

    Raises:
        InvalidValue: ``term_months`` ≤ 0 or ``months_active`` outside ``[0, term_months]``.
    """
    term = _positive(term_months, "term_months")
    active = non_negative(months_active, field="months_active")
    if active > term:
        raise InvalidValue(
            f"months_active {active} exceeds the term {term}",
            field="months_active",
            valid=f"0..{term}",
        )
    return to_decimal(1 - Fraction(active) / Fraction(term))


def prorata_clawback_amount(
    commission: object, months_active: object, term_months: object, *, places: int = 2
) -> Decimal:
    """``commission × (1 − active/term)`` rounded half-up to ``places`` (cents by default).

    Raises:
        InvalidValue: as :func:`prorata_clawback_fraction`; ``commission`` < 0.
    """
    c = Fraction(non_negative(commission, field="commission"))
    term = Fraction(_positive(term_months, "term_months"))
    active = Fraction(non_negative(months_active, field="months_active"))
    prorata_clawback_fraction(months_active, term_months)  # validates the range
    return quantize(_round(c * (1 - active / term), places), places)
