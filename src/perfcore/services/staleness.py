"""Which scorecards a piece of evidence makes stale, beyond the period it falls in.

A cumulative indicator (``Cumulative``: a trailing ``window``, ``grain_to_date`` or all time up to
the end of the period) of a *later* period reads rows of earlier days. Late evidence on such a day
therefore changes those later periods too: :func:`later_periods_reaching` lists them (the caller
keeps the ones already scored). Windows only move forward with the period, so the walk stops at
the first later period whose window starts after the day.

Used by the application layer (:mod:`perfcore.services.handlers.evidence`) and by the SQL
adapter's incremental refresh (``perfcore_adapters.sqlalchemy.refresh.dirty_pairs``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from perfcore.domain.indicator import Cumulative
from perfcore.domain.values import Period
from perfcore.plan import Plan

__all__ = ["has_cumulative", "later_periods_reaching"]

_NO_REACH = dt.date.max  # a period whose plan has no cumulative indicator reaches no earlier day


def has_cumulative(plan: Plan) -> bool:
    """True when any indicator (any version) of ``plan`` is cumulative."""
    return any(
        isinstance(v.definition, Cumulative)
        for ind in plan.indicators.values()
        for v in ind.versions
    )


def _first_date(plan: Plan, period: Period) -> dt.date | None:
    """The earliest local date a cumulative indicator of ``period`` reads (``None``: all time;
    ``date.max``: it has none)."""
    first = _NO_REACH
    for version in plan.versions_for(period).values():
        d = version.definition
        if not isinstance(d, Cumulative):
            continue
        start = d.first_date(period)
        if start is None:
            return None
        first = min(first, start)
    return first


def later_periods_reaching(plan: Plan, day: dt.date, until: dt.date) -> Iterator[Period]:
    """Periods of the plan's grain after the one containing ``day`` and starting on or before
    ``until`` whose cumulative indicators read rows of ``day``; in time order. Nothing when the
    plan has no cumulative indicator."""
    if not has_cumulative(plan):
        return
    period = Period.containing(plan.period_kind, day).next()
    while period.start <= until:
        first = _first_date(plan, period)
        if first is None or first <= day:
            yield period
        elif first != _NO_REACH:
            return  # windows move forward: no later period reaches back to ``day`` either
        period = period.next()
