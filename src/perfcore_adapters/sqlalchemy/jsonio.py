"""JSON text for the engine: ``Decimal`` written as an exact JSON number, numbers read back as
``Decimal`` (floats) or ``int``, so evidence numbers survive the database unchanged and stay
numbers for SQL (``json_extract`` / ``->>``)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]

_MARK = "\x00D"
_MARKED = re.compile(r'"\\u0000D([-+0-9.eE]+)"')


def _default(obj: object) -> str:
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValueError(f"{obj} is not a finite number")
        return _MARK + format(obj, "f" if -30 < obj.adjusted() < 30 else "e")
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Compact JSON; ``Decimal`` values become exact JSON numbers."""
    text = json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)
    return _MARKED.sub(r"\1", text) if "\\u0000D" in text else text


def loads(text: str | bytes) -> Any:
    """Parse JSON; non-integer numbers become ``Decimal``."""
    return json.loads(text, parse_float=Decimal)
