"""Scorecards: weighted totals, caps, N/A renormalisation, objective scores, explanations.

Reference numbers: worked by hand, and the Frappe HRMS (https://github.com/frappe/hrms) and Horilla
(https://github.com/horilla-opensource/horilla) cases; perfcore's rules for numbers and scoring.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfcore.domain.errors import InvalidScoring, InvalidValue, InvalidWeight
from perfcore.domain.indicator import IndicatorVersion, Simple
from perfcore.domain.measure import IndicatorValue
from perfcore.domain.scorecard import build_scorecard, check_weights, weighted_mean
from perfcore.domain.scoring import BandTable, BaselineProgress
from perfcore.domain.values import Period, SubjectRef, quantize

MARCH = Period.month(2025, 3)
ME = SubjectRef.person("E1042")


def version(
    *, target: object = 100, cap: object = None, scoring: object = None, unit: str = ""
) -> IndicatorVersion:
    return IndicatorVersion(
        1,
        "2025-01",
        Simple("sum", "qty"),
        evidence_type="output",
        target=target,
        cap=cap,
        scoring=scoring,  # type: ignore[arg-type]
        unit=unit,
    )


def percent_card(cap: object = None) -> dict[str, IndicatorVersion]:
    """Scores in percent: a band table that is the identity, so s = the value in %."""
    identity = BandTable([(0, 0), (1000, 1000)])
    return {k: version(target=None, scoring=identity, cap=cap) for k in ("a", "b", "c", "d")}


WEIGHTS = {"a": "0.4", "b": "0.3", "c": "0.2", "d": "0.1"}
SCORES = {"a": 110, "b": 85, "c": 100, "d": 130}


def test_weighted_total_matches_the_reference() -> None:
    # Worked by hand: w = .4/.3/.2/.1, s = 110/85/100/130 -> 102.5
    card = build_scorecard(ME, MARCH, percent_card(), SCORES, WEIGHTS)
    assert card.total == Decimal("102.5")
    assert card.excluded == ()
    assert not card.renormalised


def test_per_indicator_cap_applies_before_weighting() -> None:
    # Worked by hand: with per-KPI cap 120 -> 101.5
    card = build_scorecard(ME, MARCH, percent_card(cap=120), SCORES, WEIGHTS)
    assert card.total == Decimal("101.5")
    d = card.line("d")
    assert (d.raw_score, d.score, d.capped) == (Decimal(130), Decimal(120), True)
    assert "capped at 120 → 120.000" in d.explanation
    assert not card.line("a").capped


def test_frappe_weighted_ratings_are_exactly_3_85() -> None:
    # perfcore's rule: 0.8*5*0.7 + 0.7*5*0.3 is 3.85, not 3.8499999 (Frappe F2 self score).
    # Ratings 0.8 and 0.7 of 5 stars, weights 70 % and 30 %.
    stars = BandTable([(0, 0), (5, 5)])
    versions = {
        "problem_solving": version(target=None, scoring=stars),
        "excellence": version(target=None, scoring=stars),
    }
    values = {"problem_solving": Decimal("0.8") * 5, "excellence": Decimal("0.7") * 5}
    card = build_scorecard(ME, MARCH, versions, values, {"problem_solving": 70, "excellence": 30})
    assert card.total == Decimal("3.85")
    assert str(card.total_display) == "3.850"
    assert weighted_mean([(Decimal("0.7"), Decimal(4)), (Decimal("0.3"), Decimal("3.5"))]) == (
        Decimal("3.85")
    )


def test_a_line_without_a_value_is_excluded_and_the_renormalisation_is_reported() -> None:
    # perfcore's rule: sum w*s / sum w over indicators with a value; the exclusion is reported.
    values = {"a": 110, "b": IndicatorValue("b", None, diagnostics=["no 'output' evidence"])}
    values |= {"c": 100, "d": 130}
    card = build_scorecard(ME, MARCH, percent_card(), values, WEIGHTS)
    # (0.4*110 + 0.2*100 + 0.1*130) / 0.7 = 77 / 0.7 = 110
    assert card.total == Decimal(110)
    assert card.excluded == ("b",)
    assert card.renormalised
    assert card.effective_weights["a"] == Decimal(4) / Decimal(7)
    assert quantize(card.effective_weights["c"] * 100, 2) == Decimal("28.57")
    assert "b" not in card.effective_weights
    b = card.line("b")
    assert b.score is None
    assert b.effective_weight is None
    assert "excluded from the total" in b.explanation
    assert "no 'output' evidence" in b.explanation
    assert any(n.startswith("Renormalised: b had no score") for n in card.notes)
    assert "a 57.14 %" in card.notes[0]


def test_a_missing_value_is_not_counted_as_zero() -> None:
    card = build_scorecard(ME, MARCH, percent_card(), {"a": 90}, dict.fromkeys("abcd", 1))
    assert card.total == 90
    assert card.excluded == ("b", "c", "d")


def test_no_values_at_all_gives_no_total() -> None:
    card = build_scorecard(ME, MARCH, percent_card(), {}, None)
    assert card.total is None
    assert card.total_display is None
    assert card.explain().endswith("Total: no value")


def test_objective_scores_and_objective_weighted_total() -> None:
    objective_of = {"a": "quality", "b": "quality", "c": "delivery", "d": "delivery"}
    card = build_scorecard(
        ME,
        MARCH,
        percent_card(),
        SCORES,
        WEIGHTS,
        objective_of=objective_of,
        objective_weights={"quality": 3, "delivery": 1},
    )
    quality = next(o for o in card.objectives if o.objective == "quality")
    delivery = next(o for o in card.objectives if o.objective == "delivery")
    # quality = (0.4*110 + 0.3*85)/0.7 = 69.5/0.7; delivery = (0.2*100 + 0.1*130)/0.3 = 110
    assert quality.score == Decimal("69.5") / Decimal("0.7")
    assert delivery.score == Decimal(110)
    # total = (3*quality + 1*delivery)/4, computed independently here
    expected = (3 * (Decimal("69.5") / Decimal("0.7")) + 110) / 4
    assert quantize(card.total or Decimal(0), 12) == quantize(expected, 12)
    assert quality.effective_weight == Decimal("0.75")
    assert sum(card.effective_weights.values()) == 1


def test_an_objective_without_any_value_drops_out_and_is_reported() -> None:
    card = build_scorecard(
        ME,
        MARCH,
        percent_card(),
        {"a": 110, "b": 85},
        WEIGHTS,
        objective_of={"a": "quality", "b": "quality", "c": "delivery", "d": "delivery"},
        objective_weights={"quality": 1, "delivery": 1},
    )
    assert card.total == Decimal("69.5") / Decimal("0.7")
    assert "Objectives without a score, left out of the total: delivery." in card.notes


def test_okr_objective_is_the_mean_of_its_key_results() -> None:
    # Worked by hand: KRs 0.5, 1.0, 0.4 -> objective 0.6333
    grade = BandTable([(0, 0), (1, 1)])
    versions = {k: version(target=None, scoring=grade) for k in ("kr1", "kr2", "kr3")}
    card = build_scorecard(
        ME,
        MARCH,
        versions,
        {"kr1": Decimal("0.5"), "kr2": 1, "kr3": Decimal("0.4")},
        objective_of=dict.fromkeys(versions, "O1"),
    )
    assert quantize(card.objectives[0].score or Decimal(0), 4) == Decimal("0.6333")
    assert card.total == card.objectives[0].score


# --------------------------------------------------------------------------- Horilla (b.5)/(c)


def test_horilla_h1_h4_attainment_agrees_with_ratio_scoring() -> None:
    # Horilla case H1: start 0, current 5, target 10 -> 50 %; H4: 15 of 10 -> 150 %.
    card = build_scorecard(ME, MARCH, {"kr": version(target=10)}, {"kr": 5})
    assert card.line("kr").attainment_percent == Decimal("50.00")
    card = build_scorecard(ME, MARCH, {"kr": version(target=10)}, {"kr": 15})
    assert card.line("kr").score == Decimal("1.5")


def test_horilla_h2_truncates_one_third_to_33_we_keep_it_exact() -> None:
    # H2: 1/3 -> 33 (integer column). We differ deliberately: exact, rounded only for display.
    line = build_scorecard(ME, MARCH, {"kr": version(target=3)}, {"kr": 1}).line("kr")
    assert line.attainment_percent == Decimal("33.33")
    assert line.score_display == Decimal("0.333")
    assert line.score is not None
    assert line.score * 3 == Decimal("0.9999999999999999999999999999")  # exact to 28 digits


def test_horilla_h3_ignores_the_baseline_we_measure_progress_from_it() -> None:
    # H3: start 5, current 5, target 10 -> Horilla 50 %. perfcore: (5 - 5) / (10 - 5) = 0.
    v = version(target=10, scoring=BaselineProgress(5, 10))
    line = build_scorecard(ME, MARCH, {"kr": v}, {"kr": 5}).line("kr")
    assert line.score == 0
    assert line.attainment_percent == Decimal("50.00")  # A/T still shown, for comparison


def test_horilla_h5_target_zero_is_refused_not_silently_zero() -> None:
    # H5: target 0 -> Horilla keeps progress 0. perfcore refuses ratio scoring at target <= 0.
    with pytest.raises(InvalidScoring) as err:
        version(target=0)
    assert err.value.field == "target"
    assert err.value.valid is not None
    assert "band table" in err.value.valid


def test_horilla_h6_mean_of_key_results_agrees() -> None:
    # H6: KRs 20 % and 80 % -> 50 %.
    versions = {"kr1": version(target=100), "kr2": version(target=100)}
    card = build_scorecard(ME, MARCH, versions, {"kr1": 20, "kr2": 80})
    assert card.total == Decimal("0.5")


def test_horilla_h7_clamps_each_kr_we_clamp_only_with_an_explicit_cap() -> None:
    # H7: KRs 150 % and 50 % -> Horilla 75 % (each KR clamped to 100).
    versions = {"kr1": version(target=100), "kr2": version(target=100)}
    uncapped = build_scorecard(ME, MARCH, versions, {"kr1": 150, "kr2": 50})
    assert uncapped.total == 1  # unclamped mean 100 %: over-achievement counts
    capped_versions = {k: version(target=100, cap=1) for k in versions}
    capped = build_scorecard(ME, MARCH, capped_versions, {"kr1": 150, "kr2": 50})
    assert capped.total == Decimal("0.75")  # agrees once the cap is asked for


def test_horilla_h8_no_key_results_is_no_value_not_zero() -> None:
    # H8: objective with no KRs -> Horilla 0. perfcore: no value.
    card = build_scorecard(ME, MARCH, {}, {})
    assert card.total is None


# --------------------------------------------------------------------------- explanations


def test_line_explanation_names_evidence_version_rule_and_numbers() -> None:
    scrap = IndicatorVersion(
        3,
        "2025-02",
        Simple("average", "scrap_pct"),
        evidence_type="inspection",
        unit="%",
        direction="lower_is_better",
        target="2.0",
        scoring=BandTable([("1.0", 150), ("2.0", 100), ("3.0", 50)], direction="lower_is_better"),
    )
    value = IndicatorValue("scrap", Decimal("2.4"), 7, tuple(f"E{i}" for i in range(1, 8)), 3, ())
    card = build_scorecard("team:sewing-3", MARCH, {"scrap": scrap}, {"scrap": value})
    text = card.line("scrap").explanation
    assert text.startswith("scrap v3 (valid from 2025-02-01): value 2.4 %")
    assert "from 7 evidence record(s) (E1, E2, E3, E4, E5 …)" in text
    assert "actual/target 120.00 %" in text
    assert "band table 1→150, 2→100, 3→50" in text
    assert "score 80.000" in text
    whole = card.explain()
    assert whole.splitlines()[0] == "Scorecard for team:sewing-3, 2025-03"
    assert whole.endswith("Total: 80.000")


def test_a_line_that_cannot_be_scored_is_excluded_with_the_reason() -> None:
    from perfcore.domain.scoring import InverseRatio

    v = IndicatorVersion(
        1,
        "2025-01",
        Simple("sum", "defects"),
        evidence_type="qc",
        direction="lower_is_better",
        target=2,
        scoring=InverseRatio(2),
    )
    card = build_scorecard(ME, MARCH, {"defects": v}, {"defects": 0})
    line = card.line("defects")
    assert line.score is None
    assert "could not score" in line.explanation
    assert card.excluded == ("defects",)


# --------------------------------------------------------------------------- bad input


def test_negative_weight_is_refused_with_its_path() -> None:
    with pytest.raises(InvalidWeight) as err:
        build_scorecard(ME, MARCH, percent_card(), SCORES, {**WEIGHTS, "b": "-0.3"})
    assert err.value.field == "weights.b"
    assert err.value.valid == "a number >= 0"


def test_all_zero_weights_are_refused() -> None:
    with pytest.raises(InvalidWeight) as err:
        build_scorecard(ME, MARCH, percent_card(), SCORES, dict.fromkeys("abcd", 0))
    assert err.value.field == "weights"
    assert err.value.valid == "at least one weight above 0"


def test_missing_unknown_and_non_numeric_weights_are_refused() -> None:
    with pytest.raises(InvalidWeight) as err:
        build_scorecard(ME, MARCH, percent_card(), SCORES, {"a": 1, "b": 1, "c": 1})
    assert err.value.field == "weights.d"
    with pytest.raises(InvalidValue) as err2:
        build_scorecard(ME, MARCH, percent_card(), SCORES, {**WEIGHTS, "zz": 1})
    assert err2.value.field == "weights.zz"
    with pytest.raises(InvalidWeight) as err3:
        check_weights({"a": "heavy"})
    assert err3.value.field == "weights.a"


def test_objective_weights_need_every_line_placed_and_weighted() -> None:
    with pytest.raises(InvalidValue) as err:
        build_scorecard(
            ME,
            MARCH,
            percent_card(),
            SCORES,
            WEIGHTS,
            objective_of={"a": "q", "b": "q", "c": "q"},
            objective_weights={"q": 1},
        )
    assert err.value.field == "objective_of.d"
    with pytest.raises(InvalidWeight) as err2:
        build_scorecard(
            ME,
            MARCH,
            percent_card(),
            SCORES,
            WEIGHTS,
            objective_of=dict.fromkeys("abcd", "q"),
            objective_weights={"other": 1},
        )
    assert err2.value.field == "objective_weights.q"
    with pytest.raises(InvalidWeight) as err3:
        build_scorecard(
            ME,
            MARCH,
            percent_card(),
            SCORES,
            WEIGHTS,
            objective_of=dict.fromkeys("abcd", "q"),
            objective_weights={"q": -1},
        )
    assert err3.value.field == "objective_weights.q"


def test_a_value_from_another_version_is_flagged_on_the_line() -> None:
    value = IndicatorValue("a", Decimal(100), 1, ("E1",), 7, ())
    card = build_scorecard(ME, MARCH, {"a": version()}, {"a": value})
    assert "value computed with version 7 but scored with version 1" in card.line("a").explanation


def test_weights_that_must_sum_to_100_are_checked_exactly_and_the_total_reported() -> None:
    # perfcore's rule; Frappe F15: 30 + 69.99 -> error; 30 + 70 -> OK.
    with pytest.raises(InvalidWeight) as err:
        check_weights({"quality": 30, "development": "69.99"}, require_total=100)
    assert err.value.field == "weights"
    assert err.value.message == "weights add up to 99.99, not 100"
    assert err.value.valid == "weights that add up to exactly 100"
    assert check_weights({"quality": 30, "development": 70}, require_total=100) == {
        "quality": Decimal(30),
        "development": Decimal(70),
    }
    card = build_scorecard(
        ME, MARCH, percent_card(), SCORES, {"a": 40, "b": 30, "c": 20, "d": 10}, weights_total=100
    )
    assert card.total == Decimal("102.5")
