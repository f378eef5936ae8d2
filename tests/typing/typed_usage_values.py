"""Checked by ``mypy --strict`` (nox -s typing), not run by pytest: the public value API is typed
the way an embedding application would use it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from perfcore.domain.values import Period, SubjectRef, as_decimal, quantize

month: Period = Period.month(2025, 3)
key: str = month.key
inside: bool = month.contains(dt.datetime(2025, 3, 5, tzinfo=dt.UTC), dt.UTC)
who: SubjectRef = SubjectRef.parse("person:E1")
score: Decimal = quantize(as_decimal("3.8499"), 3)
