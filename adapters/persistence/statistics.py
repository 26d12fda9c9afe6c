"""The dashboard's read model: statistics aggregated by the database, never loaded row by row.

Two statements whatever the number of predictions: one for the counts, shares, mean,
review agreement and probability histogram, one for the per-day counts. Both honour the
same filters as the listing (`_prediction_filters`) and use the indexes on owner and date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.errors import translate_errors
from adapters.persistence.repositories import prediction_filters
from adapters.persistence.tables import predictions
from application.ports import PredictionQuery
from domain.predictions import DayCount, Statistics, Verdict

c = predictions.c
MALIGNANT = c.p_malignant >= c.threshold


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _histogram(bins: int) -> list[ColumnElement[Any]]:
    """Bin i counts int(p * bins) == i, the last bin also p == 1: compared on p * bins itself,
    so the database draws the edges exactly where domain.predictions.summarise does."""
    scaled = c.p_malignant * bins
    return [
        _count_where(scaled >= i if i == bins - 1 else (scaled >= i) & (scaled < i + 1))
        for i in range(bins)
    ]


class SqlAlchemyStatisticsReader:
    """StatisticsReader port over the predictions table, on SQLite and PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def _day(self) -> ColumnElement[Any]:
        if self._engine.dialect.name == "postgresql":
            return func.date(func.timezone("UTC", c.created_at))
        return func.date(c.created_at)  # SQLite keeps UTC text: its date part

    async def summarise(self, query: PredictionQuery, bins: int = 10) -> Statistics:
        conditions = prediction_filters(query)
        totals = select(
            func.count(),
            _count_where(MALIGNANT),
            func.coalesce(func.avg(c.p_malignant), 0.0),
            _count_where(c.review_verdict.is_not(None)),
            _count_where(c.review_verdict == Verdict.AGREE.value),
            *_histogram(bins),
        ).where(*conditions)
        day = self._day().label("day")
        per_day = (
            select(day, func.count(), cast(_count_where(MALIGNANT), Integer))
            .where(*conditions)
            .group_by(day)
            .order_by(day)
        )
        with translate_errors():
            async with self._engine.connect() as connection:
                row: Any = (await connection.execute(totals)).one()
                days: Any = (await connection.execute(per_day)).all()
        total, malignant, mean, reviewed, agreed, *histogram = row
        total, malignant, reviewed, agreed = (int(v) for v in (total, malignant, reviewed, agreed))
        return Statistics(
            total=total,
            malignant=malignant,
            benign=total - malignant,
            malignant_share=malignant / total if total else 0.0,
            mean_probability=float(mean),
            reviewed=reviewed,
            agreed=agreed,
            agreement_rate=agreed / reviewed if reviewed else None,
            per_day=tuple(DayCount(_as_date(d), int(n), int(m)) for d, n, m in days),
            probability_histogram=tuple(int(v) for v in histogram),
        )


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
