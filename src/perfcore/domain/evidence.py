"""Evidence: typed records with provenance, corrections by version, and rejections with reasons.

An :class:`EvidenceType` declares the fields a record of that type carries, with the type names
shared with the formula language: ``number``, ``text``, ``boolean``, ``date``, ``datetime``,
``duration``. :func:`validate_record` turns a raw mapping (as an adapter read it) into either an
:class:`EvidenceRecord` or a :class:`Rejection` that keeps the raw record and every reason with its
field path — it never raises for bad data, so ``read = accepted + rejected`` always holds.

Provenance (perfcore's rule): every record carries its ``source``, ``external_id``,
``occurred_at`` and ``recorded_at`` (timezone-aware) and an ``idempotency_key``. The default key is
derived deterministically from ``(source, external_id, version)`` (:func:`default_idempotency_key`).

Corrections: version 1 is the original; version n+1 *supersedes* version n (``supersedes`` holds
version n's idempotency key). Nothing is deleted; :class:`~perfcore.domain.evidence_log.EvidenceLog`
returns the current view and keeps the history.

Python values of the field types: number → :class:`~decimal.Decimal`, text → ``str``,
boolean → ``bool``, date → :class:`datetime.date`, datetime → aware :class:`datetime.datetime`,
duration → :class:`datetime.timedelta`.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from attrs import field, frozen

from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import DomainError, InvalidValue
from perfcore.domain.values import SubjectRef, as_decimal, ensure_aware

__all__ = [
    "Bounds",
    "EvidenceRecord",
    "EvidenceType",
    "FieldSpec",
    "FieldType",
    "FieldValue",
    "Provenance",
    "Reason",
    "Rejection",
    "coerce_value",
    "default_idempotency_key",
    "parse_instant",
    "validate_record",
]

FieldValue = Decimal | str | bool | dt.date | dt.datetime | dt.timedelta | None


class FieldType(enum.StrEnum):
    """Type of an evidence field; the names are the formula language's type names."""

    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    DURATION = "duration"


_NAME_RE: Final = re.compile(r"^[^\W\d]\w*$")


