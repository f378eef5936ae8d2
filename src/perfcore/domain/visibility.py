"""Who may see or change what: the visibility policy as one pure function.

``decide(viewer, action, target, context)`` returns a :class:`Decision` (allowed + a human
sentence saying why), so every adapter — API, CLI, notifications, exports — asks the same question
and gets the same answer (perfcore's rule: visibility is decided in one place, not left to each
adapter).

The rules, in the order they are applied:

1. **A finalized review is immutable for everyone.** Changing it (or its self assessment, feedback
   or result) is refused until it is reopened, which is recorded with a reason.
2. **The person reviewed** sees their own results, review and peer feedback once they are
   *released* (``released_at`` ≤ now; no release date = not released). They always see their own
   targets and may write their own self assessment. They never change their results, targets or
   review. In anonymous mode they never see who gave peer feedback. Members of a team see the
   team's released results.
3. **The author of a peer feedback** sees and may change what they wrote (until finalized).
4. **Managers** — anyone on the subject's reporting line, i.e. the subject is in their subtree —
   see everything about the subject before release, may change the review, results and targets and
   may reopen. They do not write the employee's self assessment or someone else's feedback.
5. **HR** sees subjects whose org unit lies inside its scope (a set of unit ids, sub-units
   included), may see reviewer identities and may reopen, but does not change content — changes
   go through the subject's manager.
6. **Nobody else** sees or changes anything.

Anonymity hides the reviewer's identity from the person reviewed only; managers and HR in scope
still see it so that abuse can be handled.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

from attrs import field, frozen

from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import PolicyDenied
from perfcore.domain.review import Review, ReviewState
from perfcore.domain.review_sla import escalation_chain
from perfcore.domain.values import OrgChart, SubjectKind, SubjectRef, ensure_aware

__all__ = [
    "Action",
    "Decision",
    "Target",
    "TargetKind",
    "Viewer",
    "VisibilityContext",
    "decide",
    "require",
]


class Action(enum.StrEnum):
    """What the viewer wants to do."""

    VIEW = "view"
    CHANGE = "change"
    REOPEN = "reopen"
    VIEW_REVIEWER_IDENTITY = "view_reviewer_identity"


class TargetKind(enum.StrEnum):
    """What is being looked at or changed."""

    RESULT = "result"  # scores, scorecards, final ratings
    REVIEW = "review"  # the review record and its manager-side components
    SELF_ASSESSMENT = "self_assessment"
    FEEDBACK = "feedback"  # one peer feedback entry (author_id = its reviewer)
    TARGET = "target"  # objective / indicator target values


def _frozenset(value: str | Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


@frozen
class Viewer:
    """The person asking; ``hr_scope`` lists the org units they are HR for (empty = not HR)."""

    person_id: str
    hr_scope: frozenset[str] = field(default=frozenset(), converter=_frozenset)


@frozen
class Target:
    """The thing being viewed or changed.

    Attributes:
        kind: see :class:`TargetKind`.
        subject: whose result/review/target it is.
        released_at: when results become visible to the subject (``None`` = not released).
        finalized: the review it belongs to is finalized (immutable).
        anonymous: peer feedback is anonymous.
        author_id: for feedback, the reviewer who wrote it.
    """

    kind: TargetKind
    subject: SubjectRef
    released_at: dt.datetime | None = None
    finalized: bool = False
    anonymous: bool = False
    author_id: str | None = None

    @classmethod
    def of_review(
        cls,
        review: Review,
        kind: TargetKind = TargetKind.REVIEW,
        *,
        released_at: dt.datetime | None = None,
        author_id: str | None = None,
    ) -> Target:
        """A target describing ``review`` (or one of its parts, by ``kind``)."""
        return cls(
            kind,
            review.subject,
            released_at=released_at,
            finalized=review.state is ReviewState.FINALIZED,
            anonymous=review.feedback.anonymous,
            author_id=author_id,
        )


@frozen
class VisibilityContext:
    """What the policy needs besides viewer and target: the org chart and the current time."""

    org: OrgChart
    now: dt.datetime


@frozen
class Decision:
    """The policy's answer; truthy when allowed. ``reason`` is a sentence for the person asking."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _allow(reason: str) -> Decision:
    return Decision(True, reason)


def _deny(reason: str) -> Decision:
    return Decision(False, reason)


def _what(target: Target) -> str:
    return {
        TargetKind.RESULT: f"the results of {target.subject}",
        TargetKind.REVIEW: f"the review of {target.subject}",
        TargetKind.SELF_ASSESSMENT: f"the self assessment of {target.subject}",
        TargetKind.FEEDBACK: f"peer feedback on {target.subject}",
        TargetKind.TARGET: f"the targets of {target.subject}",
    }[target.kind]


def _unit_of(subject: SubjectRef, org: OrgChart) -> str | None:
    if subject.kind is SubjectKind.TEAM:
        return subject.id if subject.id in org.units else None
    person = org.people.get(subject.id)
    return None if person is None else person.unit_id


def _in_hr_scope(viewer: Viewer, subject: SubjectRef, org: OrgChart) -> bool:
    unit = _unit_of(subject, org)
    while unit is not None:
        if unit in viewer.hr_scope:
            return True
        unit = org.units[unit].parent_id
    return False


