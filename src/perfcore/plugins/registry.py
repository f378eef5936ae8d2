"""Registries filled by ``perfcore_register_sources`` and ``perfcore_register_notifiers``.

Each entry is a *kind* (``"csv"``, ``"rest"``, ``"wecom"``) with a factory and the attrs config
class the factory takes. Plan data for an instance is structured into that config class with
cattrs (``forbid_extra_keys``) and every error names its field path
(``sources[0].config.pagination.page_size``).

The registry records which plugin added each kind and rejects a second registration of the same
kind naming both plugins. The plugin manager scopes each plugin's registrations: if a plugin's
hook raises half-way, everything it added is rolled back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import attrs
import cattrs
from attrs import frozen

from perfcore.domain.errors import Conflict, InvalidValue, NotFound
from perfcore.ports.notifications import Notifier
from perfcore.ports.sources import EvidenceSource

__all__ = [
    "NotifierRegistry",
    "Registration",
    "Registry",
    "SourceRegistry",
    "make_config_converter",
    "structure_config",
]

P = TypeVar("P")
C = TypeVar("C")

_KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_TRANSFORMED = re.compile(r"^(?P<msg>.*) @ (?P<path>.*)$")
_KEY = re.compile(r"\['([^'\[\].]+)'\]")
_EXTRA = re.compile(r"^extra fields found \((?P<names>.*)\)$")


def make_config_converter() -> cattrs.Converter:
    """The converter used for plugin config classes (extra keys are errors)."""
    return cattrs.Converter(forbid_extra_keys=True)


_CONVERTER = make_config_converter()


def structure_config(data: object, config_cls: type[C], *, path: str = "config") -> C:
    """Structure plan data into ``config_cls``.

    Args:
        data: a mapping from the plan (YAML/JSON).
        config_cls: an attrs class.
        path: field path of ``data`` in the plan, prefixed to every error path.

    Raises:
        InvalidValue: the first problem, with ``field`` set to its full path; ``valid`` lists
            every problem found when there is more than one.
    """
    if not isinstance(data, Mapping):
        raise InvalidValue(
            f"config must be a mapping, got {type(data).__name__}", field=path, valid="mapping"
        )
    try:
        return _CONVERTER.structure(dict(data), config_cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        messages = cattrs.transform_error(exc, path=path)
        # an unknown key is usually a misspelling: report it before the missing field it causes
        messages.sort(key=lambda m: not m.startswith("extra fields found"))
        first = messages[0] if messages else str(exc)
        match = _TRANSFORMED.match(first)
        message, where = (match["msg"], match["path"]) if match else (first, path)
        where = _KEY.sub(r".\1", where)
        extra = _EXTRA.match(message)
        if extra:
            names = extra["names"].split(", ")
            where = f"{where}.{names[0]}"
            message = f"unknown field {names[0]!r}"
            valid = ", ".join(a.name for a in _fields_at(config_cls, where, path))
            raise InvalidValue(message, field=where, valid=valid or None) from None
        others = "; ".join(messages[1:]) or None
        raise InvalidValue(message, field=where, valid=others) from None


def _fields_at(config_cls: type[Any], where: str, root: str) -> tuple[attrs.Attribute[Any], ...]:
    """Attributes of the attrs class at ``where`` (best effort; top level only)."""
    if where.rsplit(".", 1)[0] == root and attrs.has(config_cls):
        return tuple(attrs.fields(config_cls))
    return ()


@frozen
class Registration(Generic[P]):
    """One registered kind.

    Attributes:
        kind: the kind name used in plans.
        factory: builds the product (source/notifier) from a config object.
        config_cls: the attrs class the factory takes.
        plugin: name of the plugin that registered it.
    """

    kind: str
    factory: Callable[[Any], P]
    config_cls: type[Any]
    plugin: str


class Registry(Generic[P]):
    """Kind -> factory table with plugin attribution. Use the typed subclasses."""

    _label = "kind"

    def __init__(self) -> None:
        self._entries: dict[str, Registration[P]] = {}
        self._current_plugin = "<host>"
        self._frozen = False

    def add(self, kind: str, factory: Callable[[C], P], config_cls: type[C]) -> None:
        """Register ``kind``.

        Args:
            kind: lower-case name (``[a-z][a-z0-9_.-]*``) used in plan files.
            factory: callable taking one ``config_cls`` instance.
            config_cls: attrs class describing the configuration.

        Raises:
            InvalidValue: bad kind name, or ``config_cls`` is not an attrs class.
            Conflict: the kind is already registered (message names both plugins), or the
                registry is frozen.
        """
        if self._frozen:
            raise Conflict(f"registry is frozen; cannot add {self._label} {kind!r}", field=kind)
        if not _KIND.match(kind):
            raise InvalidValue(
                f"invalid {self._label} name {kind!r}", field="kind", valid="[a-z][a-z0-9_.-]*"
            )
        if not (isinstance(config_cls, type) and attrs.has(config_cls)):
            raise InvalidValue(
                f"config class for {kind!r} must be an attrs class",
                field="config_cls",
                valid="an @attrs.define/@frozen class",
            )
        existing = self._entries.get(kind)
        if existing is not None:
            raise Conflict(
                f"{self._label} {kind!r} registered by plugin {existing.plugin!r} "
                f"is registered again by plugin {self._current_plugin!r}",
                field=kind,
            )
        self._entries[kind] = Registration(kind, factory, config_cls, self._current_plugin)

    @contextmanager
    def scope(self, plugin: str) -> Iterator[None]:
        """Attribute additions inside the block to ``plugin``; roll them back if it raises."""
        before = set(self._entries)
        previous, self._current_plugin = self._current_plugin, plugin
        try:
            yield
        except BaseException:
            for kind in set(self._entries) - before:
                del self._entries[kind]
            raise
        finally:
            self._current_plugin = previous

    def freeze(self) -> None:
        """Refuse further additions (called once every plugin has registered)."""
        self._frozen = True

    def kinds(self) -> list[str]:
        """Registered kinds, sorted."""
        return sorted(self._entries)

    def get(self, kind: str) -> Registration[P]:
        """The registration for ``kind``.

        Raises:
            NotFound: unknown kind (``valid`` lists the known ones).
        """
        try:
            return self._entries[kind]
        except KeyError:
            raise NotFound(
                f"unknown {self._label} {kind!r}", field="kind", valid=", ".join(self.kinds())
            ) from None

    def __contains__(self, kind: object) -> bool:
        return kind in self._entries

    def __iter__(self) -> Iterator[Registration[P]]:
        return iter(self._entries[k] for k in self.kinds())

    def __len__(self) -> int:
        return len(self._entries)

    def create(self, kind: str, config: object, *, path: str = "config") -> P:
        """Structure ``config`` for ``kind`` and call its factory.

        Raises:
            NotFound: unknown kind.
            InvalidValue: the config does not fit the kind's config class (path-precise).
        """
        entry = self.get(kind)
        structured = structure_config(config, entry.config_cls, path=path)
        return entry.factory(structured)


class SourceRegistry(Registry[EvidenceSource]):
    """Source kinds (``csv``, ``rest``, ``sql``, ``opcua`` ...) -> ``EvidenceSource`` factories."""

    _label = "source kind"


class NotifierRegistry(Registry[Notifier]):
    """Channel kinds (``wecom``, ``smtp``, ``console`` ...) -> ``Notifier`` factories."""

    _label = "notifier kind"
