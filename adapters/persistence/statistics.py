"""The dashboard's read model: statistics aggregated by the database, never loaded row by row.

The statement honours the same filters as the listing (`prediction_filters`) and can use the
indexes on owner and date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.errors import translate_errors
from adapters.persistence.repositories import prediction_filters
from adapters.persistence.tables import outcomes, predictions
from application.ports import PredictionQuery
from domain.outcomes import PathologyResult
from domain.predictions import DayCount, Statistics, Verdict

c = predictions.c
MALIGNANT = c.p_malignant >= c.threshold


class SqlAlchemyStatisticsReader:
    """StatisticsReader port over the predictions table, on SQLite and PostgreSQL.

    One statement, one scan: the selected predictions grouped by (UTC day, histogram bin),
    with counts, malignant count, probability sum, reviewed and agreed counts, and the counts
    with an outcome (all, malignant) per group: at most days x bins rows come back, which add
    up to every figure the dashboard shows.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def _day(self) -> ColumnElement[Any]:
        if self._postgres:
            return func.date(func.timezone("UTC", c.created_at))
        return func.date(c.created_at)  # SQLite keeps UTC text: its date part

    def _bin(self, bins: int) -> ColumnElement[Any]:
        """int(p * bins), capped at the last bin: as domain.predictions.summarise draws it."""
        scaled = c.p_malignant * bins
        if self._postgres:
            return func.least(func.floor(scaled), bins - 1)
        return func.min(cast(scaled, Integer), bins - 1)  # SQLite's scalar min; p >= 0

    async def summarise(self, query: PredictionQuery, bins: int = 10) -> Statistics:
        day, bin_ = self._day().label("day"), self._bin(bins).label("bin")
        statement = (
            select(
                day,
                bin_,
                func.count(),
                func.count().filter(MALIGNANT),
                func.sum(c.p_malignant),
                func.count(c.review_verdict),
                func.count().filter(c.review_verdict == Verdict.AGREE.value),
                func.count(outcomes.c.prediction_id),
                func.count().filter(outcomes.c.result == PathologyResult.MALIGNANT.value),
            )
            .select_from(predictions.outerjoin(outcomes, outcomes.c.prediction_id == c.id))
            .where(*prediction_filters(query))
            .group_by(day, bin_)
        )
        with translate_errors():
            async with self._engine.connect() as connection:
                groups: Any = (await connection.execute(statement)).all()
        histogram = [0] * bins
        per_day: dict[date, list[int]] = {}
        total = malignant = reviewed = agreed = with_outcome = malignant_outcomes = 0
        probability_sum = 0.0
        for day_value, bin_value, n, m, p_sum, r, a, o, om in groups:
            histogram[int(bin_value)] += n
            counts = per_day.setdefault(_as_date(day_value), [0, 0])
            counts[0] += n
            counts[1] += m
            total, malignant, reviewed, agreed = total + n, malignant + m, reviewed + r, agreed + a
            with_outcome, malignant_outcomes = with_outcome + o, malignant_outcomes + om
            probability_sum += float(p_sum)
        return Statistics(
            total=total,
            malignant=malignant,
            benign=total - malignant,
            malignant_share=malignant / total if total else 0.0,
            mean_probability=probability_sum / total if total else 0.0,
            reviewed=reviewed,
            agreed=agreed,
            agreement_rate=agreed / reviewed if reviewed else None,
            per_day=tuple(DayCount(d, n, m) for d, (n, m) in sorted(per_day.items())),
            probability_histogram=tuple(histogram),
            with_outcome=with_outcome,
            malignant_outcomes=malignant_outcomes,
        )


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
