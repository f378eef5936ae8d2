"""The plan converter: one ``make_converter()`` factory (no global converter) and the walk that
turns cattrs' grouped validation errors into located :class:`~perfcore.plan.problems.Problem` s.

Inbound data is strict: unknown keys are refused (``forbid_extra_keys``) with the valid keys and
a "did you mean"; numbers must be numbers (exact ``Decimal``; booleans are not numbers);
integers must be integral; booleans must be booleans.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from perfcore.plan.problems import Problem, did_you_mean
from perfcore.plan.yamlnodes import Marks, Path

__all__ = ["make_converter", "structure"]

T = TypeVar("T")


class _Expected(ValueError):
    """A value of the wrong type; ``expected`` is the readable type name."""

    def __init__(self, expected: str, value: object) -> None:
        self.expected = expected
        self.value = value
        super().__init__(f"expected {expected}, got {value!r}")


def _decimal(value: object, _t: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        raise _Expected("a number", value)
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise _Expected("a number", value) from None
    if not out.is_finite():
        raise _Expected("a finite number", value)
    return out


def _int(value: object, _t: object) -> int:
    if isinstance(value, bool):
        raise _Expected("an integer", value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise _Expected("an integer", value)


def _bool(value: object, _t: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _Expected("true or false", value)


def _str(value: object, _t: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise _Expected("text", value)


def _date(value: object, _t: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _Expected("a date (YYYY-MM-DD)", value) from None


def _is_list(tp: object) -> bool:
    return typing.get_origin(tp) is list


def _strict_list(conv: cattrs.Converter) -> Callable[[Any], Callable[[object, object], Any]]:
    """Lists refuse text (cattrs would otherwise split ``"abc"`` into characters)."""

    def factory(tp: Any) -> Callable[[object, object], Any]:
        base = list_structure_factory(tp, conv)

        def hook(value: object, t: object) -> Any:
            if not isinstance(value, list | tuple):
                raise _Expected("a list", value)
            return base(value, t)

        return hook

    return factory


def make_converter() -> cattrs.Converter:
    """A fresh strict converter for plan specifications."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook_factory(_is_list, _strict_list(conv))
    conv.register_structure_hook(Decimal, _decimal)
    conv.register_structure_hook(int, _int)
    conv.register_structure_hook(bool, _bool)
    conv.register_structure_hook(str, _str)
    conv.register_structure_hook(dt.date, _date)
    return conv


def _type_name(tp: object) -> str:
    origin = typing.get_origin(tp)
    if origin in (dict, typing.Mapping):
        return "a mapping"
    if origin is list:
        return "a list"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _type_name(args[0]) if args else "a value"
    if isinstance(tp, type) and attrs.has(tp):
        return "a mapping"
    return {
        Decimal: "a number",
        int: "an integer",
        bool: "true or false",
        str: "text",
        dt.date: "a date (YYYY-MM-DD)",
    }.get(tp if isinstance(tp, type) else type(None), "a value")


def _note_step(exc: BaseException) -> str | int | None:
    for note in getattr(exc, "__notes__", []):
        kind = type(note).__name__
        if kind == "AttributeValidationNote":
            return str(note.name)
        if kind == "IterableValidationNote":
            index = note.index
            return index if isinstance(index, int) else str(index)
    return None


def _field_type(cl: type[Any] | None, name: str) -> object:
    if cl is None or not attrs.has(cl):
        return None
    attrs.resolve_types(cl)
    found = attrs.fields_dict(cl).get(name)
    return None if found is None else found.type


def _lookup(data: object, path: Path) -> object:
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return data


def _walk(
    exc: BaseException,
    path: Path,
    cl: type[Any] | None,
    data: object,
    marks: Marks,
    out: list[Problem],
) -> None:
    if isinstance(exc, ClassValidationError):
        for sub in exc.exceptions:
            step = _note_step(sub)
            sub_path = (*path, step) if step is not None else path
            sub_cl = _field_type(exc.cl, str(step)) if step is not None else None
            inner = _class_of(sub_cl)
            if isinstance(sub, KeyError) and step is not None:
                out.append(
                    marks.problem(sub_path, f"required field missing ({_type_name(sub_cl)})")
                )
            elif isinstance(sub, ExceptionGroup):
                _walk(sub, sub_path, inner or sub_cl_as(sub_cl), data, marks, out)
            else:
                _leaf(sub, sub_path, sub_cl, data, marks, out, owner=exc.cl)
        return
    if isinstance(exc, IterableValidationError):
        item_type = _item_type(cl)
        for sub in exc.exceptions:
            step = _note_step(sub)
            sub_path = (*path, step) if step is not None else path
            if isinstance(sub, ExceptionGroup):
                _walk(sub, sub_path, _class_of(item_type), data, marks, out)
            else:
                _leaf(sub, sub_path, item_type, data, marks, out, owner=None)
        return
    if isinstance(exc, ExceptionGroup):  # pragma: no cover - other groups
        for sub in exc.exceptions:
            _walk(sub, path, cl, data, marks, out)
        return
    _leaf(exc, path, cl, data, marks, out, owner=None)


def sub_cl_as(tp: object) -> type[Any] | None:
    """The container type itself when it is a parametrised dict/list (for item lookups)."""
    return tp if typing.get_origin(tp) in (dict, list) else None  # type: ignore[return-value]


def _class_of(tp: object) -> type[Any] | None:
    if isinstance(tp, type) and attrs.has(tp):
        return tp
    origin = typing.get_origin(tp)
    if origin in (dict, list):
        return tp  # type: ignore[return-value]
    if origin is not None:
        for arg in typing.get_args(tp):
            found = _class_of(arg)
            if found is not None:
                return found
    return None


def _item_type(container: object) -> object:
    origin = typing.get_origin(container)
    args = typing.get_args(container)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def _leaf(
    exc: BaseException,
    path: Path,
    expected_type: object,
    data: object,
    marks: Marks,
    out: list[Problem],
    *,
    owner: type[Any] | None,
) -> None:
    if isinstance(exc, ForbiddenExtraKeysError):
        valid = [a.name for a in attrs.fields(exc.cl)]
        for key in sorted(exc.extra_fields):
            out.append(
                marks.problem(
                    (*path, key),
                    f"unknown field {key!r}; {did_you_mean(key, valid)}",
                    key=True,
                )
            )
        return
    value = _lookup(data, path)
    if isinstance(exc, _Expected):
        out.append(marks.problem(path, f"expected {exc.expected}, got {_show(exc.value)}"))
        return
    out.append(marks.problem(path, f"expected {_type_name(expected_type)}, got {_show(value)}"))


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(str(value)) if isinstance(value, Decimal) else repr(value)


def structure(
    data: object, cl: type[T], marks: Marks, *, converter: cattrs.Converter | None = None
) -> tuple[T | None, list[Problem]]:
    """Structure ``data`` into ``cl``; returns the object (``None`` on failure) and every problem
    found, each located through ``marks``."""
    conv = converter if converter is not None else make_converter()
    if not isinstance(data, dict):
        return None, [marks.problem((), "expected a mapping")]
    try:
        return conv.structure(data, cl), []
    except Exception as exc:  # cattrs raises groups of anything the hooks raised
        problems: list[Problem] = []
        _walk(exc, (), cl, data, marks, problems)
        if not problems:
            problems.append(marks.problem((), str(exc)))
        return None, problems
