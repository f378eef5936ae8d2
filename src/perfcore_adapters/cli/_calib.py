"""Calibration analysis for the CLI and the report: distribution vs guideline, rater-bias flags
and normalisation suggestions for one stored session.

Bias statistics and suggestions are computed by the domain (:func:`rater_bias`,
:func:`suggest_all`); this module only loads the session and shapes the
result for display.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from attrs import frozen

from perfcore.domain.calibration.bias import BiasFlag, rater_bias
from perfcore.domain.calibration.normalise import suggest_all
from perfcore.domain.calibration.session import CalibrationSession
from perfcore.domain.errors import NotFound
from perfcore.domain.values import SubjectRef
from perfcore.services.messagebus import MessageBus

__all__ = ["CalibrationView", "Suggestion", "analyse_session", "list_sessions"]


@frozen
class Suggestion:
    """A suggested rating for one subject (z-score normalisation, rounded to the scale step)."""

    subject: SubjectRef
    rater: str
    original: Decimal
    calibrated: Decimal
    suggested: Decimal | None


@frozen
class CalibrationView:
    """One session, analysed.

    Attributes:
        session: the stored session.
        buckets: bucket names, low → high.
        counts: bucket → head count (calibrated ratings).
        original_counts: bucket → head count (original ratings).
        targets: bucket → guideline share (``None`` without a guideline).
        guideline_ok / guideline_summary: the live guideline check.
        flags: rater-bias flags, with the rater's person id.
        rater_means: rater → (n, mean original rating).
        suggestions: per subject, the z-score suggestion.
    """

    session: CalibrationSession
    buckets: tuple[str, ...]
    counts: dict[str, int]
    original_counts: dict[str, int]
    targets: dict[str, float] | None
    guideline_ok: bool | None
    guideline_summary: str
    flags: tuple[tuple[str, BiasFlag], ...]
    rater_means: dict[str, tuple[int, float]]
    suggestions: tuple[Suggestion, ...]


def list_sessions(bus: MessageBus) -> list[CalibrationSession]:
    """Every stored calibration session, by id."""
    with bus.uow as uow:
        sessions: list[CalibrationSession] = list(uow.calibrations.list())
    return sorted(sessions, key=lambda s: s.id)


def analyse_session(bus: MessageBus, session_id: str) -> CalibrationView:
    """Load session ``session_id`` and analyse it. Raises ``NotFound`` (with the valid ids)."""
    with bus.uow as uow:
        session: CalibrationSession | None = uow.calibrations.get(session_id)
        known = [s.id for s in uow.calibrations.list()]
    if session is None:
        raise NotFound(
            f"no calibration session {session_id!r}",
            field="session",
            valid=", ".join(sorted(known)) or "none yet (run `perfcore demo` or RunCalibration)",
        )
    mapping = session.mapping
    buckets: tuple[str, ...] = tuple(mapping.order) if mapping is not None else ()
    counts = session.bucket_counts() if mapping is not None else {}
    original_counts: dict[str, int] = dict.fromkeys(buckets, 0)
    if mapping is not None:
        for subject in session.subjects:
            original_counts[mapping.bucket(session.original(subject))] += 1
    targets: dict[str, float] | None = None
    guideline = session.guideline
    if guideline is not None:
        targets = {b: float(guideline.targets[b]) for b in buckets if b in guideline.targets}
    check = session.check_guideline()
    batch, subjects, raters = session.rating_batch()
    flags: list[tuple[str, BiasFlag]] = []
    means: dict[str, tuple[int, float]] = {}
    suggestions: list[Suggestion] = []
    if subjects:
        for subject, rater_index, value in zip(subjects, batch.raters, batch.values, strict=True):
            name = raters[rater_index]
            n, total = means.get(name, (0, 0.0))
            means[name] = (n + 1, total + float(value))
            del subject
        means = {k: (n, s / n) for k, (n, s) in means.items()}
        if mapping is not None:
            report = rater_bias(batch, mapping=mapping, guideline=guideline, names=raters)
            flags = [(raters[f.rater], f) for f in report.flags]
        norm = suggest_all(batch, scale=session.scale, round_to_step=True)
        calibrated = session.calibrated_ratings()
        for i, subject in enumerate(subjects):
            raw = norm.zscore.values[i]
            suggestions.append(
                Suggestion(
                    subject,
                    raters[batch.raters[i]],
                    session.original(subject),
                    calibrated[subject],
                    None if raw is None else Decimal(str(raw)),
                )
            )
    return CalibrationView(
        session=session,
        buckets=buckets,
        counts=counts,
        original_counts=original_counts,
        targets=targets,
        guideline_ok=None if check is None else check.ok,
        guideline_summary="" if check is None else check.summary(),
        flags=tuple(flags),
        rater_means=means,
        suggestions=tuple(suggestions),
    )


def as_dict(view: CalibrationView) -> dict[str, Any]:
    """JSON-ready form of a view (for ``--json``)."""
    return {
        "session": view.session.id,
        "state": view.session.state.value,
        "buckets": list(view.buckets),
        "counts": view.counts,
        "original_counts": view.original_counts,
        "targets": view.targets,
        "guideline_ok": view.guideline_ok,
        "guideline_summary": view.guideline_summary,
        "flags": [
            {"rater": r, "kind": f.kind, "statistic": f.statistic, "sentence": f.sentence}
            for r, f in view.flags
        ],
        "suggestions": [
            {
                "subject": str(s.subject),
                "rater": s.rater,
                "original": str(s.original),
                "calibrated": str(s.calibrated),
                "suggested": None if s.suggested is None else str(s.suggested),
            }
            for s in view.suggestions
        ],
    }
