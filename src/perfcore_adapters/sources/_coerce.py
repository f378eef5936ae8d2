"""Value coercion shared by the file, REST and SQL sources.

``coerce(value, type, options)`` turns raw cell/JSON/column values into the port's value types:
``Decimal`` (number), ``str`` (text), ``bool``, ``date``, aware ``datetime``, ``timedelta``
(duration). A value that cannot be coerced raises :class:`CoercionError` whose message says what
was found and what would be valid; callers turn it into a per-row rejection.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from attrs import frozen

from perfcore.ports.sources import FieldType

__all__ = ["CoercionError", "CoercionOptions", "coerce"]

_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "对", "真"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "错", "假"})
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_CLOCK = re.compile(r"^(?P<h>\d+):(?P<m>[0-5]?\d)(:(?P<s>[0-5]?\d(\.\d+)?))?$")
_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class CoercionError(ValueError):
    """A value that does not fit its declared type (message says what is valid)."""


@frozen
class CoercionOptions:
    """How to read text values.

    Attributes:
        decimal_comma: ``1.234,5`` means 1234.5 (European/Excel-DE exports).
        tz: zone for naive datetimes and for dates used as instants.
    """

    decimal_comma: bool = False
    tz: tzinfo | None = None


def _number(value: object, options: CoercionOptions) -> Decimal:
    if isinstance(value, bool):
        raise CoercionError(f"expected a number, got boolean {value}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CoercionError(f"expected a finite number, got {value}")
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if options.decimal_comma:
        if _THOUSANDS_DOT.match(text):
            text = text.replace(".", "")
        text = text.replace(",", ".")
    elif _THOUSANDS_COMMA.match(text):
        text = text.replace(",", "")
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    try:
        number = Decimal(text)
    except InvalidOperation:
        hint = "1.234,5" if options.decimal_comma else "1234.5"
        raise CoercionError(f"expected a number like {hint}, got {value!r}") from None
    if not number.is_finite():
        raise CoercionError(f"expected a finite number, got {value!r}")
    return number / 100 if percent else number


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CoercionError(f"expected a boolean (true/false, yes/no, 1/0, 是/否), got {value!r}")


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in " T" else text)
    except ValueError:
        parts = text.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                pass
        raise CoercionError(f"expected a date like 2025-03-01, got {value!r}") from None


def _datetime(value: object, options: CoercionOptions) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        text = str(value).strip()
        if len(text) >= 10 and text[4] in "/." and text[7] in "/.":
            text = f"{text[:4]}-{text[5:7]}-{text[8:10]}{text[10:]}"
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise CoercionError(
                f"expected a date-time like 2025-03-01T08:00:00+08:00, got {value!r}"
            ) from None
    if parsed.tzinfo is None:
        if options.tz is None:
            raise CoercionError(f"date-time {value!r} has no offset and no timezone is set")
        parsed = parsed.replace(tzinfo=options.tz)
    return parsed


def _duration(value: object, options: CoercionOptions) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, time):
        return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
    text = str(value).strip()
    clock = _CLOCK.match(text)
    if clock:
        return timedelta(
            hours=int(clock["h"]), minutes=int(clock["m"]), seconds=float(clock["s"] or 0)
        )
    iso = _ISO_DURATION.match(text)
    if iso and text not in ("P", "PT"):
        return timedelta(
            days=float(iso["d"] or 0),
            hours=float(iso["h"] or 0),
            minutes=float(iso["m"] or 0),
            seconds=float(iso["s"] or 0),
        )
    try:
        seconds = _number(value, options)
    except CoercionError:
        raise CoercionError(
            f"expected a duration (seconds, HH:MM:SS or ISO-8601 PT1H30M), got {value!r}"
        ) from None
    return timedelta(seconds=float(seconds))


def coerce(value: object, kind: FieldType, options: CoercionOptions = CoercionOptions()) -> object:
    """Coerce ``value`` to ``kind``; ``None`` and blank text become ``None``.

    Raises:
        CoercionError: the value does not fit ``kind``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind is FieldType.TEXT:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()
    if kind is FieldType.NUMBER:
        return _number(value, options)
    if kind is FieldType.BOOLEAN:
        return _boolean(value)
    if kind is FieldType.DATE:
        return _date(value)
    if kind is FieldType.DATETIME:
        return _datetime(value, options)
    return _duration(value, options)
