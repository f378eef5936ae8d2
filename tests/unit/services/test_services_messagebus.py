"""Message bus semantics: commands have one handler and propagate errors; failed event handlers
are parked in the outbox and retried later, never lost."""

from __future__ import annotations

import datetime as dt

import pytest
from attrs import frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.events import Event, PlanApplied
from perfcore.ports.outbox import OutboxStatus
from perfcore.services.commands import Command
from perfcore.services.context import Context
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock, InMemoryUnitOfWork

T0 = dt.datetime(2025, 3, 3, 8, tzinfo=dt.UTC)


@frozen
class Explode(Command):
    pass


@frozen
class Emit(Command):
    pass


class Flaky:
    """An event handler that fails ``failures`` times, then succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.seen: list[Event] = []

    def __call__(self, event: PlanApplied, ctx: Context) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("downstream is down")
        self.seen.append(event)


def explode(cmd: Explode, ctx: Context) -> None:
    raise InvalidValue("bad command", field="x")


def emit(cmd: Emit, ctx: Context) -> str:
    with ctx.uow as uow:
        uow.emit(PlanApplied(1, "h", T0))
        uow.commit()
    return "done"


def make_bus(handler: Flaky, clock: FakeClock) -> MessageBus:
    ctx = Context(uow=InMemoryUnitOfWork(), clock=clock)
    return MessageBus(
        ctx, {Explode: explode, Emit: emit}, {PlanApplied: [handler]}, max_event_attempts=3
    )


def test_a_command_error_propagates_to_the_caller() -> None:
    bus = make_bus(Flaky(0), FakeClock(T0))
    with pytest.raises(InvalidValue, match="bad command"):
        bus.handle(Explode())


def test_a_command_without_handler_is_refused_naming_the_known_ones() -> None:
    bus = make_bus(Flaky(0), FakeClock(T0))

    @frozen
    class Unknown(Command):
        pass

    with pytest.raises(InvalidValue) as info:
        bus.handle(Unknown())
    assert info.value.valid == "Emit, Explode"


def test_command_result_is_returned_and_its_events_are_handled() -> None:
    handler = Flaky(0)
    bus = make_bus(handler, FakeClock(T0))
    assert bus.handle(Emit()) == "done"
    assert handler.seen == [PlanApplied(1, "h", T0)]


def test_a_failed_event_handler_is_parked_and_retried_after_its_backoff() -> None:
    clock = FakeClock(T0)
    handler = Flaky(1)
    bus = make_bus(handler, clock)
    assert bus.handle(Emit()) == "done"  # the command still succeeds
    with bus.uow as uow:
        [parked] = uow.outbox.all()
    assert parked.kind == "event"
    assert parked.status is OutboxStatus.FAILED
    assert parked.next_attempt_at == T0 + dt.timedelta(minutes=1)
    assert bus.retry_failed_events() == 0  # not due yet
    clock.advance(minutes=1)
    assert bus.retry_failed_events() == 1
    assert handler.seen == [PlanApplied(1, "h", T0)]
    with bus.uow as uow:
        assert uow.outbox.get(parked.dedupe_key).status is OutboxStatus.DELIVERED


def test_an_event_handler_that_keeps_failing_ends_dead_but_visible() -> None:
    clock = FakeClock(T0)
    bus = make_bus(Flaky(100), clock)
    bus.handle(Emit())
    for _ in range(5):
        clock.advance(hours=2)
        bus.retry_failed_events()
    with bus.uow as uow:
        [parked] = uow.outbox.all()
    assert parked.status is OutboxStatus.DEAD
    assert parked.attempts == 3
    assert parked.last_error == "RuntimeError: downstream is down"
