"""Audit: one rating-scale concept for reviews and calibration.

The review scale (``review_scoring.RatingScale``, stepped or continuous) and the calibration scale
(``calibration.scale.RatingScale``, always stepped) used to be two separate classes with their
own validation. The calibration one is now the review one narrowed to a stepped scale; these tests
pin that both accept and refuse the same values with the same field and valid text.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfcore.domain.calibration.scale import RatingScale as SteppedScale
from perfcore.domain.errors import InvalidValue
from perfcore.domain.review_scoring import RatingScale


def test_calibration_scale_is_a_review_scale() -> None:
    assert isinstance(SteppedScale(), RatingScale)
    assert SteppedScale(1, 4, "0.5").values == tuple(Decimal(x) / 2 for x in range(2, 9))


@pytest.mark.parametrize("value", ["6", "0", "2.5"])
def test_both_scales_refuse_the_same_values_with_the_same_field_and_valid_text(
    value: str,
) -> None:
    """1..5 in whole steps: 6 is above, 0 below, 2.5 between steps (Frappe HRMS wording:
    "cannot be greater than 5")."""
    errors = []
    for scale in (RatingScale(1, 5, 1), SteppedScale(1, 5, 1)):
        with pytest.raises(InvalidValue) as err:
            scale.check(value, field="to")
        errors.append((err.value.field, err.value.valid, err.value.message))
    assert errors[0] == errors[1]
    assert errors[0][:2] == ("to", "1..5 in steps of 1")


def test_only_the_review_scale_may_be_continuous() -> None:
    """``step=None`` is a continuous review scale (3.3 is legal on 1..5); the calibration scale
    needs a step and names the field."""
    assert RatingScale(1, 5, None).check("3.3") == Decimal("3.3")
    assert RatingScale(1, 5, None).round_to_step(7.0) == 5.0
    with pytest.raises(InvalidValue) as err:
        SteppedScale(1, 5, None)
    assert err.value.field == "scale.step"
    with pytest.raises(InvalidValue) as err2:
        _ = RatingScale(1, 5, None).values
    assert err2.value.field == "scale.step"


def test_round_to_step_rounds_halves_away_from_the_minimum_and_clamps() -> None:
    """On 1..5 step 1: 3.5 → 4, 3.49 → 3, 0.2 → 1 (clamped), 9 → 5 (clamped)."""
    scale = SteppedScale()
    assert [scale.round_to_step(v) for v in (3.5, 3.49, 0.2, 9.0)] == [4.0, 3.0, 1.0, 5.0]
