"""One cattrs converter for the service layer (``make_converter()``), and event <-> JSON.

Decimals travel as strings, datetimes as ISO 8601 with offset, ``SubjectRef`` as ``kind:id``;
events are tagged with their class name so that a parked event can be rebuilt for a retry.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import cattrs

from perfcore.domain import events as _events
from perfcore.domain.errors import InvalidValue
from perfcore.domain.events import Event
from perfcore.domain.values import SubjectRef

__all__ = ["event_from_json", "event_to_json", "make_converter"]


def make_converter() -> cattrs.Converter:
    """A fresh converter with perfcore's hooks (no global state)."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, lambda v, _t: Decimal(str(v)))
    conv.register_unstructure_hook(dt.datetime, lambda d: d.isoformat())
    conv.register_structure_hook(dt.datetime, lambda v, _t: dt.datetime.fromisoformat(str(v)))
    conv.register_unstructure_hook(SubjectRef, str)
    conv.register_structure_hook(SubjectRef, lambda v, _t: SubjectRef.parse(str(v)))
    return conv


_CONVERTER = make_converter()


def _event_classes() -> dict[str, type[Event]]:
    out: dict[str, type[Event]] = {}
    for name in _events.__all__:
        cls = getattr(_events, name)
        if isinstance(cls, type) and issubclass(cls, Event):
            out[name] = cls
    return out


def event_to_json(event: Event) -> str:
    """``{"type": "ReviewOpened", "data": {...}}`` as compact JSON."""
    data = {"type": type(event).__name__, "data": _CONVERTER.unstructure(event)}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_from_json(text: str) -> Event:
    """Rebuild an event written by :func:`event_to_json`; unknown types raise ``InvalidValue``."""
    raw = json.loads(text)
    classes = _event_classes()
    cls = classes.get(raw.get("type", ""))
    if cls is None:
        raise InvalidValue(
            f"unknown event type {raw.get('type')!r}", field="type", valid=", ".join(classes)
        )
    event: Event = _CONVERTER.structure(raw["data"], cls)
    return event
