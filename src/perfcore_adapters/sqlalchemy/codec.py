"""Tagged JSON documents for aggregates: exact round trips without ORM instrumentation.

``encode(obj)`` turns a domain object into JSON-able data and ``decode(data)`` rebuilds an equal
object. attrs classes (frozen or not, slotted or not) are written field by field under their
import path and rebuilt without running ``__init__`` (the stored state *is* the state, exactly as
a repository must give it back). Exact types are kept: ``Decimal``, dates, date-times (with their
offset), durations, enums, tuples, sets, non-string dict keys, ``ZoneInfo``.

Tags (a dict with one ``$``-key): ``$d`` Decimal, ``$dt`` datetime, ``$date``, ``$time``, ``$td``
timedelta ``[days, seconds, microseconds]``, ``$e`` enum ``[path, value]``, ``$t`` tuple, ``$s``
set, ``$fs`` frozenset, ``$m`` mapping with non-string keys, ``$a`` attrs ``[path, {field: v}]``,
``$z`` ZoneInfo, ``$p`` a pickled value (base64) for anything else (last resort: such documents
are readable only by Python).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import importlib
import pickle
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs

__all__ = ["decode", "encode"]

_CLASSES: dict[str, type] = {}


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(path: str) -> Any:
    found = _CLASSES.get(path)
    if found is None:
        module, _, qual = path.partition(":")
        obj: Any = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
        found = _CLASSES[path] = obj
    return found


_PLAIN = frozenset({str, bool, int, float, type(None)})
_ATTRS: dict[type, tuple[str, tuple[str, ...]] | None] = {}
"""Per exact type: an attrs class's (import path, field names), or ``None`` (not attrs)."""


def encode(obj: Any) -> Any:
    """JSON-able data for ``obj`` (see the module docstring for the tags).

    The common exact types (plain scalars, ``Decimal``, attrs classes, ``dict`` with text keys,
    ``list``, ``tuple``) are dispatched on ``type(obj)``; everything else, subclasses included,
    takes the general ``isinstance`` chain (:func:`_encode_any`), so both give the same data."""
    cls = type(obj)
    if cls in _PLAIN:
        return obj
    if cls is Decimal:
        return {"$d": str(obj)}
    if cls in _ATTRS:
        spec = _ATTRS[cls]
    else:
        spec = _ATTRS[cls] = (
            (_path(cls), tuple(a.name for a in attrs.fields(cls)))
            if attrs.has(cls) and not issubclass(cls, enum.Enum)
            else None
        )
    if spec is not None:
        path, names = spec
        return {"$a": [path, {n: encode(getattr(obj, n)) for n in names}]}
    if cls is dict and all(type(k) is str and not k.startswith("$") for k in obj):
        return {k: encode(v) for k, v in obj.items()}
    if cls is list:
        return [encode(v) for v in obj]
    if cls is tuple:
        return {"$t": [encode(v) for v in obj]}
    return _encode_any(obj)


def _encode_any(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return {"$e": [_path(type(obj)), encode(obj.value)]}
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, Decimal):
        return {"$d": str(obj)}
    if isinstance(obj, dt.datetime):
        return {"$dt": obj.isoformat()}
    if isinstance(obj, dt.date):
        return {"$date": obj.isoformat()}
    if isinstance(obj, dt.time):
        return {"$time": obj.isoformat()}
    if isinstance(obj, dt.timedelta):
        return {"$td": [obj.days, obj.seconds, obj.microseconds]}
    if attrs.has(type(obj)):
        fields = {a.name: encode(getattr(obj, a.name)) for a in attrs.fields(type(obj))}
        return {"$a": [_path(type(obj)), fields]}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return {"$t": [encode(v) for v in obj]}
    if isinstance(obj, frozenset):
        return {"$fs": [encode(v) for v in obj]}
    if isinstance(obj, set):
        return {"$s": [encode(v) for v in obj]}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: encode(v) for k, v in obj.items()}
        return {"$m": [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, ZoneInfo):
        return {"$z": obj.key}
    return {"$p": base64.b64encode(pickle.dumps(obj)).decode("ascii")}


def _attrs(path: str, fields: Mapping[str, Any]) -> Any:
    cls = _resolve(path)
    obj = cls.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(obj, name, decode(value))
    return obj


def decode(data: Any) -> Any:
    """The object :func:`encode` wrote (classes are imported by their stored path)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        ((tag, value),) = data.items()
        if tag.startswith("$"):
            return _tagged(tag, value)
    return {k: decode(v) for k, v in data.items()}


def _tagged(tag: str, value: Any) -> Any:
    if tag == "$d":
        return Decimal(value)
    if tag == "$dt":
        return dt.datetime.fromisoformat(value)
    if tag == "$date":
        return dt.date.fromisoformat(value)
    if tag == "$time":
        return dt.time.fromisoformat(value)
    if tag == "$td":
        return dt.timedelta(days=value[0], seconds=value[1], microseconds=value[2])
    if tag == "$e":
        return _resolve(value[0])(decode(value[1]))
    if tag == "$a":
        return _attrs(value[0], value[1])
    if tag == "$t":
        return tuple(decode(v) for v in value)
    if tag == "$fs":
        return frozenset(decode(v) for v in value)
    if tag == "$s":
        return {decode(v) for v in value}
    if tag == "$m":
        return {decode(k): decode(v) for k, v in value}
    if tag == "$z":
        return ZoneInfo(value)
    if tag == "$p":
        return pickle.loads(base64.b64decode(value))
    raise ValueError(f"unknown document tag {tag!r}")  # pragma: no cover
