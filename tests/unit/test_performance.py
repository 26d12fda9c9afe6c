"""Real-world performance: the statistics against hand-computed values, and the use case."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pytest

from application.commands import GetPerformance, RecordOutcome, ReviewPrediction
from application.use_cases import GetPerformanceUseCase, RecordOutcomeUseCase
from domain.outcomes import BiRads, OutcomeSource, PathologyResult
from domain.performance import (
    Confusion,
    OutcomePoint,
    auc_hanley_mcneil,
    clinician_stats,
    model_stats,
    performance,
    wilson,
)
from domain.predictions import Verdict
from domain.users import Role
from tests.fakes import FakePerformanceReader, FakeTumorClassifier
from tests.unit.conftest import App

pytestmark = pytest.mark.unit

MARCH, APRIL = date(2025, 3, 10), date(2025, 4, 2)


def point(p: float, malignant: bool, **changes: object) -> OutcomePoint:
    base = OutcomePoint(p, 0.5, malignant, "2.0.0", MARCH)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_wilson_interval_matches_the_textbook_values() -> None:
    # Newcombe (1998), example: 81/263 -> 0.2553 to 0.3662
    interval = wilson(81, 263)
    assert interval.value == pytest.approx(81 / 263)
    assert interval.lower == pytest.approx(0.2553, abs=5e-5)
    assert interval.upper == pytest.approx(0.3662, abs=5e-5)
    # 8/10: centre (0.8 + 0.19208) / 1.38415, half 1.96 sqrt(0.016 + 0.00960) / 1.38415
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    eight = wilson(8, 10)
    assert eight.lower == pytest.approx(centre - half)
    assert eight.upper == pytest.approx(centre + half)


def test_wilson_at_the_edges_stays_inside_0_and_1() -> None:
    assert wilson(0, 0).value is None
    none, every = wilson(0, 5), wilson(5, 5)
    assert (none.value, none.lower) == (0.0, 0.0)
    assert none.upper == pytest.approx(0.4345, abs=5e-5)
    assert (every.value, every.upper) == (1.0, 1.0)
    assert every.lower == pytest.approx(0.5655, abs=5e-5)
    with pytest.raises(ValueError, match="successes"):
        wilson(6, 5)


def test_auc_counts_ties_as_half_and_has_the_hanley_mcneil_interval() -> None:
    auc = auc_hanley_mcneil([0.9, 0.8, 0.4], [0.1, 0.4, 0.5, 0.2])
    assert auc is not None
    # 4 + 4 + (2 + 0.5) correct pairs of 12
    assert auc.value == pytest.approx(10.5 / 12)
    a = 10.5 / 12
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt((a * (1 - a) + 2 * (q1 - a * a) + 3 * (q2 - a * a)) / 12)
    assert auc.lower == pytest.approx(a - 1.959963984540054 * se)
    assert auc.upper == 1.0  # clipped
    assert (auc.positives, auc.negatives) == (3, 4)
    assert auc_hanley_mcneil([0.5], []) is None
    perfect = auc_hanley_mcneil([0.9, 0.8], [0.1, 0.2])
    assert perfect is not None
    assert (perfect.value, perfect.lower, perfect.upper) == (1.0, 1.0, 1.0)


def test_model_stats_at_each_points_own_threshold() -> None:
    points = [
        point(0.9, True),  # tp
        point(0.6, True),  # tp
        point(0.3, True, threshold=0.2),  # tp at its own (lower) threshold
        point(0.4, True),  # fn
        point(0.7, False),  # fp
        point(0.1, False),  # tn
        point(0.2, False),  # tn
        point(0.45, False),  # tn
    ]
    stats = model_stats(points)
    assert stats.confusion == Confusion(tp=3, fp=1, tn=3, fn=1)
    assert (stats.cases, stats.malignant) == (8, 4)
    assert stats.sensitivity == wilson(3, 4)
    assert stats.specificity == wilson(3, 4)
    assert stats.ppv == wilson(3, 4)
    assert stats.npv == wilson(3, 4)
    assert stats.auc is not None
    # positives 0.9 0.6 0.3 0.4 vs negatives 0.7 0.1 0.2 0.45: 4 + 3 + 2 + 2 = 11 of 16
    assert stats.auc.value == pytest.approx(11 / 16)


def test_clinicians_call_4a_and_above_positive_and_skip_0_6_and_unreviewed() -> None:
    points = [
        point(0.9, True, birads=BiRads.LOW_SUSPICION),  # tp
        point(0.9, True, birads=BiRads.PROBABLY_BENIGN),  # fn
        point(0.1, False, birads=BiRads.HIGHLY_SUGGESTIVE),  # fp
        point(0.1, False, birads=BiRads.BENIGN),  # tn
        point(0.1, False, birads=BiRads.INCOMPLETE),  # left out
        point(0.9, True, birads=BiRads.KNOWN_MALIGNANCY),  # left out
        point(0.9, True),  # unreviewed, left out
    ]
    stats = clinician_stats(points)
    assert stats.confusion == Confusion(tp=1, fp=1, tn=1, fn=1)
    assert stats.auc is None


def test_groups_per_model_version_and_month_and_the_floor_warning() -> None:
    points = [
        *(point(0.9, True) for _ in range(9)),
        point(0.1, True),
        *(point(0.1, False, analysed_on=APRIL, model_version="1.1.0") for _ in range(3)),
    ]
    report = performance(points, floor=0.9)
    assert report.model.sensitivity == wilson(9, 10)
    # 9/10 has a lower bound of ~0.60: below the validated 0.90
    assert report.below_floor
    assert [g.key for g in report.by_model_version] == ["1.1.0", "2.0.0"]
    assert [g.key for g in report.by_month] == ["2025-03", "2025-04"]
    april = report.by_month[1]
    assert april.model.cases == 3
    assert april.model.sensitivity.value is None
    assert not april.below_floor  # no malignant case: nothing to warn about
    assert not performance(points, floor=None).below_floor
    assert not performance([point(0.9, True)] * 200, floor=0.9).below_floor


# --- the use case on fakes -------------------------------------------------------------


async def test_the_panel_counts_the_callers_outcomes_with_the_models_floor(app: App) -> None:
    owner, other = await app.user(), await app.user()
    admin = await app.user(role=Role.ADMIN)
    sure = await app.stored(owner, "a", level=240)  # p ~ 0.94: positive
    missed = await app.stored(owner, "b", level=40)  # p ~ 0.16: negative
    await app.stored(owner, "c", level=200)  # no outcome: not counted
    theirs = await app.stored(other, "d", level=240)
    await app.review(
        ReviewPrediction(
            actor=owner, prediction_id=missed.id, verdict=Verdict.DISAGREE, birads=BiRads("4B")
        )
    )
    record = RecordOutcomeUseCase(app.uow, app.clock)
    for actor, prediction in ((owner, sure), (owner, missed), (other, theirs)):
        await record(
            RecordOutcome(
                actor=actor,
                prediction_id=prediction.id,
                result=PathologyResult.MALIGNANT,
                source=OutcomeSource.SURGERY,
                outcome_date=app.clock.now().date() - timedelta(days=1),
            )
        )
    classifier = FakeTumorClassifier(sensitivity_floor=0.9)
    use_case = GetPerformanceUseCase(FakePerformanceReader(app.db), classifier)
    mine = await use_case(GetPerformance(actor=owner))
    assert mine.model.confusion == Confusion(tp=1, fp=0, tn=0, fn=1)
    assert mine.clinicians.confusion == Confusion(tp=1, fp=0, tn=0, fn=0)
    assert (mine.sensitivity_floor, mine.below_floor) == (0.9, True)
    everyone = await use_case(GetPerformance(actor=admin))
    assert everyone.model.confusion == Confusion(tp=2, fp=0, tn=0, fn=1)
