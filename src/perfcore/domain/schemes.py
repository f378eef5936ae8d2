"""Suggestion / micro-innovation schemes: staged rewards, each stage paid once.

Mission scenario 6: a lean improvement proposal is rewarded in stages as it proves itself — e.g.
``adopted`` → ``produced_benefit`` → ``rolled_out`` (to other lines). Each stage pays once per
proposal, in order, split between the proposers by their shares. A stage pays either a fixed
amount or a share of the first-year savings with an optional cap — the most common cash formula
is 10 % of first-year savings (IRS Employment Trends survey, as reported by Management Today,
https://www.managementtoday.co.uk/uk-suggestions-welcome/article/411781; Toyota Georgetown approves
small awards at supervisor level, The Toyota Way Fieldbook p. 262 — recorded here as
``approval_level``).

Ledger key of a stage award: ``(scheme id, proposer, "proposal:<id>", stage)``; the entry's period
is the period it was paid in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from attrs import field, frozen

from perfcore.domain.accounts import optional_non_negative
from perfcore.domain.errors import InvalidTransition, InvalidValue, InvalidWeight
from perfcore.domain.ledger import Account, IdempotencyKey, Ledger, LedgerEntry, RewardKind
from perfcore.domain.values import Period, SubjectRef, as_decimal, quantize

__all__ = ["Proposal", "SchemeStage", "StagedScheme", "award_stage"]


def _stage_amount(value: object) -> Decimal | None:
    return optional_non_negative(value, field="amount")


def _stage_share(value: object) -> Decimal | None:
    return optional_non_negative(value, field="savings_share")


def _stage_cap(value: object) -> Decimal | None:
    return optional_non_negative(value, field="cap")


@frozen
class SchemeStage:
    """One stage: a fixed ``amount``, or ``savings_share`` × first-year savings up to ``cap``.

    Raises:
        InvalidValue: empty name, negative numbers, both or neither of amount / savings_share.
    """

    name: str
    amount: Decimal | None = field(default=None, converter=_stage_amount)
    savings_share: Decimal | None = field(default=None, converter=_stage_share)
    cap: Decimal | None = field(default=None, converter=_stage_cap)
    approval_level: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.name.strip() or "|" in self.name:
            raise InvalidValue(
                f"stage name must be non-empty text without '|', got {self.name!r}",
                field="name",
                valid="a name such as 'adopted'",
            )
        if (self.amount is None) == (self.savings_share is None):
            raise InvalidValue(
                "a stage pays either a fixed amount or a share of savings",
                field="amount",
                valid="exactly one of amount, savings_share",
            )

    def value(self, savings: Decimal | None) -> Decimal:
        """The stage's total reward given first-year ``savings``.

        Raises:
            InvalidValue: a savings-share stage without ``savings`` (field ``savings``).
        """
        if self.amount is not None:
            return self.amount
        if savings is None:
            raise InvalidValue(
                f"stage {self.name!r} pays a share of savings; no savings were given",
                field="savings",
                valid="the first-year savings, >= 0",
            )
        assert self.savings_share is not None
        v = savings * self.savings_share
        return v if self.cap is None else min(v, self.cap)


@frozen
class StagedScheme:
    """An ordered list of stages paying one reward kind.

    ``places`` rounds each proposer's share (half up); the first proposer takes the rounding
    remainder so the shares add up to the stage value exactly.

    Raises:
        InvalidValue: no stages, duplicate stage names (``stages[i].name``), bad kind/unit or id.
    """

    id: str
    stages: tuple[SchemeStage, ...] = field(converter=tuple)
    kind: RewardKind = RewardKind.POINTS
    unit: str | None = None
    places: int = 2

    def __attrs_post_init__(self) -> None:
        if not self.id.strip() or "|" in self.id:
            raise InvalidValue(
                f"scheme id must be non-empty text without '|', got {self.id!r}",
                field="id",
                valid="an id such as 'lean-proposals'",
            )
        Account.of(SubjectRef.person("check"), self.kind, self.unit)
        if not self.stages:
            raise InvalidValue("a scheme needs stages", field="stages", valid="one or more stages")
        seen: set[str] = set()
        for i, s in enumerate(self.stages):
            if s.name in seen:
                raise InvalidValue(
                    f"stage {s.name!r} appears twice", field=f"stages[{i}].name", valid="unique"
                )
            seen.add(s.name)

    @property
    def stage_names(self) -> tuple[str, ...]:
        """Stage names in order."""
        return tuple(s.name for s in self.stages)

    def stage(self, name: str) -> tuple[int, SchemeStage]:
        """Index and stage called ``name``.

        Raises:
            InvalidValue: unknown stage (field ``stage``).
        """
        for i, s in enumerate(self.stages):
            if s.name == name:
                return i, s
        raise InvalidValue(
            f"scheme {self.id} has no stage {name!r}",
            field="stage",
            valid=", ".join(self.stage_names),
        )


def _shares(value: Sequence[tuple[SubjectRef, object]]) -> tuple[tuple[SubjectRef, Decimal], ...]:
    return tuple(
        (s, as_decimal(w, field=f"proposers[{i}].share")) for i, (s, w) in enumerate(value)
    )


@frozen
class Proposal:
    """An improvement proposal: who gets the reward and in what shares (summing to 1).

    ``implementing_team``, ``takt_gain_seconds`` and ``energy_saved_kwh`` are recorded for the
    proposal's evidence and reports; they do not change the reward by themselves.

    Raises:
        InvalidValue: empty id, no proposers, a proposer listed twice.
        InvalidWeight: a share ≤ 0, or shares not summing to exactly 1 (actual total named).
    """

    id: str
    proposers: tuple[tuple[SubjectRef, Decimal], ...] = field(converter=_shares)
    implementing_team: SubjectRef | None = None
    title: str = ""
    takt_gain_seconds: Decimal | None = None
    energy_saved_kwh: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        if not self.id.strip() or "|" in self.id:
            raise InvalidValue(
                f"proposal id must be non-empty text without '|', got {self.id!r}",
                field="id",
                valid="an id such as 'P-2025-017'",
            )
        if not self.proposers:
            raise InvalidValue(
                "a proposal needs a proposer", field="proposers", valid="one or more"
            )
        seen: set[SubjectRef] = set()
        for i, (s, w) in enumerate(self.proposers):
            if w <= 0:
                raise InvalidWeight(
                    f"share must be > 0, got {w}", field=f"proposers[{i}].share", valid="> 0"
                )
            if s in seen:
                raise InvalidValue(
                    f"{s} is listed twice", field=f"proposers[{i}]", valid="unique proposers"
                )
            seen.add(s)
        total = sum((w for _, w in self.proposers), Decimal(0))
        if total != 1:
            raise InvalidWeight(
                f"proposer shares sum to {total}", field="proposers", valid="shares summing to 1"
            )

    @classmethod
    def single(cls, id: str, proposer: SubjectRef, **kwargs: object) -> Proposal:
        """A proposal with one proposer taking the whole reward."""
        return cls(id, ((proposer, Decimal(1)),), **kwargs)  # type: ignore[arg-type]


def _key(
    scheme: StagedScheme, proposal: Proposal, proposer: SubjectRef, stage: str
) -> IdempotencyKey:
    return IdempotencyKey(scheme.id, str(proposer), f"proposal:{proposal.id}", stage)


def award_stage(
    scheme: StagedScheme,
    ledger: Ledger,
    proposal: Proposal,
    stage: str,
    *,
    period: Period,
    at: dt.datetime,
    savings: object | None = None,
) -> tuple[LedgerEntry, ...]:
    """Pay ``stage`` of ``scheme`` for ``proposal`` — once; returns the entries written.

    Stages are paid in order: a stage needs the previous one paid. Repeating a paid stage writes
    nothing (and returns ``()``). A stage worth 0 writes nothing.

    Raises:
        InvalidValue: unknown stage, savings missing for a savings-share stage.
        InvalidTransition: the previous stage has not been paid (``allowed`` names the next one).
        Conflict: the stage was paid with a different amount (change it with ``Ledger.amend``).
    """
    index, st = scheme.stage(stage)
    paid = [
        any(ledger.line(_key(scheme, proposal, who, s.name)) for who, _ in proposal.proposers)
        for s in scheme.stages
    ]
    if index > 0 and not paid[index - 1]:
        done = [n for n, p in zip(scheme.stage_names, paid, strict=True) if p]
        nxt = next(n for n, p in zip(scheme.stage_names, paid, strict=True) if not p)
        raise InvalidTransition(
            f"stage {stage!r} of proposal {proposal.id} needs {scheme.stages[index - 1].name!r} "
            "paid first",
            current=done[-1] if done else "proposed",
            requested=stage,
            allowed=(nxt,),
            field="stage",
        )
    total = st.value(None if savings is None else as_decimal(savings, field="savings"))
    if total == 0:
        return ()
    parts = [(s, quantize(total * w, scheme.places)) for s, w in proposal.proposers]
    remainder = total - sum((a for _, a in parts), Decimal(0))
    parts[0] = (parts[0][0], parts[0][1] + remainder)
    written: list[LedgerEntry] = []
    reason = f"proposal {proposal.id}: stage {stage}" + (
        f" (approval: {st.approval_level})" if st.approval_level else ""
    )
    for subject, amount in parts:
        if amount == 0:
            continue
        key = _key(scheme, proposal, subject, stage)
        existing = ledger.line(key)
        account = Account.of(subject, scheme.kind, scheme.unit)
        entry = ledger.award(key, account, amount, at=at, reason=reason, period_key=period.key)
        if existing is None:
            written.append(entry)
    return tuple(written)
