"""Copy everything one unit of work holds into another, in a single transaction.

The demo replays months of history through the message bus on fast in-memory storage (thousands
of small transactions), then writes the resulting state — plan versions, evidence and quarantine,
scorecards, alerts, reviews, calibration sessions, ledger, milestones, closed periods, outbox,
bookmarks — into the SQL database in one commit through the repository ports. The database then
answers every read command (``perfcore dashboard --db DIR/perfcore.db`` ...) exactly as if the
replay had run on it. Not copied: challenge diagnoses (the demo runs them afterwards) and
superseded evidence versions (the demo has none).
"""

from __future__ import annotations

from perfcore.ports.outbox import OutboxStatus
from perfcore.ports.uow import AbstractUnitOfWork

__all__ = ["copy_state"]


def copy_state(source: AbstractUnitOfWork, target: AbstractUnitOfWork) -> dict[str, int]:
    """Copy the whole state of ``source`` into ``target`` (expected empty); returns the number
    of items copied per repository."""
    counts: dict[str, int] = {}
    with source as src:
        plans = src.plans.list()
        scorings = src.plans.scorings()
        evidence = src.evidence.list()
        quarantined = src.evidence.quarantined()
        cards = src.scorecards.list()
        alerts = src.alerts.list()
        reviews = src.reviews.list()
        open_keys = set(src.reviews.open_keys())
        sessions = src.calibrations.list()
        entries = src.ledger.entries()
        milestones = src.milestones.list()
        closed = [p for p in src.periods.list() if p is not None]
        outbox = src.outbox.all()
        bookmarks = src.bookmarks.list()
    with target as dst:
        for version in plans:
            dst.plans.add(version)
        for scoring in scorings:
            dst.plans.record_scoring(scoring)
        for ev in evidence:
            dst.evidence.add(
                ev.key, ev, subject=ev.subject, evidence_type=ev.evidence_type, at=ev.occurred_at
            )
        for record in quarantined:
            dst.evidence.quarantine(record)
        for subject, key, card in cards:
            dst.scorecards.put(subject, key, card)
        for alert in alerts:
            dst.alerts.add(alert.key, alert, subject=alert.subject)
        for review in reviews:
            dst.reviews.add(review.id, review, subject=review.subject)
            dst.reviews.set_open(review.id, review.id in open_keys)
        for session in sessions:
            dst.calibrations.add(session.id, session)
        for entry in entries:
            dst.ledger.append(entry.entry_id, entry, subject=entry.account.subject, at=entry.at)
        for milestone in milestones:
            dst.milestones.add(milestone.id, milestone, subject=milestone.owner)
        for record in closed:
            dst.periods.add(record.period_key, record)
        for message in outbox:
            dst.outbox.add(message)
            if message.status is OutboxStatus.DELIVERED and message.delivered_at is not None:
                dst.outbox.mark_delivered(message.dedupe_key, message.delivered_at)
            elif message.status is not OutboxStatus.PENDING:
                dst.outbox.mark_failed(
                    message.dedupe_key, message.last_error, message.next_attempt_at
                )
        for bookmark in bookmarks:
            dst.bookmarks.put(bookmark)
        dst.commit()
    counts.update(
        plans=len(plans),
        evidence=len(evidence),
        quarantined=len(quarantined),
        scorecards=len(cards),
        alerts=len(alerts),
        reviews=len(reviews),
        calibrations=len(sessions),
        ledger=len(entries),
        closed_periods=len(closed),
        outbox=len(outbox),
    )
    return counts
