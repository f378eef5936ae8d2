"""Peer feedback: one vote per reviewer, no self-review, optional anonymity.

Rules (perfcore's own):

* **one vote per reviewer** — a reviewer's latest submission replaces their earlier one. Frappe
  HRMS accepts any number of feedback documents per reviewer and averages them all
  (https://github.com/frappe/hrms), which lets one voice count twice; perfcore does not.
* a reviewer cannot review themself (:class:`~perfcore.domain.errors.PolicyDenied`; Frappe F16).
* feedback can be withdrawn; the peer component then has no value and is *excluded* from the final
  score, not counted as 0 (Frappe F5 drops the average to 0.0).
* in anonymous mode the subject sees the feedback without the reviewer's identity
  (:meth:`FeedbackBook.as_seen_by_subject`).

The book is an immutable value; every change returns a new book.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from attrs import evolve, field, frozen

from perfcore.domain.errors import InvalidValue, NotFound, PolicyDenied
from perfcore.domain.review_scoring import RatingSheet
from perfcore.domain.values import ensure_aware

__all__ = ["FeedbackBook", "PeerFeedback", "VisibleFeedback"]


@frozen
class PeerFeedback:
    """One reviewer's feedback on a subject: a rating sheet plus optional text.

    Attributes:
        reviewer_id: person id of the reviewer.
        sheet: ratings against the review's peer criteria; :attr:`score` is its weighted mean.
        submitted_at: aware instant of this submission.
        text: free text (or a voice note's transcript).
    """

    reviewer_id: str
    sheet: RatingSheet
    submitted_at: dt.datetime
    text: str = ""

    @property
    def score(self) -> Decimal:
        """Weighted mean of this reviewer's ratings (exact)."""
        return self.sheet.score


@frozen
class VisibleFeedback:
    """A feedback entry as shown to a viewer; ``reviewer_id`` is ``None`` when hidden."""

    reviewer_id: str | None
    score: Decimal
    text: str
    submitted_at: dt.datetime


@frozen
class FeedbackBook:
    """The peer feedback of one review, keyed by reviewer (latest submission wins).

    Attributes:
        subject_id: the person being reviewed (self-review is refused).
        anonymous: hide reviewer identity from the subject.
        entries: reviewer id → their current feedback.
        replaced: how many earlier submissions were replaced (audit counter).
    """

    subject_id: str
    anonymous: bool = False
    entries: Mapping[str, PeerFeedback] = field(factory=dict)
    replaced: int = 0

    def submit(self, feedback: PeerFeedback) -> FeedbackBook:
        """Record ``feedback``; a reviewer's later submission replaces the earlier one.

        A submission older than the one on file does not replace it (out-of-order delivery).

        Raises:
            PolicyDenied: the reviewer is the subject (self-review).
            InvalidValue: ``submitted_at`` is naive or the reviewer id is empty.
        """
        ensure_aware(feedback.submitted_at, field="feedback.submitted_at")
        if not feedback.reviewer_id.strip():
            raise InvalidValue(
                "empty reviewer id", field="feedback.reviewer_id", valid="a person id"
            )
        if feedback.reviewer_id == self.subject_id:
            raise PolicyDenied(
                f"{feedback.reviewer_id} cannot give peer feedback on their own review",
                field="feedback.reviewer_id",
                valid="any reviewer other than the subject",
            )
        current = self.entries.get(feedback.reviewer_id)
        if current is not None and current.submitted_at > feedback.submitted_at:
            return self
        entries = dict(self.entries)
        entries[feedback.reviewer_id] = feedback
        return evolve(
            self, entries=entries, replaced=self.replaced + (1 if current is not None else 0)
        )

    def withdraw(self, reviewer_id: str) -> FeedbackBook:
        """Remove a reviewer's feedback (the equivalent of Frappe's cancel).

        Raises:
            NotFound: the reviewer has no feedback on file.
        """
        if reviewer_id not in self.entries:
            raise NotFound(
                f"{reviewer_id} has no feedback on this review",
                field="feedback.reviewer_id",
                valid=", ".join(sorted(self.entries)) or "no feedback on file",
            )
        entries = {k: v for k, v in self.entries.items() if k != reviewer_id}
        return evolve(self, entries=entries)

    @property
    def count(self) -> int:
        """Number of distinct reviewers with feedback on file."""
        return len(self.entries)

    @property
    def average(self) -> Decimal | None:
        """Mean of the reviewers' scores (one vote each), or ``None`` with no feedback.

        Frappe F4: 3.85 and 3.3 from two reviewers → 3.575.
        """
        if not self.entries:
            return None
        total = sum((f.score for f in self.entries.values()), Decimal(0))
        return total / Decimal(len(self.entries))

    def as_seen_by(self, viewer_id: str) -> list[VisibleFeedback]:
        """The entries as ``viewer_id`` may see them, ordered by submission time.

        The subject of an anonymous book sees no reviewer ids; everyone else (whose access the
        visibility policy has already granted) sees them.
        """
        hide = self.anonymous and viewer_id == self.subject_id
        return self._visible(hide)

    def as_seen_by_subject(self) -> list[VisibleFeedback]:
        """The entries as the subject sees them (identities hidden in anonymous mode)."""
        return self._visible(self.anonymous)

    def _visible(self, hide: bool) -> list[VisibleFeedback]:
        ordered = sorted(self.entries.values(), key=lambda f: (f.submitted_at, f.reviewer_id))
        return [
            VisibleFeedback(None if hide else f.reviewer_id, f.score, f.text, f.submitted_at)
            for f in ordered
        ]
