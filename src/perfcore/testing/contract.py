"""Contract test suites for the perfcore ports.

Every implementation of a port — the in-memory fakes here, the SQLAlchemy adapter, a third-party
plugin — must pass the same suite. A suite is a plain class of ``test_*`` methods that take
fixtures; subclass it in a test module whose name pytest collects and provide the fixtures::

    from perfcore.testing.contract import UnitOfWorkContract

    class TestSqliteUnitOfWork(UnitOfWorkContract):
        @pytest.fixture
        def uow_factory(self, tmp_path):
            url = f"sqlite:///{tmp_path}/db.sqlite"
            return lambda: SqlAlchemyUnitOfWork(url)   # each call: a new UoW on the SAME store

Fixtures each suite needs:

- :class:`UnitOfWorkContract`, :class:`OutboxContract`, :class:`RepositoryContract`:
  ``uow_factory`` — a zero-argument callable returning a new unit of work over one shared store;
  optionally ``make_item(n) -> object`` (an aggregate the keyed repositories can store; the default
  builds :class:`ContractItem`, override it when your adapter only stores domain types).
- :class:`ClockContract`: ``clock``.
- :class:`IdentityResolverContract`: ``identity_resolver`` and ``known_identity`` —
  ``(system, external_id, SubjectRef)`` that the resolver knows.
- :class:`NotifierContract`: ``notifier`` (a channel that accepts a message in the test).

The contract for evidence sources lives in :mod:`perfcore.testing.sources`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from attrs import frozen

from perfcore.domain.errors import Conflict, NotFound
from perfcore.domain.values import SubjectRef
from perfcore.ports.clock import Clock
from perfcore.ports.identity import IdentityResolver
from perfcore.ports.notifications import DeliveryResult, DeliveryStatus, Message, Notifier
from perfcore.ports.outbox import OutboxMessage, OutboxStatus
from perfcore.ports.records import PeriodScoring, PlanVersion, QuarantinedRecord, SourceBookmark
from perfcore.ports.uow import AbstractUnitOfWork

__all__ = [
    "ClockContract",
    "ContractItem",
    "IdentityResolverContract",
    "NotifierContract",
    "OutboxContract",
    "RepositoryContract",
    "UnitOfWorkContract",
]

UowFactory = Callable[[], AbstractUnitOfWork]
T0 = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.UTC)
E1 = SubjectRef.person("E1")
E2 = SubjectRef.person("E2")


@frozen
class ContractItem:
    """A stand-in aggregate used by the contract suites."""

    n: int
    label: str = "item"


def _message(key: str, at: dt.datetime = T0) -> OutboxMessage:
    return OutboxMessage(
        dedupe_key=key,
        kind="notification",
        template="review_opened",
        recipient="M1",
        created_at=at,
        params={"review": "R1"},
    )


class _UowFixtures:
    @pytest.fixture
    def make_item(self) -> Callable[[int], object]:
        """Default aggregate factory; override for adapters that store only domain types."""
        return ContractItem


class UnitOfWorkContract(_UowFixtures):
    """Transactions: rollback by default, commit makes durable, events only after commit."""

    def test_uncommitted_work_is_rolled_back(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            uow.alerts.add("a1", make_item(1))
        with uow_factory() as uow:
            assert uow.alerts.get("a1") is None

    def test_uncommitted_evidence_is_rolled_back(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            uow.evidence.add("k0", make_item(0), subject=E1, evidence_type="t", at=T0)
            uow.commit()
        with uow_factory() as uow:
            uow.evidence.add("k1", make_item(1), subject=E1, evidence_type="t", at=T0)
            uow.evidence.add("k2", make_item(2), subject=E2, evidence_type="t", at=T0)
        with uow_factory() as uow:
            assert uow.evidence.get_by_idempotency_key("k1") is None
            assert uow.evidence.list() == [make_item(0)]
            assert uow.evidence.subjects() == [E1]
            uow.evidence.add("k1", make_item(1), subject=E1, evidence_type="t", at=T0)
            uow.commit()
        with uow_factory() as uow:
            assert uow.evidence.list(subject=E1) == [make_item(0), make_item(1)]

    def test_committed_work_is_visible_to_the_next_unit_of_work(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            uow.alerts.add("a1", make_item(1))
            uow.commit()
        with uow_factory() as uow:
            assert uow.alerts.get("a1") == make_item(1)

    def test_an_exception_rolls_back(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        def failing_work() -> None:
            with uow_factory() as uow:
                uow.alerts.add("a1", make_item(1))
                uow.outbox.add(_message("m1"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            failing_work()
        with uow_factory() as uow:
            assert uow.alerts.get("a1") is None
            assert uow.outbox.get("m1") is None

    def test_outbox_and_data_commit_together(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            uow.alerts.add("a1", make_item(1))
            uow.outbox.add(_message("m1"))
            uow.commit()
        with uow_factory() as uow:
            assert uow.alerts.get("a1") is not None
            assert uow.outbox.get("m1") is not None

    def test_a_unit_of_work_is_active_only_inside_its_block(self, uow_factory: UowFactory) -> None:
        uow = uow_factory()

        def active() -> bool:
            return uow.active

        assert active() is False
        with uow:
            assert active() is True
        assert active() is False

    def test_emitted_events_are_released_only_after_commit(self, uow_factory: UowFactory) -> None:
        uow = uow_factory()
        with uow:
            uow.emit("rolled back")
        assert list(uow.collect_new_events()) == []
        with uow:
            uow.emit("kept")
            uow.commit()
        assert list(uow.collect_new_events()) == ["kept"]
        assert list(uow.collect_new_events()) == []

    def test_events_on_tracked_aggregates_are_collected_at_commit(
        self, uow_factory: UowFactory
    ) -> None:
        class Aggregate:
            def __init__(self) -> None:
                self.events: list[object] = ["raised"]

        uow = uow_factory()
        agg = Aggregate()
        with uow:
            uow.track(agg)
            uow.commit()
        assert list(uow.collect_new_events()) == ["raised"]
        assert agg.events == []


def _keyed(uow: AbstractUnitOfWork) -> tuple[Any, ...]:
    return (uow.reviews, uow.calibrations, uow.milestones, uow.alerts, uow.diagnoses, uow.periods)


class RepositoryContract(_UowFixtures):
    """Repository semantics shared by every adapter."""

    def test_keyed_repositories_replace_on_add_and_list_by_key(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            for repo in (*_keyed(uow),):
                repo.add("k2", make_item(2), subject=E2)
                repo.add("k1", make_item(1), subject=E1)
                repo.add("k1", make_item(3), subject=E1)
            uow.commit()
        with uow_factory() as uow:
            for repo in (*_keyed(uow),):
                assert repo.list() == [make_item(3), make_item(2)]
                assert repo.list(subject=E2) == [make_item(2)]
                assert repo.get("missing") is None

    def test_open_reviews_are_listed_until_closed(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            uow.reviews.add("r1", make_item(1), subject=E1)
            uow.reviews.add("r2", make_item(2), subject=E1)
            uow.reviews.set_open("r1", True)
            uow.reviews.set_open("r2", True)
            uow.reviews.set_open("r2", False)
            uow.commit()
        with uow_factory() as uow:
            assert uow.reviews.open_keys() == ["r1"]

    def test_plan_versions_are_numbered_and_unique(self, uow_factory: UowFactory) -> None:
        v1 = PlanVersion(1, "a" * 64, "version: 1\n", "plan.yaml", T0)
        v2 = PlanVersion(2, "b" * 64, "version: 1\n#2\n", "plan.yaml", T0)
        with uow_factory() as uow:
            assert uow.plans.latest() is None
            uow.plans.add(v1)
            uow.plans.add(v2)
            with pytest.raises(Conflict):
                uow.plans.add(v1)
            uow.commit()
        with uow_factory() as uow:
            assert uow.plans.latest() == v2
            assert uow.plans.get(1) == v1
            assert [v.number for v in uow.plans.list()] == [1, 2]

    def test_plan_records_which_version_scored_which_period(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.plans.record_scoring(PeriodScoring(E1, "2025-03", 1, T0))
            uow.plans.record_scoring(PeriodScoring(E1, "2025-03", 2, T0))
            uow.plans.record_scoring(PeriodScoring(E2, "2025-02", 1, T0))
            uow.commit()
        with uow_factory() as uow:
            assert [s.plan_version for s in uow.plans.scorings(period_key="2025-03")] == [2]
            assert [s.period_key for s in uow.plans.scorings()] == ["2025-02", "2025-03"]

    def test_evidence_is_found_by_idempotency_key_and_filtered(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            ev = uow.evidence
            ev.add("k2", make_item(2), subject=E1, evidence_type="t", at=T0 + dt.timedelta(hours=2))
            ev.add("k1", make_item(1), subject=E1, evidence_type="t", at=T0)
            ev.add("k3", make_item(3), subject=E2, evidence_type="u", at=T0)
            with pytest.raises(Conflict):
                ev.add("k1", make_item(9), subject=E1, evidence_type="t", at=T0)
            uow.commit()
        with uow_factory() as uow:
            ev = uow.evidence
            assert ev.get_by_idempotency_key("k1") == make_item(1)
            assert ev.get_by_idempotency_key("nope") is None
            assert ev.list(subject=E1) == [make_item(1), make_item(2)]
            assert ev.list(evidence_type="u") == [make_item(3)]
            window = ev.list(start=T0 + dt.timedelta(hours=1), end=T0 + dt.timedelta(hours=3))
            assert window == [make_item(2)]
            assert ev.list(start=T0, end=T0) == []
            assert ev.subjects() == [E1, E2]

    def test_a_correction_is_kept_with_its_history_and_only_the_current_version_is_served(
        self, uow_factory: UowFactory
    ) -> None:
        """A correction: version 2 supersedes version 1, which stays readable by key
        and in ``versions`` (audit) but is no longer listed."""
        from perfcore.services.records import AcceptedEvidence

        def version(n: int, good: int, at: dt.datetime) -> AcceptedEvidence:
            return AcceptedEvidence(
                f"mes:lot-1:v{n}", "t", E1, at, at, "mes", "lot-1", {"good": good},
                n, None if n == 1 else f"mes:lot-1:v{n - 1}",
            )  # fmt: skip

        later = T0 + dt.timedelta(days=40)
        with uow_factory() as uow:
            one = version(1, 9, T0)
            uow.evidence.add(one.key, one, subject=E1, evidence_type="t", at=T0)
            uow.commit()
        with uow_factory() as uow:
            two = version(2, 6, later)
            uow.evidence.add(two.key, two, subject=E1, evidence_type="t", at=later)
            uow.commit()
        with uow_factory() as uow:
            ev = uow.evidence
            assert [(e.key, e.values["good"]) for e in ev.list()] == [("mes:lot-1:v2", 6)]
            assert ev.list(end=later) == []  # version 1's time no longer holds anything
            assert [e.version for e in ev.versions("mes", "lot-1")] == [1, 2]
            assert ev.versions("mes", "nope") == []
            old = ev.get_by_idempotency_key("mes:lot-1:v1")
            assert old is not None
            assert old.values["good"] == 9

    def test_quarantine_keeps_rejected_records_with_their_reason(
        self, uow_factory: UowFactory
    ) -> None:
        rec = QuarantinedRecord("q1", "mes", "unresolved identity", {"badge": "B9"}, T0, "badge")
        with uow_factory() as uow:
            uow.evidence.quarantine(rec)
            uow.evidence.quarantine(QuarantinedRecord("q1", "mes", "other", {}, T0))
            uow.commit()
        with uow_factory() as uow:
            assert uow.evidence.quarantined() == [rec]
            assert uow.evidence.quarantined(source="crm") == []

    def test_scorecards_are_replaced_per_subject_and_period(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            uow.scorecards.put(E1, "2025-03", make_item(1))
            uow.scorecards.put(E1, "2025-03", make_item(2))
            uow.scorecards.put(E2, "2025-02", make_item(3))
            uow.commit()
        with uow_factory() as uow:
            assert uow.scorecards.get(E1, "2025-03") == make_item(2)
            assert uow.scorecards.get(E2, "2025-03") is None
            assert uow.scorecards.list() == [
                (E2, "2025-02", make_item(3)),
                (E1, "2025-03", make_item(2)),
            ]
            assert uow.scorecards.list(subject=E1) == [(E1, "2025-03", make_item(2))]
        with uow_factory() as uow:
            assert uow.scorecards.remove(E1, "2025-03") is True
            assert uow.scorecards.remove(E1, "2025-03") is False
            assert uow.scorecards.remove(E2, "2025-03") is False  # another period is kept
            uow.commit()
        with uow_factory() as uow:
            assert uow.scorecards.get(E1, "2025-03") is None
            assert uow.scorecards.list() == [(E2, "2025-02", make_item(3))]

    def test_ledger_is_append_only_and_idempotent_by_key(
        self, uow_factory: UowFactory, make_item: Callable[[int], object]
    ) -> None:
        with uow_factory() as uow:
            uow.ledger.append("e1", make_item(1), subject=E1, at=T0)
            uow.ledger.append("e2", make_item(2), subject=E2, at=T0)
            with pytest.raises(Conflict):
                uow.ledger.append("e1", make_item(5), subject=E1, at=T0)
            uow.commit()
        with uow_factory() as uow:
            assert uow.ledger.get("e1") == make_item(1)
            assert uow.ledger.entries() == [make_item(1), make_item(2)]
            assert uow.ledger.entries(subject=E2) == [make_item(2)]

    def test_bookmarks_are_stored_per_stream_and_partition(self, uow_factory: UowFactory) -> None:
        b = SourceBookmark("mes", "quality", "line-1", {"cursor": "2025-03-01"}, T0)
        with uow_factory() as uow:
            assert uow.bookmarks.get("mes", "quality", "line-1") is None
            uow.bookmarks.put(b)
            uow.commit()
        with uow_factory() as uow:
            assert uow.bookmarks.get("mes", "quality", "line-1") == b
            assert uow.bookmarks.get("mes", "quality") is None
            assert uow.bookmarks.list(source="mes") == [b]


class OutboxContract(_UowFixtures):
    """Outbox: dedupe, due selection, delivery bookkeeping."""

    def test_a_dedupe_key_is_stored_once(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            assert uow.outbox.add(_message("m1")) is True
            assert uow.outbox.add(_message("m1")) is False
            uow.commit()
        with uow_factory() as uow:
            assert [m.dedupe_key for m in uow.outbox.all()] == ["m1"]

    def test_delivered_messages_are_no_longer_pending(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.outbox.add(_message("m1"))
            uow.outbox.add(_message("m2"))
            uow.outbox.mark_delivered("m1", T0)
            uow.commit()
        with uow_factory() as uow:
            assert [m.dedupe_key for m in uow.outbox.pending(T0)] == ["m2"]
            delivered = uow.outbox.get("m1")
            assert delivered is not None
            assert delivered.status is OutboxStatus.DELIVERED

    def test_failed_messages_come_back_when_their_retry_time_is_due(
        self, uow_factory: UowFactory
    ) -> None:
        retry = T0 + dt.timedelta(minutes=5)
        with uow_factory() as uow:
            uow.outbox.add(_message("m1"))
            uow.outbox.mark_failed("m1", "rate limited", retry)
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.pending(T0) == []
            [again] = uow.outbox.pending(retry)
            assert again.attempts == 1
            assert again.last_error == "rate limited"

    def test_giving_up_marks_a_message_dead(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.outbox.add(_message("m1"))
            uow.outbox.mark_failed("m1", "bad credentials", None)
            msg = uow.outbox.get("m1")
            assert msg is not None
            assert msg.status is OutboxStatus.DEAD
            assert uow.outbox.pending(T0 + dt.timedelta(days=365)) == []

    def test_unknown_keys_raise_not_found(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            with pytest.raises(NotFound):
                uow.outbox.mark_delivered("nope", T0)
            with pytest.raises(NotFound):
                uow.outbox.mark_failed("nope", "x", None)


class ClockContract:
    """A clock answers aware datetimes that never go backwards."""

    def test_now_is_timezone_aware(self, clock: Clock) -> None:
        assert clock.now().tzinfo is not None
        assert clock.now().utcoffset() is not None

    def test_now_does_not_go_backwards(self, clock: Clock) -> None:
        first = clock.now()
        assert clock.now() >= first


class IdentityResolverContract:
    """Known ids resolve to their subject; unknown ids resolve to ``None`` (never guessed)."""

    def test_known_identity_resolves(
        self, identity_resolver: IdentityResolver, known_identity: tuple[str, str, SubjectRef]
    ) -> None:
        system, external_id, subject = known_identity
        assert identity_resolver.resolve(system, external_id) == subject

    def test_unknown_identity_is_not_guessed(
        self, identity_resolver: IdentityResolver, known_identity: tuple[str, str, SubjectRef]
    ) -> None:
        system, external_id, _ = known_identity
        assert identity_resolver.resolve(system, external_id + "-unknown-") is None
        assert identity_resolver.resolve("no-such-system-", external_id) is None


class NotifierContract:
    """A notifier classifies the outcome instead of raising."""

    def test_send_answers_a_delivery_result(self, notifier: Notifier) -> None:
        recipients: Any = ("M1",)  # Message's tuple converter confuses mypy's attrs plugin
        message = Message(
            channel="test", recipients=recipients, subject="perfcore", body="hello", dedupe_key="n1"
        )
        result = notifier.send(message)
        assert isinstance(result, DeliveryResult)
        assert result.status in set(DeliveryStatus)
