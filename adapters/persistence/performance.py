"""The real-world performance read model: one narrow row per prediction with an outcome.

The AUC needs every probability, so the database returns (probability, threshold, outcome,
model version, day, BI-RADS) tuples for the selected predictions that have an outcome, never
whole entities; the figures are computed by domain.performance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.errors import translate_errors
from adapters.persistence.repositories import prediction_filters
from adapters.persistence.tables import outcomes, predictions
from application.ports import PredictionQuery
from domain.outcomes import BiRads, PathologyResult
from domain.performance import OutcomePoint

c = predictions.c


class SqlAlchemyPerformanceReader:
    """PerformanceReader port over `predictions` joined to `outcomes` (SQLite, PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def outcome_points(self, query: PredictionQuery) -> list[OutcomePoint]:
        statement = (
            select(
                c.p_malignant,
                c.threshold,
                outcomes.c.result,
                c.model_version,
                c.created_at,
                c.review_birads,
            )
            .select_from(predictions.join(outcomes, outcomes.c.prediction_id == c.id))
            .where(*prediction_filters(query))
            .order_by(c.created_at, c.id)
        )
        with translate_errors():
            async with self._engine.connect() as connection:
                rows: Any = (await connection.execute(statement)).all()
        return [
            OutcomePoint(
                p_malignant=p,
                threshold=threshold,
                malignant=result == PathologyResult.MALIGNANT.value,
                model_version=version,
                analysed_on=created_at.date(),
                birads=BiRads(birads) if birads else None,
            )
            for p, threshold, result, version, created_at, birads in rows
        ]
