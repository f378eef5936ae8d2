"""Standard KPI formulas as pure functions (exact ``Decimal`` in and out).

* :mod:`perfcore.domain.kpi.iso22400` — ISO 22400-2 manufacturing operations KPIs (OEE, first
  pass yield, scrap ratio, ...).

A zero denominator gives ``None`` (no value), never an exception and never 0.
"""

__all__: list[str] = []