def _check_name(what: str, name: object, path: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidValue(
            f"{name!r} is not a valid {what} name",
            field=path,
            valid="letters, digits and _, not starting with a digit",
        )


def _show_number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


@frozen
class Bounds:
    """Constraints on a number field's values: ``minimum``/``maximum`` (inclusive, exact
    decimals, ``None`` = unbounded) and ``integer`` (whole numbers only).

    ``Bounds(minimum=Decimal(0), integer=True)`` is a count. :meth:`check` gives the reason a
    value breaks them, naming the field, the value and the valid range.

    Raises (on construction):
        InvalidValue: ``minimum`` greater than ``maximum`` (path ``max``).
    """

    minimum: Decimal | None = None
    maximum: Decimal | None = None
    integer: bool = False

    def __attrs_post_init__(self) -> None:
        low, high = self.minimum, self.maximum
        if low is not None and high is not None and low > high:
            raise InvalidValue(
                f"max {_show_number(high)} is below min {_show_number(low)}",
                field="max",
                valid=f"a number >= {_show_number(low)}",
            )

    @property
    def valid(self) -> str:
        """The valid range in words: ``"an integer >= 0"``, ``"a number from 0 to 1"``."""
        what = "an integer" if self.integer else "a number"
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{what} from {_show_number(low)} to {_show_number(high)}"
        if low is not None:
            return f"{what} >= {_show_number(low)}"
        if high is not None:
            return f"{what} <= {_show_number(high)}"
        return what

    def check(self, value: Decimal, *, field: str = "value") -> Reason | None:
        """``None`` when ``value`` keeps the bounds, else the reason (``field`` is its path)."""
        low, high = self.minimum, self.maximum
        if (
            (low is not None and value < low)
            or (high is not None and value > high)
            or (self.integer and value != value.to_integral_value())
        ):
            return Reason(field, f"{_show_number(value)} is out of range", self.valid)
        return None


@frozen
class FieldSpec:
    """One declared field: ``name``, ``type``, whether it is required and, for a number
    field, optional :class:`Bounds` its values must keep."""

    name: str
    type: FieldType
    required: bool = True
    bounds: Bounds | None = None

    def __attrs_post_init__(self) -> None:
        path = f"fields.{self.name}"
        object.__setattr__(self, "type", _field_type(str(self.type), f"{path}.type"))
        if self.bounds is not None and self.type is not FieldType.NUMBER:
            raise InvalidValue(
                f"only number fields take min, max or integer; {self.name!r} is {self.type}",
                field=path,
                valid="a field of type number",
            )


def _field_type(type_name: str, path: str) -> FieldType:
    return parse_choice(FieldType, type_name, field=path, what="field type")


@frozen
class EvidenceType:
    """A declared evidence type: its name and fields.

    Build it with :meth:`declare`: ``EvidenceType.declare("inspection", {"defects": "number",
    "note": "text?"})`` — a trailing ``?`` marks an optional field.

    Raises (on construction):
        InvalidValue: a bad type or field name, a duplicate field, an unknown type name; the
            path reads ``evidence_types[<name>].fields.<field>``.
    """

    name: str
    fields: tuple[FieldSpec, ...]
    _names: frozenset[str] = field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_names", frozenset(s.name for s in self.fields))
        _check_name("evidence type", self.name, "evidence_types[].name")
        seen: set[str] = set()
        for spec in self.fields:
            path = f"evidence_types[{self.name}].fields.{spec.name}"
            _check_name("field", spec.name, path)
            if spec.name in seen:
                raise InvalidValue(
                    f"field {spec.name!r} is declared twice", field=path, valid="unique names"
                )
            seen.add(spec.name)

    @classmethod
    def declare(
        cls,
        name: str,
        fields: Mapping[str, str | FieldType],
        bounds: Mapping[str, Bounds] | None = None,
    ) -> EvidenceType:
        """Declare a type from ``{field: type_name}``; ``"number?"`` means optional.
        ``bounds`` gives number fields their :class:`Bounds` (``{"inspected": Bounds(0)}``).

        Raises:
            InvalidValue: unknown type name (valid: number, text, boolean, date, datetime,
                duration), bad names, bounds for an undeclared or non-number field.
        """
        given = dict(bounds or {})
        specs: list[FieldSpec] = []
        for fname, tname in fields.items():
            text = tname.value if isinstance(tname, FieldType) else str(tname)
            optional = text.endswith("?")
            path = f"evidence_types[{name}].fields.{fname}"
            kind = _field_type(text.rstrip("?").strip(), path)
            try:
                specs.append(FieldSpec(fname, kind, not optional, given.pop(fname, None)))
            except DomainError as err:
                raise err.at(f"evidence_types[{name}]") from None
        for fname in given:
            raise InvalidValue(
                f"bounds for an undeclared field {fname!r}",
                field=f"evidence_types[{name}].fields.{fname}",
                valid=", ".join(fields) or "no fields",
            )
        return cls(name, tuple(specs))

    def spec(self, name: str) -> FieldSpec | None:
        """The field called ``name``, or None."""
        return next((s for s in self.fields if s.name == name), None)

    @property
    def schema(self) -> dict[str, str]:
        """``{field: type name}``, the shape the formula language checks expressions against."""
        return {s.name: s.type.value for s in self.fields}


# --------------------------------------------------------------------------- values

_DURATION_RE: Final = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def _parse_duration(text: str) -> dt.timedelta | None:
    m = _DURATION_RE.match(text.strip().upper())
    if not m or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        return None
    parts = {k: float(v) for k, v in m.groupdict().items() if v is not None}
    return dt.timedelta(
        weeks=parts.get("w", 0),
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )


def coerce_value(kind: FieldType, value: object, *, field: str = "value") -> FieldValue:
    """Convert a raw value to the Python value of ``kind``.

    Accepted inputs: number — int, Decimal, float (via ``repr``), numeric text; text — str;
    boolean — bool or the text ``true``/``false`` (any case); date — ``date`` or ISO text
    ``YYYY-MM-DD``; datetime — aware ``datetime`` or ISO text with an offset; duration —
    ``timedelta`` or ISO 8601 text such as ``PT1H30M``. ``None`` stays ``None``.

    Raises:
        InvalidValue: the value does not fit ``kind``; ``field`` is the path and ``valid`` says
            what would fit.
    """
    if value is None:
        return None
    if kind is FieldType.NUMBER:
        return as_decimal(value, field=field)
    if kind is FieldType.TEXT:
        if isinstance(value, str):
            return value
        raise InvalidValue(f"expected text, got {type(value).__name__}", field=field, valid="text")
    if kind is FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise InvalidValue(f"{value!r} is not a boolean", field=field, valid="true or false")
    if kind is FieldType.DATE:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise InvalidValue(f"{value!r} is not a date", field=field, valid="a date YYYY-MM-DD")
    if kind is FieldType.DATETIME:
        return parse_instant(value, field=field)
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, str):
        parsed = _parse_duration(value)
        if parsed is not None:
            return parsed
    raise InvalidValue(
        f"{value!r} is not a duration", field=field, valid="an ISO 8601 duration such as PT1H30M"
    )


