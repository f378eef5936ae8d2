"""The message bus: commands have one handler and propagate errors; events have many handlers
whose failures are logged, parked in the outbox and retried later — never lost.

Handlers are plain functions ``handler(message, ctx) -> result`` where ``ctx`` is the
:class:`~perfcore.services.context.Context` holding the unit of work, clock, notifiers, identity
resolver, plugins and the current plan. A handler opens ``with ctx.uow:``, changes things, emits
events and commits; the bus then collects the committed events and dispatches them, breadth first,
until the queue is empty.

Retry of failed event handlers: the failed ``(event, handler)`` pair is written to the outbox as a
message of kind ``"event"`` (dedupe key ``event:<handler>:<digest of the event>``), in its own unit
of work. :meth:`MessageBus.retry_failed_events` (run by ``TickClock``) re-runs those that are due,
with exponential backoff (1 min, 2 min, 4 min ... capped at 1 h) and gives up after
``max_event_attempts`` attempts (status ``dead``, still visible in the outbox).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from perfcore.domain.errors import InvalidValue
from perfcore.domain.events import Event
from perfcore.ports.outbox import OutboxMessage
from perfcore.services.commands import Command
from perfcore.services.context import Context
from perfcore.services.serialization import event_from_json, event_to_json

__all__ = ["CommandHandler", "EventHandler", "MessageBus"]

_log = logging.getLogger(__name__)

CommandHandler = Callable[[Any, Context], Any]
EventHandler = Callable[[Any, Context], None]


def _handler_name(handler: Callable[..., object]) -> str:
    return f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}"


class MessageBus:
    """Dispatches commands and events.

    ``command_handlers`` maps each command class to its single handler; ``event_handlers`` maps
    each event class to a sequence of handlers. Build it with :func:`perfcore.bootstrap`.
    """

    def __init__(
        self,
        ctx: Context,
        command_handlers: Mapping[type[Command], CommandHandler],
        event_handlers: Mapping[type[Event], Sequence[EventHandler]],
        *,
        max_event_attempts: int = 8,
    ) -> None:
        self.ctx = ctx
        self.command_handlers = dict(command_handlers)
        self.event_handlers = {k: list(v) for k, v in event_handlers.items()}
        self.max_event_attempts = max_event_attempts
        ctx.retry_events = self.retry_failed_events
        self._by_name = {
            _handler_name(h): h for handlers in self.event_handlers.values() for h in handlers
        }

    @property
    def uow(self) -> Any:
        """The unit of work (shortcut for ``bus.ctx.uow``)."""
        return self.ctx.uow

    def handle(self, message: Command | Event) -> Any:
        """Handle a command (returning its handler's result) or an event (returning ``None``),
        then every event that follows from it.

        Raises whatever the command handler raised; ``InvalidValue`` for an unknown command."""
        queue: list[Command | Event] = [message]
        result: Any = None
        first = True
        while queue:
            current = queue.pop(0)
            if isinstance(current, Command):
                value = self._handle_command(current)
                if first:
                    result = value
            else:
                self._handle_event(current)
            first = False
            queue.extend(self._collect())
        return result

    def _collect(self) -> list[Command | Event]:
        out: list[Command | Event] = []
        for item in self.ctx.uow.collect_new_events():
            if isinstance(item, Command | Event):
                out.append(item)
        return out

    def _handle_command(self, command: Command) -> Any:
        handler = self.command_handlers.get(type(command))
        if handler is None:
            known = ", ".join(sorted(c.__name__ for c in self.command_handlers))
            raise InvalidValue(
                f"no handler for command {type(command).__name__}", field="command", valid=known
            )
        _log.debug("handling command %r", command)
        return handler(command, self.ctx)

    def _handle_event(self, event: Event) -> None:
        for handler in self.event_handlers.get(type(event), []):
            try:
                _log.debug("handling event %r with %s", event, _handler_name(handler))
                handler(event, self.ctx)
            except Exception as exc:
                _log.exception("event handler %s failed for %r", _handler_name(handler), event)
                self._park(event, handler, exc)

    def _park(self, event: Event, handler: EventHandler, exc: BaseException) -> None:
        name = _handler_name(handler)
        payload = event_to_json(event)
        digest = hashlib.sha256(f"{name}|{payload}".encode()).hexdigest()[:24]
        now = self.ctx.clock.now()
        message = OutboxMessage(
            dedupe_key=f"event:{name}:{digest}",
            kind="event",
            template=name,
            recipient="",
            created_at=now,
            params={"event": payload},
        )
        with self.ctx.uow as uow:
            uow.outbox.add(message)  # the same event failing again keeps one row
            uow.outbox.mark_failed(message.dedupe_key, _describe(exc), _retry_at(now, 1))
            uow.commit()

    def retry_failed_events(self) -> int:
        """Re-run parked event handlers whose retry time has come; returns how many succeeded."""
        now = self.ctx.clock.now()
        with self.ctx.uow as uow:
            due = [m for m in uow.outbox.pending(now, limit=1000) if m.kind == "event"]
        succeeded = 0
        for message in due:
            handler = self._by_name.get(message.template)
            try:
                if handler is None:
                    raise InvalidValue(f"unknown handler {message.template}", field="template")
                event = event_from_json(message.params["event"])
                handler(event, self.ctx)
            except Exception as exc:
                _log.exception("retry of %s failed", message.template)
                attempts = message.attempts + 1
                retry = None if attempts >= self.max_event_attempts else _retry_at(now, attempts)
                with self.ctx.uow as uow:
                    uow.outbox.mark_failed(message.dedupe_key, _describe(exc), retry)
                    uow.commit()
                continue
            with self.ctx.uow as uow:
                uow.outbox.mark_delivered(message.dedupe_key, now)
                uow.commit()
            succeeded += 1
            for follow in self._collect():
                self.handle(follow)
        return succeeded


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _retry_at(now: dt.datetime, attempts: int) -> dt.datetime:
    minutes = min(60, 2 ** max(0, attempts - 1))
    return now + dt.timedelta(minutes=minutes)
