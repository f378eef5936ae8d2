"""Parse a configured name into one of a fixed set of choices (a ``StrEnum``), with a typed error.

Every finished domain module used to repeat the same ``try: Kind(value) except ValueError:``
block; :func:`parse_choice` is that block once, with the same message shape everywhere:
``unknown <what> <value!r>`` and the valid names listed in definition order.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from perfcore.domain.errors import InvalidValue

__all__ = ["parse_choice"]

E = TypeVar("E", bound=enum.StrEnum)


def parse_choice(choices: type[E], value: object, *, field: str, what: str) -> E:
    """``value`` (a member of ``choices`` or its text) as a member of ``choices``.

    Example: ``parse_choice(TierMethod, "marginal", field="method", what="tier method")``.

    Raises:
        InvalidValue: not one of the choices; message ``unknown <what> <value!r>``, ``field`` as
            given, ``valid`` the comma-separated names (e.g. ``"marginal, retroactive, ..."``).
    """
    if isinstance(value, choices):
        return value
    try:
        return choices(str(value))
    except ValueError:
        raise InvalidValue(
            f"unknown {what} {value!r}",
            field=field,
            valid=", ".join(c.value for c in choices),
        ) from None