def parse_instant(value: object, *, field: str = "instant") -> dt.datetime:
    """An aware datetime from a datetime or ISO 8601 text with an offset (``Z`` allowed).

    Raises:
        InvalidValue: not a datetime, or naive (perfcore never guesses a time zone).
    """
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidValue(
                f"{value!r} is not a date-time",
                field=field,
                valid="ISO 8601 with an offset, e.g. 2025-03-14T08:30:00+08:00",
            ) from None
    if not isinstance(value, dt.datetime):
        raise InvalidValue(
            f"expected a date-time, got {type(value).__name__}",
            field=field,
            valid="an aware datetime or ISO 8601 text with an offset",
        )
    return ensure_aware(value, field=field)


# --------------------------------------------------------------------------- records


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(":", "%3A")


def default_idempotency_key(source: str, external_id: str, version: int = 1) -> str:
    """The deterministic default key ``<source>:<external_id>:v<version>``.

    ``%`` and ``:`` inside the parts are percent-escaped so different triples never share a key:
    ``default_idempotency_key("mes", "A:1", 2) == "mes:A%3A1:v2"``.
    """
    return f"{_escape(source)}:{_escape(external_id)}:v{version}"


@frozen
class Provenance:
    """Where a record came from and when.

    Attributes:
        source: the system (``"mes"``, ``"erp"``, ``"manual"``).
        external_id: the record's id in that system.
        occurred_at: when the fact happened (aware).
        recorded_at: when perfcore received it (aware; from the clock).
        idempotency_key: re-ingesting a record with this key changes nothing.

    Raises (on construction):
        InvalidValue: naive datetimes, empty source / external id / key
            (paths ``provenance.<field>``).
    """

    source: str
    external_id: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    idempotency_key: str

    def __attrs_post_init__(self) -> None:
        for name in ("source", "external_id", "idempotency_key"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise InvalidValue(
                    f"{name} is empty", field=f"provenance.{name}", valid="non-empty text"
                )
        ensure_aware(self.occurred_at, field="provenance.occurred_at")
        ensure_aware(self.recorded_at, field="provenance.recorded_at")


def _frozen_fields(value: Mapping[str, FieldValue]) -> Mapping[str, FieldValue]:
    return MappingProxyType(dict(value))


def _canonical(value: FieldValue) -> object:
    if isinstance(value, Decimal):
        return ["n", str(value.normalize()) if value else "0"]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, dt.datetime):
        return ["t", value.astimezone(dt.UTC).isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    if isinstance(value, dt.timedelta):
        return ["u", [value.days, value.seconds, value.microseconds]]
    return ["s", value]


@frozen(eq=True, hash=False)
class EvidenceRecord:
    """One accepted piece of evidence.

    Attributes:
        evidence_type: name of its :class:`EvidenceType`.
        subject: who it is about.
        fields: field name → typed value (read-only mapping).
        provenance: source, external id, occurred/recorded times, idempotency key.
        version: 1 for an original, n+1 for the correction of version n.
        supersedes: idempotency key of the version this one corrects (None for version 1).
    """

    evidence_type: str
    subject: SubjectRef
    fields: Mapping[str, FieldValue] = field(converter=_frozen_fields)
    provenance: Provenance
    version: int = 1
    supersedes: str | None = None

    @property
    def key(self) -> str:
        """The idempotency key."""
        return self.provenance.idempotency_key

    @property
    def identity(self) -> tuple[str, str]:
        """``(source, external_id)``: the same logical record across its versions."""
        return (self.provenance.source, self.provenance.external_id)

    @property
    def occurred_at(self) -> dt.datetime:
        """When the fact happened."""
        return self.provenance.occurred_at

    @property
    def is_correction(self) -> bool:
        """True for version 2 and later."""
        return self.version > 1

    def fingerprint(self) -> str:
        """SHA-256 of the record's content, ignoring ``recorded_at`` (re-ingesting the same fact
        later is the same content). Used to tell a duplicate from a conflicting record."""
        body = {
            "type": self.evidence_type,
            "subject": str(self.subject),
            "fields": {k: _canonical(v) for k, v in sorted(self.fields.items())},
            "source": self.provenance.source,
            "external_id": self.provenance.external_id,
            "occurred_at": self.provenance.occurred_at.astimezone(dt.UTC).isoformat(),
            "version": self.version,
            "supersedes": self.supersedes,
        }
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@frozen
class Reason:
    """Why a record was rejected: ``field`` path, ``message`` and what would be ``valid``."""

    field: str
    message: str
    valid: str | None = None

    @classmethod
    def of(cls, err: DomainError) -> Reason:
        """The reason carried by a domain error."""
        return cls(err.field, err.message, err.valid)

    def __str__(self) -> str:
        hint = f" (valid: {self.valid})" if self.valid else ""
        return f"{self.field}: {self.message}{hint}" if self.field else self.message + hint


def _frozen_raw(value: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(value))


@frozen(eq=True, hash=False)
class Rejection:
    """A record that was not accepted, kept aside (quarantine) with every reason.

    Attributes:
        evidence_type: the type it was validated against.
        raw: the record exactly as received (read-only copy).
        reasons: one or more reasons, each with a field path.
        key: the idempotency key when one could be derived, else a hash of the raw record.
    """

    evidence_type: str
    raw: Mapping[str, object] = field(converter=_frozen_raw)
    reasons: tuple[Reason, ...]
    key: str = ""

    def __str__(self) -> str:
        return "; ".join(str(r) for r in self.reasons)


def _raw_hash(raw: Mapping[str, object]) -> str:
    text = json.dumps({str(k): repr(v) for k, v in raw.items()}, sort_keys=True)
    return "raw:" + hashlib.sha256(text.encode()).hexdigest()[:32]


_TOP_KEYS: Final = frozenset(
    {
        "subject",
        "source",
        "external_id",
        "occurred_at",
        "recorded_at",
        "idempotency_key",
        "version",
        "supersedes",
        "fields",
    }
)


def validate_record(
    etype: EvidenceType, raw: Mapping[str, object], *, recorded_at: dt.datetime | None = None
) -> EvidenceRecord | Rejection:
    """Check ``raw`` against ``etype``; return the typed record or a rejection with all reasons.

    ``raw`` keys: ``subject`` (``"person:E1"`` or a SubjectRef), ``source``, ``external_id``,
    ``occurred_at``, ``recorded_at`` (else the ``recorded_at`` argument, i.e. the clock),
    optional ``idempotency_key`` (default :func:`default_idempotency_key`), optional ``version``
    (int ≥ 1, default 1), optional ``supersedes`` (default: the default key of version − 1) and
    ``fields`` (a mapping). Unknown keys and unknown fields are reasons too.

    Never raises for bad data; the rejection keeps ``raw`` so nothing is silently dropped.
    """
    reasons: list[Reason] = []

    def attempt(fn: Callable[..., object], *args: object, **kw: object) -> object:
        try:
            return fn(*args, **kw)
        except DomainError as err:
            reasons.append(Reason.of(err))
            return None

    if not raw.keys() <= _TOP_KEYS:
        for k in sorted(set(raw) - _TOP_KEYS, key=str):
            reasons.append(Reason(str(k), "unknown key", ", ".join(sorted(_TOP_KEYS))))
    subject_raw = raw.get("subject")
    subject: object = None
    if isinstance(subject_raw, SubjectRef):
        subject = subject_raw
    elif isinstance(subject_raw, str):
        subject = attempt(SubjectRef.parse, subject_raw, field="subject")
    else:
        reasons.append(Reason("subject", "missing or not text", "person:<id> or team:<id>"))
    texts: dict[str, str] = {}
    for name in ("source", "external_id"):
        v = raw.get(name)
        if isinstance(v, str) and v.strip():
            texts[name] = v.strip()
        else:
            reasons.append(Reason(f"provenance.{name}", "missing or empty", "non-empty text"))
    occurred = attempt(parse_instant, raw.get("occurred_at"), field="provenance.occurred_at")
    rec_raw = raw.get("recorded_at", recorded_at)
    recorded = attempt(parse_instant, rec_raw, field="provenance.recorded_at")
    version = raw.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        reasons.append(Reason("version", f"{version!r} is not a version", "an integer >= 1"))
        version = 1
    fields_raw = raw.get("fields", {})
    values: dict[str, FieldValue] = {}
    if not isinstance(fields_raw, Mapping):
        reasons.append(Reason("fields", "not a mapping", "a mapping of field name to value"))
    else:
        if not fields_raw.keys() <= etype._names:
            declared = ", ".join(s.name for s in etype.fields) or "no fields"
            for name in sorted(set(fields_raw) - etype._names, key=str):
                reasons.append(Reason(f"fields.{name}", "unknown field", declared))
        for spec in etype.fields:
            path = f"fields.{spec.name}"
            value = fields_raw.get(spec.name)
            if value is None or (
                isinstance(value, str) and not value.strip() and spec.type != "text"
            ):
                if spec.required:
                    reasons.append(Reason(path, "required field is missing", spec.type.value))
                else:
                    values[spec.name] = None
                continue
            try:
                typed = coerce_value(spec.type, value, field=path)
            except DomainError as err:
                reasons.append(Reason.of(err))
                continue
            values[spec.name] = typed
            if spec.bounds is not None and isinstance(typed, Decimal):
                broken = spec.bounds.check(typed, field=path)
                if broken is not None:
                    reasons.append(broken)
    key = raw.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        reasons.append(Reason("provenance.idempotency_key", "empty", "non-empty text"))
        key = None
    ident_ok = "source" in texts and "external_id" in texts
    if key is None and ident_ok:
        key = default_idempotency_key(texts["source"], texts["external_id"], version)
    supersedes = raw.get("supersedes")
    if version > 1 and supersedes is None and ident_ok:
        supersedes = default_idempotency_key(texts["source"], texts["external_id"], version - 1)
    if version == 1 and supersedes is not None:
        reasons.append(Reason("supersedes", "version 1 cannot supersede", "version >= 2"))
    if supersedes is not None and not isinstance(supersedes, str):
        reasons.append(Reason("supersedes", "not text", "the idempotency key it corrects"))
    if reasons:
        return Rejection(
            etype.name, raw, tuple(reasons), key if isinstance(key, str) else _raw_hash(raw)
        )
    assert isinstance(subject, SubjectRef)
    assert isinstance(occurred, dt.datetime)
    assert isinstance(recorded, dt.datetime)
    assert isinstance(key, str)
    prov = Provenance(texts["source"], texts["external_id"], occurred, recorded, key)
    sup = supersedes if isinstance(supersedes, str) else None
    return EvidenceRecord(etype.name, subject, values, prov, version, sup)
