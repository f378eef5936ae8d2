"""Plan problems and the error that carries all of them.

A :class:`Problem` is one finding: where (file, 1-based line and column), which field (a dotted
path such as ``objectives.quality.indicators.fpy``), what is wrong and, where there is a closed
set of valid choices, what is valid ("did you mean ...?"). :class:`PlanError` is raised with
every problem found, sorted by position, so that a plan author fixes them all in one round.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from attrs import field, frozen

from perfcore.domain.errors import PerfcoreError

__all__ = ["PlanError", "Problem", "did_you_mean"]


@frozen(order=True)
class Problem:
    """One problem in a plan file, rendered as ``file:line:column: field.path: message``."""

    file: str
    line: int
    column: int
    path: str
    message: str = field(order=False)

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


def _sorted(value: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(set(value)))


class PlanError(PerfcoreError):
    """A plan could not be loaded; ``problems`` lists every problem found (at least one).

    ``str(err)`` is one problem per line. Nothing of a plan with problems is ever applied."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = _sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def messages(self) -> list[str]:
        """The problems as strings, in file order."""
        return [str(p) for p in self.problems]


def did_you_mean(word: str, valid: Iterable[str], *, limit: int = 3) -> str:
    """``"did you mean 'x'? valid: a, b, c"`` (the hint part of a message; ``""`` if nothing is
    valid). The closest matches come from :func:`difflib.get_close_matches` (cutoff 0.6)."""
    options = sorted(set(valid))
    if not options:
        return ""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    if close:
        return f"did you mean {close[0]!r}? valid: {shown}"
    return f"valid: {shown}"
