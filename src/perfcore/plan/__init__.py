"""The declarative plan: goals, indicators, rules and schedules as data, loaded with precise errors.

``load(path)`` / ``loads(text, name)`` read a YAML plan, structure it with cattrs
(:func:`perfcore.plan.converter.make_converter`), compile and type-check every formula against the
declared evidence fields, build the domain objects, and either return a :class:`Plan` or raise
:class:`PlanError` listing **every** problem as ``file:line:column: field.path: message`` with
the valid alternatives. Nothing of a plan with a problem is applied. The reference is
``docs/plan.md``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from perfcore.plan.build import Unscored, build_plan
from perfcore.plan.compiled import Plan
from perfcore.plan.converter import make_converter, structure
from perfcore.plan.model import PlanSpec
from perfcore.plan.notifiers import check_notifiers
from perfcore.plan.problems import PlanError, Problem
from perfcore.plan.yamlnodes import compose

__all__ = ["Plan", "PlanError", "Problem", "Unscored", "content_hash", "load", "loads"]


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the plan text, the identity of a plan version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def loads(
    text: str,
    name: str = "plan.yaml",
    *,
    notifier_kinds: Any = None,
    base_dir: str | Path | None = None,
) -> Plan:
    """Load a plan from YAML ``text``; ``name`` is the file name used in messages.

    ``base_dir`` is where relative source file paths (``config.path``) are looked up before
    the working directory; a readable CSV's header is checked against the mapped columns.

    ``notifier_kinds`` is the notifier registry the ``notifiers:`` section is checked against
    (a :class:`perfcore.plugins.registry.NotifierRegistry`; default: the installed plugins').

    Raises:
        PlanError: with ``.problems`` — every problem found, in file order.
    """
    data, marks = compose(text, name)
    spec, problems = structure(data, PlanSpec, marks, converter=make_converter())
    if spec is None:
        raise PlanError(problems)
    built = build_plan(spec, marks, source=text, content_hash=content_hash(text), base_dir=base_dir)
    channel_problems = check_notifiers(spec, marks, notifier_kinds)
    if isinstance(built, list) or channel_problems:
        raise PlanError([*(built if isinstance(built, list) else []), *channel_problems])
    return built


def load(path: str | Path, *, notifier_kinds: Any = None) -> Plan:
    """Load the plan file at ``path`` (messages name it as given). Raises :class:`PlanError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError([Problem(str(path), 1, 1, "", f"cannot read the plan: {exc}")]) from None
    return loads(text, str(path), notifier_kinds=notifier_kinds, base_dir=p.parent)
