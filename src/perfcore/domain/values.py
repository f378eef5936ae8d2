"""Value objects shared by every aggregate: periods, instants, exact decimals, subjects, org units.

All values are immutable (frozen attrs classes) and validate on construction; invalid input raises a
typed :mod:`perfcore.domain.errors` error naming the field and the valid range.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import field, frozen

from perfcore.domain.errors import InvalidPeriod, InvalidValue, NotFound

__all__ = [
    "PERCENT_PLACES",
    "SCORE_PLACES",
    "OrgChart",
    "OrgUnit",
    "Period",
    "PeriodKind",
    "Person",
    "SubjectKind",
    "SubjectRef",
    "as_decimal",
    "ensure_aware",
    "quantize",
    "zone",
]

#: Decimal places used when a score is stored or presented (perfcore's rule: exact until then).
SCORE_PLACES: Final = 3
#: Decimal places used when a percentage is stored or presented.
PERCENT_PLACES: Final = 2


# --------------------------------------------------------------------------- decimals


def as_decimal(value: object, *, field: str = "value") -> Decimal:
    """Convert ``value`` to an exact :class:`~decimal.Decimal`.

    Accepts ``Decimal``, ``int``, ``Fraction`` (converted at 28 significant digits), ``str`` and
    ``float``. Floats go through ``repr`` so ``0.1`` becomes ``Decimal("0.1")``, not its binary
    expansion. ``bool``, NaN and infinities are refused.

    Raises:
        InvalidValue: the value is not a finite number; ``field`` names where it came from.
    """
    if isinstance(value, bool):
        raise InvalidValue(
            f"expected a number, got the boolean {value}",
            field=field,
            valid="a finite decimal number",
        )
    try:
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, int):
            result = Decimal(value)
        elif isinstance(value, float):
            result = Decimal(repr(value))
        elif isinstance(value, Fraction):
            result = Decimal(value.numerator) / Decimal(value.denominator)
        elif isinstance(value, str):
            result = Decimal(value.strip().replace("_", ""))
        else:
            raise InvalidValue(
                f"expected a number, got {type(value).__name__}",
                field=field,
                valid="a finite decimal number",
            )
    except InvalidOperation:
        raise InvalidValue(
            f"{value!r} is not a number", field=field, valid="a finite decimal number such as 12.5"
        ) from None
    if not result.is_finite():
        raise InvalidValue(f"{value!r} is not finite", field=field, valid="a finite decimal number")
    return result


def quantize(value: Decimal, places: int) -> Decimal:
    """Round ``value`` to ``places`` decimal places, half away from zero (ROUND_HALF_UP).

    This is perfcore's presentation/storage rounding: ``quantize(Decimal("2.0005"), 3)`` is
    ``Decimal("2.001")``. Computation stays exact; only call this at the edge.
    """
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- time


def zone(name: str, *, field: str = "time_zone") -> ZoneInfo:
    """Return the IANA time zone ``name`` (e.g. ``"Asia/Shanghai"``).

    Raises:
        InvalidValue: ``name`` is not a known IANA zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            f"unknown time zone {name!r}",
            field=field,
            valid="an IANA zone name such as 'Europe/Berlin' or 'UTC'",
        ) from None


def ensure_aware(instant: dt.datetime, *, field: str = "instant") -> dt.datetime:
    """Return ``instant`` unchanged if it is timezone-aware.

    Raises:
        InvalidValue: ``instant`` is naive (no tzinfo); perfcore never guesses a zone.
    """
    if instant.tzinfo is None or instant.tzinfo.utcoffset(instant) is None:
        raise InvalidValue(
            "naive datetime; perfcore needs timezone-aware instants",
            field=field,
            valid="a datetime with tzinfo, e.g. datetime(..., tzinfo=UTC)",
        )
    return instant


class PeriodKind(enum.StrEnum):
    """The grain of a :class:`Period`."""

    DAY = "day"
    WEEK = "week"  # ISO 8601 week, Monday to Sunday
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


