"""Notifications go through the outbox in the same unit of work as the change, are delivered at
least once with a dedupe key, and are rendered in Chinese or English."""

from __future__ import annotations

import pytest

from perfcore.domain.errors import NotFound
from perfcore.domain.values import SubjectRef
from perfcore.ports.notifications import DeliveryResult
from perfcore.ports.outbox import OutboxStatus
from perfcore.services import commands as c
from perfcore.services.messagebus import MessageBus
from perfcore.services.templates import TEMPLATES, render
from perfcore.testing.fakes import FakeClock, RecordingNotifier

E1 = SubjectRef.person("E1")


def low_fpy(bus: MessageBus, clock: FakeClock) -> None:
    bus.handle(
        c.RecordEvidence("inspection", {"inspected": 100, "good": 80}, clock.now(), subject=E1)
    )


def test_every_template_exists_in_both_languages_with_the_same_placeholders() -> None:
    import string

    for name, langs in TEMPLATES.items():
        assert set(langs) == {"en", "zh"}, name
        fields = {
            lang: {f for part in texts for _, f, _, _ in string.Formatter().parse(part) if f}
            for lang, texts in langs.items()
        }
        assert fields["en"] == fields["zh"], name


def test_render_picks_the_language_and_keeps_unknown_placeholders() -> None:
    subject, body = render("review_opened", {"subject": "person:E1"}, "zh-CN")
    assert subject == "待办评审：person:E1"
    assert "{due_at}" in body
    with pytest.raises(NotFound):
        render("nope", {}, "en")


def test_opening_a_review_queues_a_message_in_the_same_unit_of_work(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    low_fpy(perfcore_bus, fake_clock)
    with perfcore_bus.uow as uow:
        keys = {m.template: m.dedupe_key for m in uow.outbox.all()}
        [review_id] = uow.reviews.open_keys()
    assert keys["review_opened"] == f"review:{review_id}:opened"


def test_delivery_is_at_least_once_and_retries_a_retryable_failure(
    perfcore_bus: MessageBus, fake_clock: FakeClock, recording_notifier: RecordingNotifier
) -> None:
    low_fpy(perfcore_bus, fake_clock)
    recording_notifier.fail_with = DeliveryResult.retryable("rate limited", retry_after=30)
    assert perfcore_bus.handle(c.DeliverOutbox()) == 0
    with perfcore_bus.uow as uow:
        statuses = {m.status for m in uow.outbox.all()}
    assert statuses == {OutboxStatus.FAILED}
    recording_notifier.fail_with = None
    assert perfcore_bus.handle(c.DeliverOutbox()) == 0  # retry_after not reached
    fake_clock.advance(seconds=30)
    assert perfcore_bus.handle(c.DeliverOutbox()) == 2
    assert perfcore_bus.handle(c.DeliverOutbox()) == 0
    assert [m.dedupe_key.endswith((":notify", ":opened")) for m in recording_notifier.sent] == [
        True,
        True,
    ]


def test_a_permanent_failure_is_not_retried(
    perfcore_bus: MessageBus, fake_clock: FakeClock, recording_notifier: RecordingNotifier
) -> None:
    low_fpy(perfcore_bus, fake_clock)
    recording_notifier.fail_with = DeliveryResult.permanent("bad webhook key")
    perfcore_bus.handle(c.DeliverOutbox())
    fake_clock.advance(days=1)
    recording_notifier.fail_with = None
    assert perfcore_bus.handle(c.DeliverOutbox()) == 0
    with perfcore_bus.uow as uow:
        assert {m.status for m in uow.outbox.all()} == {OutboxStatus.DEAD}


def test_messages_are_written_in_the_plan_language(
    perfcore_bus: MessageBus,
    perfcore_plan: str,
    fake_clock: FakeClock,
    recording_notifier: RecordingNotifier,
) -> None:
    perfcore_bus.handle(c.ApplyPlan(perfcore_plan.replace("locale: en", "locale: zh")))
    low_fpy(perfcore_bus, fake_clock)
    perfcore_bus.handle(c.DeliverOutbox())
    subjects = sorted(m.subject for m in recording_notifier.sent)
    assert subjects == ["待办评审：person:E1", "预警：person:E1 的 fpy"]
    assert all(m.locale == "zh" for m in recording_notifier.sent)


def test_nothing_is_queued_when_the_change_is_rolled_back(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    from perfcore.services.notify import enqueue

    with perfcore_bus.uow as uow:
        enqueue(
            uow, key="k", template="review_opened", recipient="M1", params={}, at=fake_clock.now()
        )
    with perfcore_bus.uow as uow:
        assert uow.outbox.get("k") is None
