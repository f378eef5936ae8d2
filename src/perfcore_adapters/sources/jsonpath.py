"""A small JSONPath subset for field mapping: ``$``, ``$.a.b``, ``$.a[0].b``, ``$['a b']``.

Enough to point at a value inside a vendor record (``$.owner.email``, ``$.lines[0].qty``) or at
the record list in a page (``$.data.items``). Wildcards, filters and slices are not supported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from perfcore.domain.errors import InvalidValue

__all__ = ["compile_path", "extract"]

_TOKEN = re.compile(r"\.([A-Za-z_@$][\w@$-]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


@lru_cache(maxsize=512)
def compile_path(path: str) -> tuple[str | int, ...]:
    """Steps of ``path`` (``"$.a[0]"`` -> ``("a", 0)``); a leading ``$`` is optional.

    Raises:
        InvalidValue: unsupported syntax (``field="path"``).
    """
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    elif text and not text.startswith((".", "[")):
        text = "." + text
    steps: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise InvalidValue(
                f"unsupported path syntax at {text[pos:]!r} in {path!r}",
                field="path",
                valid="$.a.b, $.a[0].b, $['a b']",
            )
        name, index, quoted, dquoted = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(name if name is not None else (quoted if quoted is not None else dquoted))
        pos = match.end()
    return tuple(steps)


def extract(document: object, path: str) -> object | None:
    """The value at ``path`` in ``document``, or ``None`` when any step is missing."""
    current = document
    for step in compile_path(path):
        if isinstance(step, int):
            if isinstance(current, Sequence) and not isinstance(current, str | bytes):
                if step >= len(current):
                    return None
                current = current[step]
            else:
                return None
        elif isinstance(current, Mapping):
            if step not in current:
                return None
            current = current[step]
        else:
            return None
    return current
