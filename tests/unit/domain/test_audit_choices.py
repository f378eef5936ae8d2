"""Audit: one parser for named choices (StrEnum values) across the finished domain modules.

The same ``try: Kind(value) except ValueError`` block stood in ten modules; it is now
``perfcore.domain.choices.parse_choice``. These tests pin its contract and, through three of its
callers, that the errors people see kept their field and list of valid names.
"""

from __future__ import annotations

import datetime as dt
import enum

import pytest

from perfcore.domain.choices import parse_choice
from perfcore.domain.errors import InvalidValue
from perfcore.domain.ledger import Account
from perfcore.domain.objective import Objective
from perfcore.domain.review_sla import ReviewTrigger, TriggerKind
from perfcore.domain.values import SubjectRef


class Colour(enum.StrEnum):
    RED = "red"
    GREEN = "green"


def test_members_and_their_text_are_accepted() -> None:
    assert parse_choice(Colour, Colour.RED, field="c", what="colour") is Colour.RED
    assert parse_choice(Colour, "green", field="c", what="colour") is Colour.GREEN


@pytest.mark.parametrize("bad", ["blue", "RED", None, 3])
def test_anything_else_is_refused_naming_field_and_valid_names(bad: object) -> None:
    with pytest.raises(InvalidValue) as err:
        parse_choice(Colour, bad, field="paint.colour", what="colour")
    assert err.value.field == "paint.colour"
    assert err.value.valid == "red, green"
    assert err.value.message == f"unknown colour {bad!r}"


def test_callers_keep_their_field_paths_and_valid_lists() -> None:
    with pytest.raises(InvalidValue) as err:
        Account.of(SubjectRef.person("A"), "vouchers")
    assert (err.value.field, err.value.valid) == (
        "kind",
        "points, money, leave_days, training_seats",
    )
    with pytest.raises(InvalidValue) as err2:
        Objective("okr-1").transition("done")
    assert err2.value.field == "objectives[okr-1].state"
    assert err2.value.message == "unknown objective state 'done'"


def test_trigger_kind_error_lists_the_three_triggers_of_issue_4() -> None:
    """Issue 4: ad-hoc reviews are opened by an alert, a quality exception or a missed
    milestone."""
    at = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert ReviewTrigger("alert", "AL-1", at).kind is TriggerKind.ALERT
    with pytest.raises(InvalidValue) as err:
        ReviewTrigger("rumour", "X-1", at)
    assert err.value.field == "trigger.kind"
    assert err.value.valid == "alert, quality_exception, missed_milestone"
