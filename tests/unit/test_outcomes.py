"""BI-RADS reviews and outcomes on fakes: who may record them, what is kept, what is refused."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from application.commands import (
    ExportPredictions,
    RecordOutcome,
    ReviewPrediction,
    WithdrawOutcome,
)
from application.use_cases import RecordOutcomeUseCase, WithdrawOutcomeUseCase
from domain.bands import BandName
from domain.errors import ErrorCode, InvalidInput, NotFound
from domain.outcomes import MAX_HISTOLOGY_LENGTH, BiRads, OutcomeSource, PathologyResult
from domain.predictions import Verdict
from domain.users import Role, User
from tests.unit.conftest import App

pytestmark = pytest.mark.unit


def record(actor: User, prediction_id: object, **changes: object) -> RecordOutcome:
    fields: dict[str, object] = {
        "actor": actor,
        "prediction_id": prediction_id,
        "result": PathologyResult.MALIGNANT,
        "source": OutcomeSource.BIOPSY,
        "outcome_date": date(2025, 3, 1),
        "histology": " Invasive ductal carcinoma ",
        "client": "10.0.0.9",
    }
    return RecordOutcome(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("category", "positive"),
    [
        ("0", None),
        ("1", False),
        ("2", False),
        ("3", False),
        ("4A", True),
        ("4C", True),
        ("5", True),
        ("6", None),
    ],
)
def test_birads_4a_and_above_count_as_positive(category: str, positive: bool | None) -> None:
    assert BiRads(category).positive is positive


async def test_a_stored_prediction_keeps_the_band_of_its_model(app: App) -> None:
    user = await app.user()
    prediction = await app.stored(user, level=128)  # p ~ 0.5 against the fake's 0.5 threshold
    assert prediction.likelihood.band is BandName.HIGH
    assert prediction.likelihood.borderline
    assert app.db.predictions[prediction.id].likelihood == prediction.likelihood


async def test_a_review_records_the_clinicians_birads(app: App) -> None:
    user = await app.user()
    prediction = await app.stored(user)
    reviewed = await app.review(
        ReviewPrediction(
            actor=user,
            prediction_id=prediction.id,
            verdict=Verdict.DISAGREE,
            birads=BiRads.LOW_SUSPICION,
        )
    )
    assert reviewed.review is not None
    assert reviewed.review.birads is BiRads.LOW_SUSPICION
    assert app.db.predictions[prediction.id].review == reviewed.review
    assert app.db.audit[-1].detail == "verdict=disagree; birads=4A"


async def test_the_owner_records_an_outcome_and_it_is_audited(app: App) -> None:
    user = await app.user()
    prediction = await app.stored(user)
    app.clock.advance(timedelta(days=3))
    updated = await RecordOutcomeUseCase(app.uow, app.clock)(record(user, prediction.id))
    outcome = app.db.predictions[prediction.id].outcome
    assert outcome is not None
    assert outcome == updated.outcome
    assert (outcome.result, outcome.source) == (PathologyResult.MALIGNANT, OutcomeSource.BIOPSY)
    assert outcome.histology == "Invasive ductal carcinoma"
    assert (outcome.recorded_by, outcome.recorded_at) == (user.id, app.clock.now())
    assert app.db.predictions[prediction.id].p_malignant == prediction.p_malignant
    entry = app.db.audit[-1]
    assert (entry.action, entry.target_id, entry.client) == (
        "prediction.outcome_recorded",
        str(prediction.id),
        "10.0.0.9",
    )
    assert entry.detail == "result=malignant; source=biopsy"


async def test_another_clinician_may_not_record_but_an_admin_may(app: App) -> None:
    owner, other = await app.user(), await app.user()
    admin = await app.user(role=Role.ADMIN)
    prediction = await app.stored(owner)
    use_case = RecordOutcomeUseCase(app.uow, app.clock)
    with pytest.raises(NotFound):
        await use_case(record(other, prediction.id))
    assert app.db.predictions[prediction.id].outcome is None
    await use_case(record(admin, prediction.id, result=PathologyResult.BENIGN))
    outcome = app.db.predictions[prediction.id].outcome
    assert outcome is not None
    assert (outcome.result, outcome.recorded_by) == (PathologyResult.BENIGN, admin.id)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"outcome_date": date(2025, 3, 5)}, ErrorCode.OUTCOME_DATE_IN_FUTURE),
        ({"histology": "x" * (MAX_HISTOLOGY_LENGTH + 1)}, ErrorCode.HISTOLOGY_TOO_LONG),
        ({"histology": "IDC\x07"}, ErrorCode.TEXT_INVALID_CHARACTERS),
    ],
)
async def test_bad_outcomes_are_refused_and_nothing_is_kept(
    app: App, changes: dict[str, object], code: ErrorCode
) -> None:
    user = await app.user()
    prediction = await app.stored(user)
    with pytest.raises(InvalidInput) as refused:
        await RecordOutcomeUseCase(app.uow, app.clock)(record(user, prediction.id, **changes))
    assert refused.value.code is code
    assert app.db.predictions[prediction.id].outcome is None
    assert "prediction.outcome_recorded" not in app.actions()


async def test_tomorrow_is_accepted_for_clinics_ahead_of_utc(app: App) -> None:
    user = await app.user()
    prediction = await app.stored(user)
    tomorrow = app.clock.now().date() + timedelta(days=1)
    await RecordOutcomeUseCase(app.uow, app.clock)(
        record(user, prediction.id, outcome_date=tomorrow)
    )
    assert app.db.predictions[prediction.id].outcome is not None


async def test_an_outcome_is_withdrawn_by_the_owner_only(app: App) -> None:
    owner, other = await app.user(), await app.user()
    prediction = await app.stored(owner)
    await RecordOutcomeUseCase(app.uow, app.clock)(record(owner, prediction.id))
    withdraw = WithdrawOutcomeUseCase(app.uow, app.clock)
    with pytest.raises(NotFound):
        await withdraw(WithdrawOutcome(actor=other, prediction_id=prediction.id))
    assert app.db.predictions[prediction.id].outcome is not None
    updated = await withdraw(WithdrawOutcome(actor=owner, prediction_id=prediction.id))
    assert updated.outcome is None
    assert app.db.predictions[prediction.id].outcome is None
    assert app.db.audit[-1].action == "prediction.outcome_withdrawn"
    assert app.db.audit[-1].detail == "was=malignant"


async def test_the_csv_export_carries_band_review_and_outcome(app: App) -> None:
    user = await app.user()
    prediction = await app.stored(user, level=128)
    untouched = await app.stored(user, "b", level=10)
    await app.review(
        ReviewPrediction(
            actor=user, prediction_id=prediction.id, verdict=Verdict.AGREE, birads=BiRads("5")
        )
    )
    await RecordOutcomeUseCase(app.uow, app.clock)(
        record(user, prediction.id, histology="=HYPERLINK()")
    )
    text = await app.export(ExportPredictions(actor=user))
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    done, open_case = rows[str(prediction.id)], rows[str(untouched.id)]
    assert (done["band"], done["borderline"]) == ("high", "true")
    assert (done["review_verdict"], done["review_birads"]) == ("agree", "5")
    assert (done["outcome_result"], done["outcome_source"]) == ("malignant", "biopsy")
    assert done["outcome_date"] == "2025-03-01"
    assert done["outcome_histology"] == "'=HYPERLINK()"  # a formula neutralised
    assert done["outcome_recorded_at"] == app.clock.now().isoformat()
    assert (open_case["band"], open_case["borderline"]) == ("low", "false")  # p ~ 0.04
    assert [open_case[k] for k in ("review_birads", "outcome_result", "outcome_date")] == [""] * 3
