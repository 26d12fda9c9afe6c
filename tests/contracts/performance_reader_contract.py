"""Behaviour every PerformanceReader must share: one point per selected prediction with an
outcome, oldest first, with the UTC day of the analysis and the reviewer's BI-RADS."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from application.ports import PerformanceReader, PredictionQuery
from domain.outcomes import BiRads, PathologyResult
from domain.performance import OutcomePoint
from domain.predictions import Label, Prediction, Review, Verdict
from domain.users import User
from tests.contracts.prediction_outcome_contract import make_outcome
from tests.contracts.prediction_repository_contract import make_prediction, store
from tests.contracts.user_repository_contract import T0, UowFactory, make_user, store_users


async def with_outcome(uow_factory: UowFactory, *predictions: Prediction) -> None:
    async with uow_factory() as uow:
        for prediction in predictions:
            await uow.predictions.update_outcome(prediction)
        await uow.commit()


class PerformanceReaderContract:
    """Needs fixtures ``performance_reader`` and ``uow_factory`` over the same empty storage."""

    @pytest.fixture
    async def users(self, uow_factory: UowFactory) -> tuple[User, User]:
        alice, bob = make_user("alice@example.org"), make_user("bob@example.org")
        await store_users(uow_factory, alice, bob)
        return alice, bob

    def test_is_a_performance_reader(self, performance_reader: PerformanceReader) -> None:
        assert isinstance(performance_reader, PerformanceReader)

    async def test_points_of_predictions_with_outcomes_only(
        self,
        performance_reader: PerformanceReader,
        uow_factory: UowFactory,
        users: tuple[User, User],
    ) -> None:
        alice, bob = users
        # 23:30 UTC: the analysis day is the UTC one
        late = make_prediction(alice, p_malignant=0.7, created_at=T0 + timedelta(hours=14))
        review = Review(Verdict.AGREE, "", alice.id, T0, birads=BiRads.HIGH_SUSPICION)
        reviewed = replace(
            make_prediction(alice, p_malignant=0.2, threshold=0.3, created_at=T0),
            review=review,
        )
        open_case = make_prediction(alice, p_malignant=0.9, created_at=T0)
        theirs = make_prediction(bob, p_malignant=0.4, created_at=T0 + timedelta(days=40))
        await store(uow_factory, late, reviewed, open_case, theirs)
        await with_outcome(
            uow_factory,
            late.with_outcome(make_outcome(alice)),
            reviewed.with_outcome(make_outcome(alice, PathologyResult.BENIGN)),
            theirs.with_outcome(make_outcome(bob)),
        )
        everyone = await performance_reader.outcome_points(PredictionQuery(owner_id=None))
        assert everyone == [
            OutcomePoint(0.2, 0.3, False, "breast-cnn-test-1", T0.date(), BiRads.HIGH_SUSPICION),
            OutcomePoint(0.7, 0.5, True, "breast-cnn-test-1", date(2026, 3, 1)),
            OutcomePoint(0.4, 0.5, True, "breast-cnn-test-1", date(2026, 4, 10)),
        ]
        mine = await performance_reader.outcome_points(PredictionQuery(owner_id=alice.id))
        assert [p.p_malignant for p in mine] == [0.2, 0.7]
        called = PredictionQuery(owner_id=None, label=Label.MALIGNANT)
        assert [p.p_malignant for p in await performance_reader.outcome_points(called)] == [0.7]

    async def test_nothing_with_an_outcome_gives_no_points(
        self,
        performance_reader: PerformanceReader,
        uow_factory: UowFactory,
        users: tuple[User, User],
    ) -> None:
        await store(uow_factory, make_prediction(users[0]))
        assert await performance_reader.outcome_points(PredictionQuery(owner_id=None)) == []
