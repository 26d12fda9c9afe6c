"""Likelihood bands: parsing the model's cut-points, the fallback, borderline, the wording."""

from __future__ import annotations

import json

import pytest

from domain.bands import (
    DEFAULT_BORDERLINE_MARGIN,
    FALLBACK_BANDS,
    BandName,
    band_for,
    bands_from_metadata,
    borderline_margin_from_metadata,
    likelihood_of,
    parse_bands,
)
from domain.performance import sensitivity_floor_from_metadata
from domain.predictions import Assessment

pytestmark = pytest.mark.unit

SHIPPED = json.dumps(
    [
        {"name": "very low", "lower": 0.0, "upper": 0.02, "n_val": 65, "malignancy_rate": 0.0},
        {"name": "low", "lower": 0.02, "upper": 0.1, "n_val": 79, "malignancy_rate": 0.038},
        {"name": "intermediate", "lower": 0.1, "upper": 0.5, "n_val": 107, "malignancy_rate": 0.28},
        {"name": "high", "lower": 0.5, "upper": 0.95, "n_val": 74, "malignancy_rate": 0.73},
        {"name": "very high", "lower": 0.95, "upper": 1.0, "n_val": 0, "malignancy_rate": None},
    ]
)


def test_the_model_metadata_format_parses_into_the_one_vocabulary() -> None:
    bands = parse_bands(SHIPPED)
    assert [b.name.value for b in bands] == [
        "very_low",
        "low",
        "intermediate",
        "high",
        "very_high",
    ]
    assert (bands[1].lower, bands[1].upper) == (0.02, 0.1)
    assert (bands[1].observed_rate, bands[1].observed_count) == (0.038, 79)
    assert bands[4].observed_rate is None


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "{}",
        json.dumps([{"name": "low", "lower": 0, "upper": 1}]),
        # a gap between 0.1 and 0.2
        SHIPPED.replace('"lower": 0.1,', '"lower": 0.2,'),
        SHIPPED.replace('"very high"', '"extreme"'),
        SHIPPED.replace('"upper": 1.0', '"upper": 0.99'),
    ],
)
def test_malformed_bands_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="likelihood_bands"):
        parse_bands(raw)


def test_a_model_without_bands_gets_the_birads_cut_points() -> None:
    assert bands_from_metadata({}) == FALLBACK_BANDS
    assert [b.upper for b in FALLBACK_BANDS] == [0.02, 0.1, 0.5, 0.95, 1.0]
    assert all(b.observed_rate is None for b in FALLBACK_BANDS)


@pytest.mark.parametrize(
    ("p", "band"),
    [
        (0.0, BandName.VERY_LOW),
        (0.0199, BandName.VERY_LOW),
        (0.02, BandName.LOW),
        (0.34, BandName.INTERMEDIATE),
        (0.5, BandName.HIGH),
        (0.95, BandName.VERY_HIGH),
        (1.0, BandName.VERY_HIGH),
    ],
)
def test_a_band_holds_its_lower_edge_and_the_last_one_holds_1(p: float, band: BandName) -> None:
    assert band_for(p, FALLBACK_BANDS).name is band


def test_borderline_is_within_the_margin_of_the_threshold() -> None:
    # the case: 34 % against a 31 % threshold is not a confident "malignant"
    assert likelihood_of(0.34, 0.31, margin=0.05).borderline
    assert likelihood_of(0.26, 0.31, margin=0.05).borderline
    assert not likelihood_of(0.95, 0.31, margin=0.05).borderline
    assert not likelihood_of(0.25, 0.31, margin=0.05).borderline


def test_the_margin_is_the_largest_validation_calibration_error() -> None:
    metrics = {"validation_metrics": json.dumps({"a": {"ece": 0.07}, "b": {"ece": 0.06}})}
    assert borderline_margin_from_metadata(metrics) == 0.07
    assert borderline_margin_from_metadata({}) == DEFAULT_BORDERLINE_MARGIN
    assert borderline_margin_from_metadata({"validation_metrics": "[1]"}) == (
        DEFAULT_BORDERLINE_MARGIN
    )


def test_the_sensitivity_floor_comes_from_the_threshold_goal_else_validation() -> None:
    goal = "highest threshold with sensitivity >= 0.90 on each validation source"
    assert sensitivity_floor_from_metadata({"threshold_goal": goal}) == 0.9
    metrics = json.dumps({"a": {"sensitivity": 0.92}, "b": {"sensitivity": 0.88}})
    assert sensitivity_floor_from_metadata({"validation_metrics": metrics}) == 0.88
    assert sensitivity_floor_from_metadata({}) is None


def test_wording_states_a_likelihood_with_its_range_never_a_diagnosis() -> None:
    words = [b.wording for b in FALLBACK_BANDS]
    assert words[0] == "Very low likelihood of malignancy (<2 %)"
    assert words[2] == "Intermediate likelihood of malignancy (10 % to 50 %)"
    assert words[4] == "Very high likelihood of malignancy (≥95 %)"


def test_an_assessment_carries_its_models_bands() -> None:
    bands = parse_bands(SHIPPED)
    assessment = Assessment(0.3, 0.2, "v", bands, 0.07)
    assert assessment.likelihood.band is BandName.INTERMEDIATE
    assert not assessment.likelihood.borderline
    assert Assessment(0.25, 0.2, "v", bands, 0.07).likelihood.borderline
