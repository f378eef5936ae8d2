"""The value types of the formula language and how a schema declares them.

A schema maps field names to type names. The type names are the same strings evidence
declarations use elsewhere in perfcore: ``"number"``, ``"text"``, ``"boolean"``, ``"date"``,
``"datetime"``, ``"duration"``.

Python representation at evaluation time:

========== ==========================================================================
number     :class:`decimal.Decimal` (rows may give ``int``, ``float`` — via ``repr`` — or Decimal)
text       :class:`str`
boolean    :class:`bool`
date       :class:`datetime.date` (not a datetime)
datetime   timezone-aware :class:`datetime.datetime`
duration   :class:`datetime.timedelta`
========== ==========================================================================

Every value may also be ``None`` ("no value").
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Mapping

from perfcore.formula.errors import FormulaError

__all__ = ["FieldType", "Schema", "normalise_schema"]


class FieldType(enum.StrEnum):
    """A formula value type; the value is the canonical type name."""

    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    DURATION = "duration"


Schema = Mapping[str, "str | FieldType"]

_BY_NAME = {t.value: t for t in FieldType}


def _is_name(name: str) -> bool:
    return name.isidentifier()


def normalise_schema(schema: Mapping[str, str | FieldType]) -> dict[str, FieldType]:
    """Return ``{field: FieldType}`` for a schema given with type names or FieldType members.

    Raises:
        FormulaError: code ``bad_schema`` when a type name is unknown (with a did-you-mean hint),
            a field name is not an identifier (letters of any script, digits, ``_``; not starting
            with a digit), or the schema is not a mapping.
    """
    if not isinstance(schema, Mapping):
        raise FormulaError(
            "bad_schema",
            f"the schema must be a mapping of field name to type, got {type(schema).__name__}",
        )
    out: dict[str, FieldType] = {}
    for name, kind in schema.items():
        if not isinstance(name, str) or not _is_name(name):
            raise FormulaError(
                "bad_schema",
                f"field name {name!r} is not a valid name",
                hint="use letters (any script), digits and _; do not start with a digit",
            )
        if isinstance(kind, FieldType):
            out[name] = kind
            continue
        found = _BY_NAME.get(kind) if isinstance(kind, str) else None
        if found is None:
            close = difflib.get_close_matches(str(kind), list(_BY_NAME), n=1)
            hint = f"did you mean `{close[0]}`?" if close else ""
            raise FormulaError(
                "bad_schema",
                f"field `{name}` has unknown type {kind!r}; valid types are " + ", ".join(_BY_NAME),
                hint=hint,
            )
        out[name] = found
    return out