_KEY_PATTERNS: Final = (
    (PeriodKind.DAY, re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    (PeriodKind.WEEK, re.compile(r"^(\d{4})-W(\d{2})$")),
    (PeriodKind.MONTH, re.compile(r"^(\d{4})-(\d{2})$")),
    (PeriodKind.QUARTER, re.compile(r"^(\d{4})-Q([1-4])$")),
    (PeriodKind.YEAR, re.compile(r"^(\d{4})$")),
    (PeriodKind.CUSTOM, re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")),
)

_PERIOD_SYNTAX: Final = (
    "YYYY-MM-DD (day), YYYY-Www (ISO week), YYYY-MM (month), YYYY-Qn (quarter), YYYY (year), "
    "or YYYY-MM-DD..YYYY-MM-DD (custom, both ends inclusive)"
)


def _check_end(instance: Period, attribute: object, value: dt.date) -> None:
    if value < instance.start:
        raise InvalidPeriod(
            f"end {value} is before start {instance.start}",
            field="period.end",
            valid=f"a date on or after {instance.start}",
        )


@frozen(order=True)
class Period:
    """A calendar period: an inclusive range of local dates ``[start, end]`` of a given kind.

    Periods are dates, not instants; the plan's time zone decides which local date an instant falls
    on (:meth:`contains`, :meth:`of_instant`). The canonical text form is :attr:`key`
    (``2025-03``, ``2025-W10``, ``2025-Q1``, ``2025``, ``2025-03-14``,
    ``2025-03-01..2025-03-15``), and :meth:`parse` reads it back.

    Prefer the named constructors: ``Period.month(2025, 3)``, ``Period.parse("2025-Q1")``.
    """

    start: dt.date
    end: dt.date = field(validator=_check_end)
    kind: PeriodKind = field(default=PeriodKind.CUSTOM, order=False)

    def __attrs_post_init__(self) -> None:
        if self.kind is PeriodKind.CUSTOM:
            return
        lo, hi = _canonical_range(self.kind, self.start)
        if (lo, hi) != (self.start, self.end):
            raise InvalidPeriod(
                f"{self.start}..{self.end} is not a whole {self.kind.value}",
                field="period",
                valid=f"{lo}..{hi} for {self.kind.value} {self.key}, or kind custom",
            )

    # -- named constructors -------------------------------------------------------------
    @classmethod
    def day(cls, date: dt.date) -> Period:
        """The single day ``date``."""
        return cls(date, date, PeriodKind.DAY)

    @classmethod
    def week(cls, iso_year: int, iso_week: int) -> Period:
        """ISO 8601 week ``iso_week`` of ``iso_year`` (Monday to Sunday).

        Raises:
            InvalidPeriod: the year has no such ISO week (most years have 52, some 53).
        """
        try:
            monday = dt.date.fromisocalendar(iso_year, iso_week, 1)
        except ValueError:
            raise InvalidPeriod(
                f"{iso_year} has no ISO week {iso_week}",
                field="period",
                valid="weeks 1-52, or 1-53 in long ISO years",
            ) from None
        return cls(monday, monday + dt.timedelta(days=6), PeriodKind.WEEK)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """Calendar month ``month`` (1-12) of ``year``.

        Raises:
            InvalidPeriod: ``month`` is not in 1..12.
        """
        if not 1 <= month <= 12:
            raise InvalidPeriod(
                f"month {month} does not exist", field="period.month", valid="1..12"
            )
        last = calendar.monthrange(year, month)[1]
        return cls(dt.date(year, month, 1), dt.date(year, month, last), PeriodKind.MONTH)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        """Calendar quarter ``quarter`` (1-4) of ``year``.

        Raises:
            InvalidPeriod: ``quarter`` is not in 1..4.
        """
        if not 1 <= quarter <= 4:
            raise InvalidPeriod(
                f"quarter {quarter} does not exist", field="period.quarter", valid="1..4"
            )
        first = 3 * (quarter - 1) + 1
        last_month = first + 2
        return cls(
            dt.date(year, first, 1),
            dt.date(year, last_month, calendar.monthrange(year, last_month)[1]),
            PeriodKind.QUARTER,
        )

    @classmethod
    def year(cls, year: int) -> Period:
        """Calendar year ``year``."""
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), PeriodKind.YEAR)

    @classmethod
    def custom(cls, start: dt.date, end: dt.date) -> Period:
        """Any inclusive date range; ``end`` must not precede ``start``."""
        return cls(start, end, PeriodKind.CUSTOM)

    @classmethod
    def containing(cls, kind: PeriodKind | str, date: dt.date) -> Period:
        """The period of grain ``kind`` that contains ``date``.

        Raises:
            InvalidPeriod: ``kind`` is unknown or ``custom`` (a custom range has no grain).
        """
        k = _period_kind(kind)
        if k is PeriodKind.DAY:
            return cls.day(date)
        if k is PeriodKind.WEEK:
            iso = date.isocalendar()
            return cls.week(iso.year, iso.week)
        if k is PeriodKind.MONTH:
            return cls.month(date.year, date.month)
        if k is PeriodKind.QUARTER:
            return cls.quarter(date.year, (date.month - 1) // 3 + 1)
        if k is PeriodKind.YEAR:
            return cls.year(date.year)
        raise InvalidPeriod(
            "a custom period has no grain to look up",
            field="period.kind",
            valid="day, week, month, quarter, year",
        )

    @classmethod
    def of_instant(cls, kind: PeriodKind | str, instant: dt.datetime, tz: dt.tzinfo) -> Period:
        """The period of grain ``kind`` containing ``instant`` seen in time zone ``tz``.

        Raises:
            InvalidValue: ``instant`` is naive.
        """
        ensure_aware(instant)
        return cls.containing(kind, instant.astimezone(tz).date())

    @classmethod
    def parse(cls, text: str, *, field: str = "period") -> Period:
        """Parse the canonical text form (see :attr:`key`).

        Raises:
            InvalidPeriod: ``text`` matches none of the forms, or names an impossible date.
        """
        raw = text.strip() if isinstance(text, str) else text
        if not isinstance(raw, str):
            raise InvalidPeriod(
                f"expected period text, got {type(text).__name__}",
                field=field,
                valid=_PERIOD_SYNTAX,
            )
        for kind, pattern in _KEY_PATTERNS:
            m = pattern.match(raw)
            if not m:
                continue
            try:
                if kind is PeriodKind.DAY:
                    return cls.day(dt.date(int(m[1]), int(m[2]), int(m[3])))
                if kind is PeriodKind.WEEK:
                    return cls.week(int(m[1]), int(m[2]))
                if kind is PeriodKind.MONTH:
                    return cls.month(int(m[1]), int(m[2]))
                if kind is PeriodKind.QUARTER:
                    return cls.quarter(int(m[1]), int(m[2]))
                if kind is PeriodKind.YEAR:
                    return cls.year(int(m[1]))
                start, end = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
                return cls.custom(start, end)
            except ValueError as exc:
                raise InvalidPeriod(
                    f"{raw!r} is not a real date ({exc})", field=field, valid=_PERIOD_SYNTAX
                ) from None
            except InvalidPeriod as exc:
                raise InvalidPeriod(
                    f"{raw!r}: {exc.message}", field=field, valid=exc.valid
                ) from None
        raise InvalidPeriod(f"{raw!r} is not a period", field=field, valid=_PERIOD_SYNTAX)

    # -- queries ------------------------------------------------------------------------
    @property
    def key(self) -> str:
        """Canonical, sortable-within-a-kind text form, e.g. ``2025-03`` or ``2025-W10``."""
        k = self.kind
        if k is PeriodKind.DAY:
            return self.start.isoformat()
        if k is PeriodKind.WEEK:
            iso = self.start.isocalendar()
            return f"{iso.year:04d}-W{iso.week:02d}"
        if k is PeriodKind.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if k is PeriodKind.QUARTER:
            return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        if k is PeriodKind.YEAR:
            return f"{self.start.year:04d}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def __str__(self) -> str:
        return self.key

    @property
    def days(self) -> int:
        """Number of calendar days in the period (inclusive)."""
        return (self.end - self.start).days + 1

    def contains_date(self, date: dt.date) -> bool:
        """True if local date ``date`` lies in ``[start, end]``."""
        return self.start <= date <= self.end

    def contains(self, instant: dt.datetime, tz: dt.tzinfo) -> bool:
        """True if aware ``instant``, seen in ``tz``, falls on a date of this period."""
        return self.contains_date(ensure_aware(instant).astimezone(tz).date())

    def bounds(self, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """Half-open instant bounds ``[start 00:00, day-after-end 00:00)`` in ``tz``."""
        lo = dt.datetime.combine(self.start, dt.time(), tzinfo=tz)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        return lo, hi

    def overlaps(self, other: Period) -> bool:
        """True if the two periods share at least one date."""
        return self.start <= other.end and other.start <= self.end

    def dates(self) -> Iterator[dt.date]:
        """Each date of the period in order."""
        d = self.start
        while d <= self.end:
            yield d
            d += dt.timedelta(days=1)

    def split(self, kind: PeriodKind | str) -> list[Period]:
        """The periods of grain ``kind`` that intersect this one, in order."""
        out: list[Period] = []
        d = self.start
        while d <= self.end:
            p = Period.containing(kind, d)
            out.append(p)
            d = p.end + dt.timedelta(days=1)
        return out

    def next(self) -> Period:
        """The following period of the same kind (a custom range shifts by its length)."""
        if self.kind is PeriodKind.CUSTOM:
            span = dt.timedelta(days=self.days)
            return Period.custom(self.start + span, self.end + span)
        return Period.containing(self.kind, self.end + dt.timedelta(days=1))

    def previous(self) -> Period:
        """The preceding period of the same kind."""
        if self.kind is PeriodKind.CUSTOM:
            span = dt.timedelta(days=self.days)
            return Period.custom(self.start - span, self.end - span)
        return Period.containing(self.kind, self.start - dt.timedelta(days=1))


def _canonical_range(kind: PeriodKind, date: dt.date) -> tuple[dt.date, dt.date]:
    """First and last date of the ``kind`` period containing ``date`` (not custom)."""
    if kind is PeriodKind.DAY:
        return date, date
    if kind is PeriodKind.WEEK:
        monday = date - dt.timedelta(days=date.weekday())
        return monday, monday + dt.timedelta(days=6)
    if kind is PeriodKind.MONTH:
        first_month = last_month = date.month
    elif kind is PeriodKind.QUARTER:
        first_month = 3 * ((date.month - 1) // 3) + 1
        last_month = first_month + 2
    else:
        first_month, last_month = 1, 12
    last_day = calendar.monthrange(date.year, last_month)[1]
    return dt.date(date.year, first_month, 1), dt.date(date.year, last_month, last_day)


def _period_kind(kind: PeriodKind | str) -> PeriodKind:
    try:
        return PeriodKind(kind)
    except ValueError:
        raise InvalidPeriod(
            f"unknown period kind {kind!r}",
            field="period.kind",
            valid=", ".join(k.value for k in PeriodKind),
        ) from None


# --------------------------------------------------------------------------- subjects


class SubjectKind(enum.StrEnum):
    """Who is measured: one person or a team."""

    PERSON = "person"
    TEAM = "team"


_ID_RE: Final = re.compile(r"^\S(.*\S)?$")


def _check_id(instance: object, attribute: object, value: str) -> None:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise InvalidValue(
            f"{value!r} is not a valid id",
            field="id",
            valid="non-empty text without leading/trailing spaces",
        )


@frozen(order=True)
class SubjectRef:
    """A reference to a measured subject: ``SubjectRef("person", "E1042")``.

    Text form ``person:E1042`` / ``team:sewing-3`` (:meth:`parse`, ``str()``).
    """

    kind: SubjectKind = field(converter=SubjectKind)
    id: str = field(validator=_check_id)

    @classmethod
    def person(cls, id: str) -> SubjectRef:
        """A person subject."""
        return cls(SubjectKind.PERSON, id)

    @classmethod
    def team(cls, id: str) -> SubjectRef:
        """A team subject."""
        return cls(SubjectKind.TEAM, id)

    @classmethod
    def parse(cls, text: str, *, field: str = "subject") -> SubjectRef:
        """Parse ``kind:id``.

        Raises:
            InvalidValue: no ``:``, an unknown kind, or an empty id.
        """
        kind, sep, ident = text.partition(":")
        if not sep or kind not in {k.value for k in SubjectKind} or not ident.strip():
            raise InvalidValue(
                f"{text!r} is not a subject reference",
                field=field,
                valid="person:<id> or team:<id>",
            )
        return cls(SubjectKind(kind), ident.strip())

    def __str__(self) -> str:
        return self.kind + ":" + self.id  # a StrEnum is its value


@frozen
class Person:
    """A person known to perfcore, with the org unit they belong to."""

    id: str = field(validator=_check_id)
    name: str = ""
    unit_id: str | None = None

    @property
    def ref(self) -> SubjectRef:
        """This person as a :class:`SubjectRef`."""
        return SubjectRef.person(self.id)


@frozen
class OrgUnit:
    """An organisation unit (team, department, plant) with its manager and parent unit."""

    id: str = field(validator=_check_id)
    name: str = ""
    manager_id: str | None = None
    parent_id: str | None = None


@frozen
class OrgChart:
    """People and units with their reporting line.

    A person's manager is the manager of their unit, unless that is the person themself, in which
    case it is the manager of the parent unit (and so on up).

    Raises (on construction):
        InvalidValue: a person's unit or a unit's parent does not exist.
        CycleError: the unit parents form a cycle.
    """

    people: Mapping[str, Person]
    units: Mapping[str, OrgUnit]

    def __attrs_post_init__(self) -> None:
        from perfcore.domain.errors import CycleError

        for pid, p in self.people.items():
            if p.unit_id is not None and p.unit_id not in self.units:
                raise InvalidValue(
                    f"person {pid!r} belongs to unknown unit {p.unit_id!r}",
                    field=f"people.{pid}.unit_id",
                    valid=", ".join(sorted(self.units)) or "no units defined",
                )
        for uid, u in self.units.items():
            if u.parent_id is not None and u.parent_id not in self.units:
                raise InvalidValue(
                    f"unit {uid!r} has unknown parent {u.parent_id!r}",
                    field=f"units.{uid}.parent_id",
                    valid=", ".join(sorted(self.units)),
                )
            seen = [uid]
            cur = u.parent_id
            while cur is not None:
                if cur in seen:
                    raise CycleError(
                        f"units form a cycle: {' -> '.join([*seen, cur])}",
                        field=f"units.{uid}.parent_id",
                        path=[*seen, cur],
                    )
                seen.append(cur)
                cur = self.units[cur].parent_id

    @classmethod
    def build(cls, people: list[Person], units: list[OrgUnit]) -> OrgChart:
        """Build from lists."""
        return cls({p.id: p for p in people}, {u.id: u for u in units})

    def manager_of(self, person_id: str) -> str | None:
        """The person's direct manager id, or ``None`` at the top.

        Raises:
            NotFound: unknown person.
        """
        return next(iter(self.reporting_line(person_id)), None)

    def reporting_line(self, person_id: str) -> list[str]:
        """Managers above ``person_id``, nearest first (manager, manager's manager, ...).

        Raises:
            NotFound: unknown person.
        """
        try:
            person = self.people[person_id]
        except KeyError:
            raise NotFound(f"unknown person {person_id!r}", field="person_id") from None
        line: list[str] = []
        unit_id = person.unit_id
        last = person_id
        while unit_id is not None:
            unit = self.units[unit_id]
            if (
                unit.manager_id is not None
                and unit.manager_id != last
                and (unit.manager_id not in line)
            ):
                line.append(unit.manager_id)
                last = unit.manager_id
            unit_id = unit.parent_id
        return line

    def subtree(self, manager_id: str) -> set[str]:
        """Everyone whose reporting line includes ``manager_id`` (not the manager themself)."""
        return {pid for pid in self.people if manager_id in self.reporting_line(pid)}
