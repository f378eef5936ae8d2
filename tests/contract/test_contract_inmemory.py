"""The port contract suites run against the in-memory fakes (perfcore.testing.fakes)."""

from __future__ import annotations

import datetime as dt

import pytest

from perfcore.domain.values import SubjectRef
from perfcore.ports.clock import FixedClock, SystemClock
from perfcore.testing.contract import (
    ClockContract,
    IdentityResolverContract,
    NotifierContract,
    OutboxContract,
    RepositoryContract,
    UnitOfWorkContract,
)
from perfcore.testing.fakes import (
    FakeClock,
    InMemoryStore,
    InMemoryUnitOfWork,
    RecordingNotifier,
    StaticIdentityResolver,
)


class _InMemory:
    @pytest.fixture
    def uow_factory(self) -> object:
        store = InMemoryStore()
        return lambda: InMemoryUnitOfWork(store)


class TestInMemoryUnitOfWork(_InMemory, UnitOfWorkContract):
    pass


class TestInMemoryRepositories(_InMemory, RepositoryContract):
    pass


class TestInMemoryOutbox(_InMemory, OutboxContract):
    pass


class TestFakeClock(ClockContract):
    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock(dt.datetime(2025, 3, 3, tzinfo=dt.UTC))


class TestSystemClock(ClockContract):
    @pytest.fixture
    def clock(self) -> SystemClock:
        return SystemClock()


class TestFixedClock(ClockContract):
    @pytest.fixture
    def clock(self) -> FixedClock:
        return FixedClock(dt.datetime(2015, 3, 12, 12, tzinfo=dt.timezone(dt.timedelta(hours=6))))

    def test_it_answers_its_instant_and_refuses_a_naive_one(self, clock: FixedClock) -> None:
        assert clock.now() == dt.datetime(2015, 3, 12, 6, tzinfo=dt.UTC)
        assert clock.now() == clock.now()
        with pytest.raises(ValueError, match="timezone-aware"):
            FixedClock(dt.datetime(2015, 3, 12, 12))


class TestStaticIdentityResolver(IdentityResolverContract):
    @pytest.fixture
    def identity_resolver(self) -> StaticIdentityResolver:
        return StaticIdentityResolver({("mes", "B-17"): SubjectRef.person("E1")})

    @pytest.fixture
    def known_identity(self) -> tuple[str, str, SubjectRef]:
        return ("mes", "B-17", SubjectRef.person("E1"))


class TestRecordingNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self) -> RecordingNotifier:
        return RecordingNotifier()
