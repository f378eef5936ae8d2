"""DiagnoseChallenge: is a subject's target too easy, healthy or too hard?

Attainment per period = the indicator's value / its target (from the stored scorecards);
classification by :func:`perfcore.domain.challenge.diagnose_subject` with the default policy
(> 130 % or < 70 % over consecutive periods: perfcore's default bounds).
"""

from __future__ import annotations

from perfcore.domain.challenge import AttainmentPoint, SubjectDiagnosis, diagnose_subject
from perfcore.domain.errors import NotFound
from perfcore.domain.events import ChallengeDiagnosed
from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.plan.problems import did_you_mean
from perfcore.services.commands import DiagnoseChallenge
from perfcore.services.context import Context
from perfcore.services.records import ScorecardRecord

__all__ = ["diagnose_challenge"]


def diagnose_challenge(cmd: DiagnoseChallenge, ctx: Context) -> list[SubjectDiagnosis]:
    """One diagnosis per subject (those given, or every subject scored in the periods)."""
    plan: Plan = ctx.plan()
    indicator = plan.indicators.get(cmd.indicator)
    if indicator is None:
        raise NotFound(
            f"unknown indicator {cmd.indicator!r}",
            field="indicator",
            valid=did_you_mean(cmd.indicator, plan.indicators),
        )
    periods = [Period.parse(k, field="period_keys") for k in cmd.period_keys]
    out: list[SubjectDiagnosis] = []
    with ctx.uow as uow:
        history: dict[SubjectRef, list[AttainmentPoint]] = {}
        for period in periods:
            cards: list[tuple[SubjectRef, str, ScorecardRecord]] = uow.scorecards.list(
                period_key=period.key
            )
            for subject, _key, card in cards:
                value = card.values.get(cmd.indicator)
                attainment = (
                    indicator.version_for(period).attainment(value) if value is not None else None
                )
                if attainment is not None:
                    history.setdefault(subject, []).append(AttainmentPoint(period, attainment))
        subjects = list(cmd.subjects) or sorted(history, key=str)
        for subject in subjects:
            diagnosis = diagnose_subject(subject, history.get(subject, []))
            out.append(diagnosis)
            uow.diagnoses.add(f"{cmd.indicator}:{subject}", diagnosis, subject=subject)
            uow.emit(ChallengeDiagnosed(subject, diagnosis.level.value, diagnosis.action.value))
        uow.commit()
    return out
