"""The handler tables: one handler per command, any number per event.

Handlers are plain functions ``(message, ctx)``; one module per area (plan, evidence,
scorecards, alerts, reviews, clock, calibration, incentives, challenge). The loop, as events:

``ScorecardsStale`` → refresh scorecards → ``ScorecardComputed`` → evaluate alerts →
``AlertRaised`` → open a review with its SLA → (``TickClock``) reminders and escalations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from perfcore.domain import events
from perfcore.services import commands
from perfcore.services.handlers.alerts import (
    alerts_on_days,
    alerts_on_scorecard,
    evaluate_alerts,
)
from perfcore.services.handlers.calibration import (
    adjust_rating,
    lock_calibration,
    publish_calibration,
    run_calibration,
)
from perfcore.services.handlers.challenge import diagnose_challenge
from perfcore.services.handlers.clock import deliver, tick_clock
from perfcore.services.handlers.evidence import (
    correct_evidence,
    ingest_batch,
    record_evidence,
    sync_source,
)
from perfcore.services.handlers.incentives import evaluate_incentives, redeem
from perfcore.services.handlers.milestones import complete_milestone
from perfcore.services.handlers.plan import apply_plan
from perfcore.services.handlers.reviews import (
    finalize_review,
    open_review,
    open_review_on_alert,
    reopen_review,
    submit_feedback,
    submit_review,
    submit_self_assessment,
)
from perfcore.services.handlers.scorecards import (
    close_period,
    compute_scorecards,
    refresh_on_evidence,
)
from perfcore.services.messagebus import CommandHandler, EventHandler

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS"]

COMMAND_HANDLERS: Mapping[type[commands.Command], CommandHandler] = {
    commands.ApplyPlan: apply_plan,
    commands.RecordEvidence: record_evidence,
    commands.CorrectEvidence: correct_evidence,
    commands.ClosePeriod: close_period,
    commands.IngestBatch: ingest_batch,
    commands.SyncSource: sync_source,
    commands.ComputeScorecards: compute_scorecards,
    commands.EvaluateAlerts: evaluate_alerts,
    commands.OpenReview: open_review,
    commands.TickClock: tick_clock,
    commands.SubmitFeedback: submit_feedback,
    commands.SubmitReview: submit_review,
    commands.SubmitSelfAssessment: submit_self_assessment,
    commands.ReopenReview: reopen_review,
    commands.FinalizeReview: finalize_review,
    commands.RunCalibration: run_calibration,
    commands.AdjustRating: adjust_rating,
    commands.LockCalibration: lock_calibration,
    commands.PublishCalibration: publish_calibration,
    commands.EvaluateIncentives: evaluate_incentives,
    commands.Redeem: redeem,
    commands.DiagnoseChallenge: diagnose_challenge,
    commands.CompleteMilestone: complete_milestone,
    commands.DeliverOutbox: deliver,
}

EVENT_HANDLERS: Mapping[type[events.Event], Sequence[EventHandler]] = {
    events.ScorecardsStale: [refresh_on_evidence, alerts_on_days],
    events.ScorecardComputed: [alerts_on_scorecard],
    events.AlertRaised: [open_review_on_alert],
}
