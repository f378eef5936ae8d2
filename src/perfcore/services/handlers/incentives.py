"""Incentives: evaluate the plan's rules into the append-only ledger, and redemptions.

The ledger aggregate (:class:`perfcore.domain.ledger.Ledger`) is rebuilt from the stored entries
in each unit of work; :func:`perfcore.domain.incentive.run_rule` decides and writes (award,
delta or nothing), and only the *new* entries are appended to the repository under their entry
id. Re-running a rule for the same subject and period therefore awards nothing twice.
"""

from __future__ import annotations

from decimal import Decimal

from perfcore.domain.events import IncentiveAwarded, PointsRedeemed
from perfcore.domain.incentive import run_rule
from perfcore.domain.ledger import Account, Ledger, LedgerEntry
from perfcore.domain.values import Period, SubjectKind, SubjectRef
from perfcore.plan import Plan
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import EvaluateIncentives, Redeem
from perfcore.services.context import Context
from perfcore.services.notify import enqueue
from perfcore.services.records import ScorecardRecord

__all__ = ["evaluate_incentives", "load_ledger", "redeem"]


def load_ledger(uow: AbstractUnitOfWork) -> Ledger:
    """The ledger aggregate rebuilt from every stored entry."""
    entries: list[LedgerEntry] = uow.ledger.entries()
    return Ledger.from_entries(entries)


def _append(uow: AbstractUnitOfWork, entries: tuple[LedgerEntry, ...]) -> None:
    for entry in entries:
        uow.ledger.append(entry.entry_id, entry, subject=entry.account.subject, at=entry.at)


def evaluate_incentives(cmd: EvaluateIncentives, ctx: Context) -> list[LedgerEntry]:
    """Run every incentive rule for every scored subject of the period; returns the entries
    written now (empty on a repeat)."""
    plan: Plan = ctx.plan()
    period = Period.parse(cmd.period_key, field="period_key")
    now = ctx.clock.now()
    written: list[LedgerEntry] = []
    with ctx.uow as uow:
        ledger = load_ledger(uow)
        cards: list[tuple[SubjectRef, str, ScorecardRecord]] = uow.scorecards.list(
            period_key=period.key
        )
        wanted = set(cmd.subjects)
        for subject, _key, card in cards:
            if wanted and subject not in wanted:
                continue
            for rule_id, rule in plan.incentive_rules.items():
                condition = plan.conditions[rule_id].evaluate
                run = run_rule(
                    rule,
                    ledger,
                    card.subject,
                    period,
                    dict(card.values),
                    condition=condition,
                    at=now,
                )
                _append(uow, run.entries)
                for entry in run.entries:
                    written.append(entry)
                    uow.emit(
                        IncentiveAwarded(
                            entry.entry_id,
                            rule_id,
                            card.subject,
                            period.key,
                            entry.amount,
                            entry.account.unit,
                        )
                    )
                    if card.subject.kind is SubjectKind.PERSON:
                        enqueue(
                            uow,
                            key=f"ledger:{entry.entry_id}:notify",
                            template="incentive_awarded",
                            recipient=card.subject.id,
                            params={
                                "amount": format(entry.amount.normalize(), "f"),
                                "unit": entry.account.unit,
                                "rule": rule.name or rule_id,
                                "subject": str(card.subject),
                                "period": period.key,
                            },
                            at=now,
                            locale=plan.locale,
                        )
        uow.commit()
    return written


def redeem(cmd: Redeem, ctx: Context) -> Decimal:
    """Spend points (or days, seats) from the subject's balance; returns the new balance.
    ``InsufficientBalance`` (a ``PolicyDenied``) when the balance is too small; a repeated
    ``request_id`` changes nothing."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        ledger = load_ledger(uow)
        account = Account.of(cmd.subject, cmd.unit if cmd.unit != "points" else "points")
        before = len(ledger.entries)
        entry = ledger.redeem(
            account, cmd.amount, request_id=cmd.request_id, at=now, reason=cmd.item
        )
        if len(ledger.entries) > before:
            _append(uow, (entry,))
            uow.emit(
                PointsRedeemed(entry.entry_id, cmd.subject, cmd.amount, account.unit, cmd.item)
            )
            uow.commit()
        return ledger.balance(account)
