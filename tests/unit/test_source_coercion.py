"""Value coercion used by the file/REST/SQL sources."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.ports.sources import FieldType
from perfcore_adapters.sources._coerce import CoercionError, CoercionOptions, coerce

EUROPEAN = CoercionOptions(decimal_comma=True)


def _european(value: Decimal) -> str:
    """Format like a German Excel export: 1.234.567,89."""
    sign = "-" if value < 0 else ""
    whole, _, frac = f"{abs(value):f}".partition(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{frac}" if frac else f"{sign}{groups}"


@settings(max_examples=150, deadline=None)
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_decimal_comma_numbers_read_back_exactly(value: Decimal) -> None:
    assert coerce(_european(value), FieldType.NUMBER, EUROPEAN) == value


@settings(max_examples=150, deadline=None)
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False))
def test_thousands_commas_are_accepted_in_point_decimal_files(value: Decimal) -> None:
    assert coerce(f"{value:,f}", FieldType.NUMBER) == value


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("是", FieldType.BOOLEAN, True),
        ("否", FieldType.BOOLEAN, False),
        ("Yes", FieldType.BOOLEAN, True),
        ("2025/03/01", FieldType.DATE, date(2025, 3, 1)),
        ("2025.03.01", FieldType.DATE, date(2025, 3, 1)),
        ("90", FieldType.DURATION, timedelta(seconds=90)),
        ("P1DT2H", FieldType.DURATION, timedelta(days=1, hours=2)),
        (3.0, FieldType.TEXT, "3"),
        (120.0, FieldType.NUMBER, Decimal(120)),
        ("  ", FieldType.NUMBER, None),
    ],
)
def test_accepted_spellings(text: object, kind: FieldType, expected: object) -> None:
    assert coerce(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("maybe", FieldType.BOOLEAN),
        ("2025-02-30", FieldType.DATE),
        ("12x", FieldType.NUMBER),
        ("NaN", FieldType.NUMBER),
        ("2025-03-01T08:00", FieldType.DATETIME),  # no offset and no zone configured
        ("soon", FieldType.DURATION),
    ],
)
def test_rejected_values_say_what_would_be_valid(text: str, kind: FieldType) -> None:
    with pytest.raises(CoercionError) as info:
        coerce(text, kind)
    assert "expected" in str(info.value) or "no offset" in str(info.value)
