"""Typed domain errors.

Every error raised by the domain says *where* (a field path such as ``indicator.target`` or
``objectives[2].weight``), *what* was wrong and *what would be valid*. Adapters translate these into
HTTP problems, CLI lines or plan-file diagnostics without parsing message strings.

Hierarchy::

    PerfcoreError
      DomainError
        InvalidValue            a field holds a value outside its valid range or set
          InvalidPeriod         a period text or range that does not parse / is empty
          InvalidWeight         negative or all-zero weights, weights that must sum to a total
          InvalidScoring        scoring configuration that cannot score (target <= 0 with ratio ...)
        CycleError              a cycle in a tree or graph (objective tree, derived indicators)
        InvalidTransition       a state machine refused a transition
        NotFound                a referenced entity does not exist
        Conflict                duplicate or concurrent change (idempotency, optimistic locking)
        PolicyDenied            a domain policy refused the action (visibility, safety rules)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "Conflict",
    "CycleError",
    "DomainError",
    "InvalidPeriod",
    "InvalidScoring",
    "InvalidTransition",
    "InvalidValue",
    "InvalidWeight",
    "NotFound",
    "PerfcoreError",
    "PolicyDenied",
]


class PerfcoreError(Exception):
    """Root of every error perfcore raises on purpose."""


class DomainError(PerfcoreError):
    """A domain rule was broken.

    Attributes:
        field: dotted path of the offending field (``""`` when the error is not about one field).
        message: what was wrong, in plain words.
        valid: what would have been valid (a range, a set of names), or ``None``.
    """

    code: str = "domain_error"

    def __init__(self, message: str, *, field: str = "", valid: str | None = None) -> None:
        self.field = field
        self.message = message
        self.valid = valid
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        hint = f" (valid: {self.valid})" if self.valid else ""
        return f"{where}{self.message}{hint}"

    def at(self, prefix: str) -> DomainError:
        """Return the same error with ``prefix`` prepended to its field path.

        Used when a nested object's validation error surfaces through its parent, so the path
        reads ``objectives[3].weight`` rather than ``weight``.
        """
        path = (
            f"{prefix}.{self.field}"
            if self.field and not self.field.startswith("[")
            else (f"{prefix}{self.field}")
        )
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.field = path
        Exception.__init__(clone, clone.__str__())
        return clone


class InvalidValue(DomainError):
    """A field holds a value outside its valid range or set."""

    code = "invalid_value"


class InvalidPeriod(InvalidValue):
    """A period text, kind or range that does not parse or is empty."""

    code = "invalid_period"


class InvalidWeight(InvalidValue):
    """Negative weights, all-zero weights, or weights that do not sum to a required total."""

    code = "invalid_weight"


class InvalidScoring(InvalidValue):
    """A scoring configuration that cannot produce a meaningful score."""

    code = "invalid_scoring"


class CycleError(DomainError):
    """A cycle in something that must be a tree or a DAG.

    Attributes:
        path: the nodes on the cycle, first node repeated at the end.
    """

    code = "cycle"

    def __init__(self, message: str, *, field: str = "", path: Sequence[str] = ()) -> None:
        self.path = tuple(path)
        super().__init__(message, field=field, valid="a tree / acyclic graph")


class InvalidTransition(DomainError):
    """A state machine refused a transition.

    Attributes:
        current: the state the object is in.
        requested: the state or action that was asked for.
        allowed: the states/actions allowed from ``current``.
    """

    code = "invalid_transition"

    def __init__(
        self,
        message: str,
        *,
        current: str,
        requested: str,
        allowed: Iterable[str] = (),
        field: str = "state",
    ) -> None:
        self.current = current
        self.requested = requested
        self.allowed = tuple(allowed)
        valid = ", ".join(self.allowed) if self.allowed else "none (terminal state)"
        super().__init__(message, field=field, valid=valid)


class NotFound(DomainError):
    """A referenced entity does not exist."""

    code = "not_found"


class Conflict(DomainError):
    """A duplicate or concurrent change: idempotency clash or optimistic-lock version mismatch."""

    code = "conflict"


class PolicyDenied(DomainError):
    """A domain policy refused the action; ``message`` carries the policy's reason."""

    code = "policy_denied"
