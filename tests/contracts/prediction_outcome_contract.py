"""Bands, BI-RADS reviews and outcomes every PredictionRepository must keep (fake and SQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from application.ports import PredictionQuery
from domain.bands import BandName, Likelihood
from domain.errors import NotFound
from domain.outcomes import BiRads, Outcome, OutcomeSource, PathologyResult
from domain.predictions import Review, Verdict
from domain.users import User
from tests.contracts.prediction_repository_contract import make_prediction, store
from tests.contracts.user_repository_contract import T0, UowFactory, make_user, store_users


def make_outcome(recorder: User, result: PathologyResult = PathologyResult.MALIGNANT) -> Outcome:
    return Outcome(
        result=result,
        source=OutcomeSource.BIOPSY,
        outcome_date=date(2025, 3, 4),
        recorded_by=recorder.id,
        recorded_at=T0 + timedelta(days=5),
        histology="Invasive ductal carcinoma, grade 2 — « NST »",
    )


class PredictionOutcomeContract:
    """Run with a `uow_factory` fixture."""

    @pytest.fixture
    async def owner(self, uow_factory: UowFactory) -> User:
        user = make_user("outcomes@example.org")
        await store_users(uow_factory, user)
        return user

    async def test_the_stored_band_is_read_back_not_recomputed(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        # a band another model chose (here: against the fallback cut-points) stays as stored
        chosen = Likelihood(BandName.HIGH, borderline=True)
        prediction = make_prediction(owner, p_malignant=0.3)
        prediction = replace(prediction, stored_likelihood=chosen)
        await store(uow_factory, prediction)
        async with uow_factory() as uow:
            stored = await uow.predictions.get(prediction.id)
        assert stored is not None
        assert stored.likelihood == chosen
        default = make_prediction(owner, p_malignant=0.3)
        await store(uow_factory, default)
        async with uow_factory() as uow:
            again = await uow.predictions.get(default.id)
        assert again is not None
        assert again.likelihood == Likelihood(BandName.INTERMEDIATE, borderline=False)

    async def test_a_birads_review_reads_back(self, uow_factory: UowFactory, owner: User) -> None:
        prediction = make_prediction(owner)
        await store(uow_factory, prediction)
        review = Review(Verdict.DISAGREE, "4A by me", owner.id, T0, birads=BiRads.LOW_SUSPICION)
        async with uow_factory() as uow:
            await uow.predictions.update_review(prediction.reviewed(review))
            await uow.commit()
        async with uow_factory() as uow:
            stored = await uow.predictions.get(prediction.id)
        assert stored is not None
        assert stored.review == review

    async def test_an_outcome_is_recorded_replaced_and_withdrawn(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(owner)
        await store(uow_factory, prediction)
        first = make_outcome(owner)
        second = replace(make_outcome(owner, PathologyResult.BENIGN), histology="")
        for outcome in (first, second, None):
            async with uow_factory() as uow:
                await uow.predictions.update_outcome(prediction.with_outcome(outcome))
                await uow.commit()
            async with uow_factory() as uow:
                stored = await uow.predictions.get(prediction.id)
                listed = await uow.predictions.all_matching(PredictionQuery(owner_id=owner.id))
            assert stored == prediction.with_outcome(outcome)
            assert listed == [prediction.with_outcome(outcome)]

    async def test_an_outcome_for_an_unknown_prediction_is_not_found(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(owner).with_outcome(make_outcome(owner))
        async with uow_factory() as uow:
            with pytest.raises(NotFound):
                await uow.predictions.update_outcome(prediction)

    async def test_an_uncommitted_outcome_is_rolled_back(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(owner)
        await store(uow_factory, prediction)
        async with uow_factory() as uow:
            await uow.predictions.update_outcome(prediction.with_outcome(make_outcome(owner)))
        async with uow_factory() as uow:
            stored = await uow.predictions.get(prediction.id)
        assert stored is not None
        assert stored.outcome is None

    async def test_deleting_a_prediction_deletes_its_outcome(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(owner)
        await store(uow_factory, prediction)
        async with uow_factory() as uow:
            await uow.predictions.update_outcome(prediction.with_outcome(make_outcome(owner)))
            await uow.predictions.delete(prediction.id)
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.predictions.get(prediction.id) is None
