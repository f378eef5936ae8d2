"""ISO 22400-2 key performance indicators for manufacturing operations management.

Every function takes the standard's *elements* (times, quantities) as numbers and returns an exact
``Decimal``, or ``None`` when the denominator is 0 (no value; never an exception, never 0). Times
must share one unit (minutes, seconds ...); ``pru`` is time per unit in that same unit.

Element abbreviations (ISO 22400-2:2014 §5; the same names are used by the public ISO 22400-2 OWL
ontology https://github.com/hsu-aut/IndustrialStandard-ODP-ISO22400-2 and by OPC UA MachineTool
Annex C, https://reference.opcfoundation.org/v105/MachineTool/v101/docs/C.2.4/): PBT planned busy
time, APT actual production time, AUPT actual unit processing time (APT + ASUT), ASUT actual setup
time, ADET actual unit delay time, AUBT actual unit busy time, AOET actual order execution time,
PRU planned run time per unit, APWT/APAT personnel work/attendance time, PQ produced, GQ good,
SQ scrap, RQ rework, PSQ planned scrap, GP good parts first pass, IP inspected parts, CM consumed
material, IGQ integrated good quantity, PL/STL/OL production / storage-transport / other loss,
EPC equipment production capacity, EC energy consumed, FE failure events, TBF/TTF/TTR time between
failures / to failure / to repair, CMT/PMT corrective/preventive maintenance time.

Aggregating across shifts or machines: **sum the elements, then call the function** — never
average the percentages. ISO 22400-2 defines every KPI as a formula over its elements, so the KPI
of a larger scope is the formula applied to that scope's elements; a plain mean of per-shift
percentages weights a 60-minute shift like a 480-minute one (availability of 420/480 and 30/60
averages to 0.6875, while the two shifts together ran 450 of 540 minutes, 0.8333).

Raises (every function):
    InvalidValue: an element that is not a finite number, or a negative time/quantity; the field
        is the element's abbreviation (``APT``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from attrs import frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import as_decimal

__all__ = [
    "OeeBreakdown",
    "actual_to_planned_scrap_ratio",
    "allocation_efficiency",
    "allocation_ratio",
    "availability",
    "comprehensive_energy_consumption",
    "corrective_maintenance_ratio",
    "critical_machine_capability",
    "critical_process_capability",
    "effectiveness",
    "equipment_load_ratio",
    "fall_off_ratio",
    "finished_goods_ratio",
    "first_pass_yield",
    "integrated_goods_ratio",
    "inventory_turns",
    "machine_capability",
    "mtbf",
    "mttf",
    "mttr",
    "nee_index",
    "oee",
    "oee_breakdown",
    "oee_index",
    "other_loss_ratio",
    "process_capability",
    "production_loss_ratio",
    "production_process_ratio",
    "quality_ratio",
    "rework_ratio",
    "scrap_ratio",
    "setup_rate",
    "storage_and_transportation_loss_ratio",
    "technical_efficiency",
    "throughput_rate",
    "utilization_efficiency",
    "worker_efficiency",
]

Number = Decimal | int | str | Fraction


def _el(value: object, name: str) -> Decimal:
    d = as_decimal(value, field=name)
    if d < 0:
        raise InvalidValue(
            f"{name} is {d}; ISO 22400 elements are times or quantities",
            field=name,
            valid="a number >= 0",
        )
    return d


def _div(numerator: Fraction, denominator: Fraction) -> Decimal | None:
    if denominator == 0:
        return None
    q = numerator / denominator
    return Decimal(q.numerator) / Decimal(q.denominator)


def _ratio(n: object, n_name: str, d: object, d_name: str) -> Decimal | None:
    return _div(Fraction(_el(n, n_name)), Fraction(_el(d, d_name)))


# --------------------------------------------------------------------------- time / OEE family


def worker_efficiency(apwt: Number, apat: Number) -> Decimal | None:
    """ISO 22400-2 worker efficiency = APWT / APAT (higher is better)."""
    return _ratio(apwt, "APWT", apat, "APAT")


def allocation_ratio(aubt: Number, aoet: Number) -> Decimal | None:
    """ISO 22400-2 allocation ratio = AUBT / AOET (may exceed 1 with overlapping orders)."""
    return _ratio(aubt, "AUBT", aoet, "AOET")


def throughput_rate(pq: Number, aoet: Number) -> Decimal | None:
    """ISO 22400-2 throughput rate = PQ / AOET (units per time unit; higher is better)."""
    return _ratio(pq, "PQ", aoet, "AOET")


def allocation_efficiency(aubt: Number, pbt: Number) -> Decimal | None:
    """ISO 22400-2 allocation efficiency = AUBT / PBT (higher is better)."""
    return _ratio(aubt, "AUBT", pbt, "PBT")


def utilization_efficiency(apt: Number, aubt: Number) -> Decimal | None:
    """ISO 22400-2 utilization efficiency = APT / AUBT (higher is better)."""
    return _ratio(apt, "APT", aubt, "AUBT")


def availability(apt: Number, pbt: Number) -> Decimal | None:
    """ISO 22400-2 availability = APT / PBT (higher is better).

    Example (waycalculator's OEE calculator,
    https://waycalculator.com/tool/Overall-Equipment-Effectiveness-OEE-Calculator.php): APT 420 min,
    PBT 480 min → 0.875.
    """
    return _ratio(apt, "APT", pbt, "PBT")


def effectiveness(pru: Number, pq: Number, apt: Number) -> Decimal | None:
    """ISO 22400-2 effectiveness = PRU · PQ / APT (higher is better; may exceed 1).

    A value above 1 usually means the planned run time per unit is wrong
    (:func:`oee_breakdown` flags it). Example (§3.3 T5): PRU 0.1 min, PQ 1 050, APT 120 min →
    0.875.
    """
    p, q, a = _el(pru, "PRU"), _el(pq, "PQ"), _el(apt, "APT")
    return _div(Fraction(p) * Fraction(q), Fraction(a))


def quality_ratio(gq: Number, pq: Number) -> Decimal | None:
    """ISO 22400-2 quality ratio = GQ / PQ (higher is better)."""
    return _ratio(gq, "GQ", pq, "PQ")


def oee(
    availability: Decimal | None, effectiveness: Decimal | None, quality_ratio: Decimal | None
) -> Decimal | None:
    """ISO 22400-2 OEE index = availability · effectiveness · quality ratio (higher is better).

    ``None`` if any factor is ``None``. Prefer :func:`oee_index` from elements: it is exact even
    where a factor is a repeating fraction.
    """
    if availability is None or effectiveness is None or quality_ratio is None:
        return None
    return availability * effectiveness * quality_ratio


def oee_index(pbt: Number, apt: Number, pru: Number, pq: Number, gq: Number) -> Decimal | None:
    """ISO 22400-2 OEE index from elements, exactly: (APT/PBT)·(PRU·PQ/APT)·(GQ/PQ).

    Example (waycalculator's OEE calculator, see :func:`availability`): PBT 480, APT 420, PRU 1,
    PQ 400, GQ 380 → 380/480 = 0.791667 (6 dp). ``None`` when PBT, APT or PQ is 0.
    """
    b, a, r, p, g = (
        Fraction(_el(pbt, "PBT")),
        Fraction(_el(apt, "APT")),
        Fraction(_el(pru, "PRU")),
        Fraction(_el(pq, "PQ")),
        Fraction(_el(gq, "GQ")),
    )
    if b == 0 or a == 0 or p == 0:
        return None
    return _div((a / b) * (r * p / a) * (g / p), Fraction(1))


def nee_index(
    pbt: Number, aupt: Number, apt: Number, pru: Number, pq: Number, gq: Number
) -> Decimal | None:
    """ISO 22400-2 NEE index = (AUPT / PBT) · effectiveness · quality ratio (higher is better).

    Unlike OEE, setup time (inside AUPT = APT + ASUT) is not an availability loss.
    """
    b, u, a, r, p, g = (
        Fraction(_el(pbt, "PBT")),
        Fraction(_el(aupt, "AUPT")),
        Fraction(_el(apt, "APT")),
        Fraction(_el(pru, "PRU")),
        Fraction(_el(pq, "PQ")),
        Fraction(_el(gq, "GQ")),
    )
    if b == 0 or a == 0 or p == 0:
        return None
    return _div((u / b) * (r * p / a) * (g / p), Fraction(1))


@frozen
class OeeBreakdown:
    """OEE with its three factors and warnings (e.g. effectiveness above 1)."""

    availability: Decimal | None
    effectiveness: Decimal | None
    quality_ratio: Decimal | None
    oee: Decimal | None
    warnings: tuple[str, ...]


def oee_breakdown(pbt: Number, apt: Number, pru: Number, pq: Number, gq: Number) -> OeeBreakdown:
    """Availability, effectiveness, quality ratio and OEE (ISO 22400-2) in one call.

    Warns when effectiveness exceeds 1 (usually a wrong PRU) or good quantity exceeds produced
    quantity (auditability guidance at
    https://connect981.com/faqs/how-can-we-make-iso-22400-kpi-calculations-auditable).
    """
    a = availability(apt, pbt)
    e = effectiveness(pru, pq, apt)
    q = quality_ratio(gq, pq)
    warnings: list[str] = []
    if e is not None and e > 1:
        warnings.append(
            f"effectiveness {e:.4f} is above 1: check the planned run time per unit (PRU)"
        )
    if _el(gq, "GQ") > _el(pq, "PQ"):
        warnings.append("good quantity GQ exceeds produced quantity PQ")
    if _el(apt, "APT") > _el(pbt, "PBT"):
        warnings.append("actual production time APT exceeds planned busy time PBT")
    return OeeBreakdown(a, e, q, oee_index(pbt, apt, pru, pq, gq), tuple(warnings))


def setup_rate(asut: Number, aupt: Number) -> Decimal | None:
    """ISO 22400-2 setup rate = ASUT / AUPT (lower is better)."""
    return _ratio(asut, "ASUT", aupt, "AUPT")


def technical_efficiency(apt: Number, adet: Number) -> Decimal | None:
    """ISO 22400-2 technical efficiency = APT / (APT + ADET) (higher is better)."""
    a, d = Fraction(_el(apt, "APT")), Fraction(_el(adet, "ADET"))
    return _div(a, a + d)


def production_process_ratio(apt: Number, aoet: Number) -> Decimal | None:
    """ISO 22400-2 production process ratio = APT / AOET (higher is better)."""
    return _ratio(apt, "APT", aoet, "AOET")


# --------------------------------------------------------------------------- quantity family


def scrap_ratio(sq: Number, pq: Number) -> Decimal | None:
    """ISO 22400-2 scrap ratio = SQ / PQ (lower is better)."""
    return _ratio(sq, "SQ", pq, "PQ")


def rework_ratio(rq: Number, pq: Number) -> Decimal | None:
    """ISO 22400-2 rework ratio = RQ / PQ (lower is better)."""
    return _ratio(rq, "RQ", pq, "PQ")


def fall_off_ratio(sq_first: Number, pq_first: Number) -> Decimal | None:
    """ISO 22400-2 fall-off ratio = SQ / PQ of the first production order sequence (lower is
    better)."""
    return _ratio(sq_first, "SQ", pq_first, "PQ")


def actual_to_planned_scrap_ratio(sq: Number, psq: Number) -> Decimal | None:
    """ISO 22400-2 actual to planned scrap ratio = SQ / PSQ (below 1 = within plan; lower is
    better)."""
    return _ratio(sq, "SQ", psq, "PSQ")


def first_pass_yield(gp: Number, ip: Number) -> Decimal | None:
    """ISO 22400-2 first pass yield = GP / IP (higher is better).

    Over many inspections this is the ratio of the summed GP and IP, never the mean of per-lot
    yields (ISO 22400-2 defines the KPI over the elements; see the module docstring).
    """
    return _ratio(gp, "GP", ip, "IP")


def finished_goods_ratio(gq: Number, cm: Number) -> Decimal | None:
    """ISO 22400-2 finished goods ratio = GQ / CM (higher is better)."""
    return _ratio(gq, "GQ", cm, "CM")


def integrated_goods_ratio(igq: Number, cm: Number) -> Decimal | None:
    """ISO 22400-2 integrated goods ratio = IGQ / CM (higher is better)."""
    return _ratio(igq, "IGQ", cm, "CM")


def production_loss_ratio(pl: Number, cm: Number) -> Decimal | None:
    """ISO 22400-2 production loss ratio = PL / CM (lower is better)."""
    return _ratio(pl, "PL", cm, "CM")


def storage_and_transportation_loss_ratio(stl: Number, cm: Number) -> Decimal | None:
    """ISO 22400-2 storage and transportation loss ratio = STL / CM (lower is better)."""
    return _ratio(stl, "STL", cm, "CM")


def other_loss_ratio(ol: Number, cm: Number) -> Decimal | None:
    """ISO 22400-2 other loss ratio = OL / CM (lower is better)."""
    return _ratio(ol, "OL", cm, "CM")


def equipment_load_ratio(pq: Number, epc: Number) -> Decimal | None:
    """ISO 22400-2 equipment load ratio = PQ / EPC (higher is better up to rated capacity)."""
    return _ratio(pq, "PQ", epc, "EPC")


def comprehensive_energy_consumption(ec: Number, pq: Number) -> Decimal | None:
    """ISO 22400-2 (Amd 1) comprehensive energy consumption = EC / PQ (lower is better)."""
    return _ratio(ec, "EC", pq, "PQ")


def inventory_turns(throughput: Number, average_inventory: Number) -> Decimal | None:
    """ISO 22400-2 inventory turns = throughput / average inventory (higher is better)."""
    return _ratio(throughput, "throughput", average_inventory, "average_inventory")


# --------------------------------------------------------------------------- maintenance


def _mean_time(times: Iterable[Number], fe: Number, name: str) -> Decimal | None:
    total = sum((Fraction(_el(t, name)) for t in times), Fraction(0))
    return _div(total, Fraction(_el(fe, "FE")))


def mtbf(tbf: Iterable[Number], fe: Number) -> Decimal | None:
    """ISO 22400-2 mean time between failures = Σ TBFᵢ / FE (higher is better)."""
    return _mean_time(tbf, fe, "TBF")


def mttf(ttf: Iterable[Number], fe: Number) -> Decimal | None:
    """ISO 22400-2 mean time to failure = Σ TTFᵢ / FE (higher is better)."""
    return _mean_time(ttf, fe, "TTF")


def mttr(ttr: Iterable[Number], fe: Number) -> Decimal | None:
    """ISO 22400-2 mean time to repair = Σ TTRᵢ / FE (lower is better)."""
    return _mean_time(ttr, fe, "TTR")


def corrective_maintenance_ratio(cmt: Number, pmt: Number) -> Decimal | None:
    """ISO 22400-2 corrective maintenance ratio = CMT / (CMT + PMT) (lower is better)."""
    c, p = Fraction(_el(cmt, "CMT")), Fraction(_el(pmt, "PMT"))
    return _div(c, c + p)


# --------------------------------------------------------------------------- capability


def _limits(usl: Number, lsl: Number) -> tuple[Fraction, Fraction]:
    u, lo = as_decimal(usl, field="USL"), as_decimal(lsl, field="LSL")
    if u <= lo:
        raise InvalidValue(
            f"upper specification limit {u} is not above the lower {lo}",
            field="USL",
            valid=f"USL > LSL ({lo})",
        )
    return Fraction(u), Fraction(lo)


def _spread_index(usl: Number, lsl: Number, sigma: Number, name: str) -> Decimal | None:
    """(USL − LSL) / (6·σ): the shared form of Cm and Cp."""
    u, lo = _limits(usl, lsl)
    return _div(u - lo, 6 * Fraction(_el(sigma, name)))


def _critical_index(
    usl: Number, lsl: Number, mean: Number, sigma: Number, name: str
) -> Decimal | None:
    """min(USL − mean, mean − LSL) / (3·σ): the shared form of Cmk and Cpk."""
    u, lo = _limits(usl, lsl)
    m = Fraction(as_decimal(mean, field="mean"))
    return _div(min(u - m, m - lo), 3 * Fraction(_el(sigma, name)))


def machine_capability(usl: Number, lsl: Number, s: Number) -> Decimal | None:
    """ISO 22400-2 machine capability index Cm = (USL − LSL) / (6·s) (higher is better)."""
    return _spread_index(usl, lsl, s, "s")


def critical_machine_capability(
    usl: Number, lsl: Number, mean: Number, s: Number
) -> Decimal | None:
    """ISO 22400-2 critical machine capability Cmk = min(USL − x̄, x̄ − LSL) / (3·s)."""
    return _critical_index(usl, lsl, mean, s, "s")


def process_capability(usl: Number, lsl: Number, s_hat: Number) -> Decimal | None:
    """ISO 22400-2 process capability index Cp = (USL − LSL) / (6·ŝ) (higher is better)."""
    return _spread_index(usl, lsl, s_hat, "s_hat")


def critical_process_capability(
    usl: Number, lsl: Number, mean: Number, s_hat: Number
) -> Decimal | None:
    """ISO 22400-2 critical process capability Cpk = min(USL − x̿, x̿ − LSL) / (3·ŝ)."""
    return _critical_index(usl, lsl, mean, s_hat, "s_hat")
