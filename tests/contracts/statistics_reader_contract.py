"""Behaviour every StatisticsReader must share: the domain's definition of the statistics
(domain.predictions.summarise), computed where the predictions are stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from application.ports import PredictionQuery, StatisticsReader
from domain.outcomes import PathologyResult
from domain.predictions import Label, Prediction, Verdict, summarise
from domain.users import Role
from tests.contracts.prediction_outcome_contract import make_outcome
from tests.contracts.prediction_repository_contract import make_prediction, make_review, store
from tests.contracts.user_repository_contract import T0, UowFactory, make_user, store_users

# Probabilities on and around the histogram's edges, 0 and 1 included.
PROBABILITIES = (0.0, 0.05, 0.1, 0.29999999999999999, 0.3, 0.5, 0.69, 0.7, 0.9, 0.95, 0.999, 1.0)


class StatisticsReaderContract:
    """Needs fixtures ``statistics_reader`` and ``uow_factory`` over the same empty storage."""

    @pytest.fixture
    async def stored(self, uow_factory: UowFactory) -> list[Prediction]:
        alice, bob = make_user("alice@example.org"), make_user("bob@example.org", role=Role.ADMIN)
        await store_users(uow_factory, alice, bob)
        made = []
        for i, p in enumerate(PROBABILITIES):
            prediction = make_prediction(
                alice if i % 3 else bob,
                filename=f"scan-{i}.png" if i % 2 else f"other_{i}.PNG",
                p_malignant=p,
                threshold=0.5 if i % 4 else 0.3,
                # late in the UTC day on some: the day is the UTC one
                created_at=T0 + timedelta(days=i // 4, hours=14 if i % 2 else 0),
            )
            if i % 3 == 0:
                verdict = Verdict.AGREE if i % 2 == 0 else Verdict.DISAGREE
                prediction = replace(prediction, review=make_review(bob, verdict))
            made.append(prediction)
        await store(uow_factory, *made)
        # outcomes on some, malignant and benign, reviewed or not
        async with uow_factory() as uow:
            for i in (0, 2, 5, 7, 10):
                result = PathologyResult.MALIGNANT if i % 2 == 0 else PathologyResult.BENIGN
                made[i] = made[i].with_outcome(make_outcome(bob, result))
                await uow.predictions.update_outcome(made[i])
            await uow.commit()
        return made

    def test_is_a_statistics_reader(self, statistics_reader: StatisticsReader) -> None:
        assert isinstance(statistics_reader, StatisticsReader)

    async def test_nothing_stored_counts_zero(self, statistics_reader: StatisticsReader) -> None:
        assert await statistics_reader.summarise(PredictionQuery(owner_id=None)) == summarise([])

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"label": Label.MALIGNANT},
            {"label": Label.BENIGN},
            {"reviewed": True},
            {"reviewed": False},
            {"filename_contains": "scan-"},
            {"filename_contains": "_1"},
            {"created_from": T0 + timedelta(days=1), "created_to": T0 + timedelta(days=2)},
            {"offset": 5, "limit": 1},  # paging does not narrow the statistics
        ],
    )
    async def test_statistics_match_the_domain_definition(
        self,
        statistics_reader: StatisticsReader,
        uow_factory: UowFactory,
        stored: list[Prediction],
        query: dict[str, object],
    ) -> None:
        for owner in (None, stored[1].owner_id):
            selection = PredictionQuery(owner_id=owner, **query)  # type: ignore[arg-type]
            async with uow_factory() as uow:  # the rows the same filters select, one by one
                selected = await uow.predictions.all_matching(selection)
            assert selected or owner, "every query here selects something for everyone"
            expected = summarise(selected)
            got = await statistics_reader.summarise(selection)
            assert got.mean_probability == pytest.approx(expected.mean_probability, abs=1e-12)
            assert replace(got, mean_probability=0.0) == replace(expected, mean_probability=0.0)
            assert got.total == sum(got.probability_histogram)

    async def test_outcomes_are_counted(
        self, statistics_reader: StatisticsReader, stored: list[Prediction]
    ) -> None:
        stats = await statistics_reader.summarise(PredictionQuery(owner_id=None))
        assert (stats.with_outcome, stats.malignant_outcomes) == (5, 3)
        assert stats.total == len(stored)

    async def test_histogram_edges_and_bins(
        self, statistics_reader: StatisticsReader, stored: list[Prediction]
    ) -> None:
        stats = await statistics_reader.summarise(PredictionQuery(owner_id=None), bins=10)
        assert stats.probability_histogram == summarise(stored).probability_histogram
        assert stats.probability_histogram[-1] == 4  # 0.9, 0.95, 0.999 and 1.0
        five = await statistics_reader.summarise(PredictionQuery(owner_id=None), bins=5)
        assert five.probability_histogram == summarise(stored, bins=5).probability_histogram