def _is_subject(viewer: Viewer, subject: SubjectRef, org: OrgChart) -> bool:
    if subject.kind is SubjectKind.PERSON:
        return viewer.person_id == subject.id
    person = org.people.get(viewer.person_id)
    return person is not None and person.unit_id == subject.id


def _released(target: Target, now: dt.datetime) -> bool:
    return target.released_at is not None and target.released_at <= now


def _as_subject(viewer: Viewer, action: Action, target: Target, now: dt.datetime) -> Decision:
    who = viewer.person_id
    if target.kind is TargetKind.SELF_ASSESSMENT and action in (Action.VIEW, Action.CHANGE):
        return _allow(f"{who} may {action.value} their own self assessment.")
    if target.kind is TargetKind.TARGET and action is Action.VIEW:
        return _allow(f"{who} may always see their own targets.")
    if action is Action.CHANGE:
        return _deny(
            f"{who} cannot change {_what(target)}; people change only their own self assessment."
        )
    if action is Action.REOPEN:
        return _deny(f"{who} cannot reopen their own review; their manager or HR can.")
    if action is Action.VIEW_REVIEWER_IDENTITY and target.anonymous:
        return _deny(
            "This peer feedback is anonymous: who gave it is hidden from the person reviewed."
        )
    if not _released(target, now):
        when = (
            f"they will be released on {target.released_at.isoformat()}"
            if target.released_at is not None
            else "no release date has been set"
        )
        return _deny(f"{who} cannot see {_what(target)} yet: {when}.")
    return _allow(f"{who} may see {_what(target)}, released on {target.released_at}.")


def _as_author(viewer: Viewer, action: Action) -> Decision:
    if action in (Action.VIEW, Action.CHANGE, Action.VIEW_REVIEWER_IDENTITY):
        return _allow(f"{viewer.person_id} wrote this peer feedback.")
    return _deny(f"{viewer.person_id} wrote this feedback but cannot reopen the review.")


def _as_manager(viewer: Viewer, action: Action, target: Target) -> Decision:
    who = viewer.person_id
    if action is Action.CHANGE and target.kind is TargetKind.SELF_ASSESSMENT:
        return _deny(f"Only {target.subject.id} writes their self assessment, not {who}.")
    if action is Action.CHANGE and target.kind is TargetKind.FEEDBACK:
        return _deny(f"Only its author can change peer feedback, not {who}.")
    verb = {
        Action.VIEW: "see",
        Action.CHANGE: "change",
        Action.REOPEN: "reopen",
        Action.VIEW_REVIEWER_IDENTITY: "see who gave",
    }[action]
    return _allow(f"{who} may {verb} {_what(target)}: {target.subject} reports to them.")


def _as_hr(viewer: Viewer, action: Action, target: Target) -> Decision:
    who = viewer.person_id
    if action is Action.CHANGE:
        return _deny(
            f"{who} is HR for {target.subject} and may view and reopen, but changes are made by "
            "the subject's manager."
        )
    return _allow(
        f"{who} may {action.value.replace('_', ' ')} {_what(target)}: it is in their HR scope."
    )


def decide(viewer: Viewer, action: Action, target: Target, context: VisibilityContext) -> Decision:
    """Decide whether ``viewer`` may perform ``action`` on ``target`` (rules in the module doc).

    Never raises for an unknown viewer or subject — they simply have no relationship and are
    denied. Use :func:`require` to raise instead.

    Raises:
        InvalidValue: ``context.now`` or ``target.released_at`` is naive; unknown ``action``.
    """
    now = ensure_aware(context.now, field="context.now")
    if target.released_at is not None:
        ensure_aware(target.released_at, field="target.released_at")
    action = parse_choice(Action, action, field="action", what="action")
    if action is Action.CHANGE and target.finalized:
        what = _what(target)
        return _deny(
            f"{what[0].upper()}{what[1:]} is finalized and immutable; nobody can change it "
            "until it is reopened with a recorded reason."
        )
    org = context.org
    candidates: list[Decision] = []
    if _is_subject(viewer, target.subject, org):
        candidates.append(_as_subject(viewer, action, target, now))
    if target.kind is TargetKind.FEEDBACK and target.author_id == viewer.person_id:
        candidates.append(_as_author(viewer, action))
    if viewer.person_id in escalation_chain(target.subject, org):
        candidates.append(_as_manager(viewer, action, target))
    if viewer.hr_scope and _in_hr_scope(viewer, target.subject, org):
        candidates.append(_as_hr(viewer, action, target))
    for d in candidates:
        if d.allowed:
            return d
    if candidates:
        return candidates[0]
    return _deny(
        f"{viewer.person_id} is not {target.subject}, not on their reporting line and not HR for "
        f"their unit, so may not {action.value.replace('_', ' ')} {_what(target)}."
    )


def require(viewer: Viewer, action: Action, target: Target, context: VisibilityContext) -> Decision:
    """Like :func:`decide` but raises when denied.

    Raises:
        PolicyDenied: the decision's reason as the message.
    """
    d = decide(viewer, action, target, context)
    if not d.allowed:
        raise PolicyDenied(d.reason, field="visibility", valid=None)
    return d
