"""GetStatistics: counts, shares and trends derived from the visible predictions."""

from __future__ import annotations

from application.commands import GetStatistics
from application.ports import UnitOfWork
from application.use_cases._shared import scoped_query
from domain.predictions import Statistics, summarise


class GetStatisticsUseCase:
    """Summarise the caller's predictions (everyone's for admins); nothing is stored."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, cmd: GetStatistics) -> Statistics:
        query = scoped_query(cmd.actor, cmd.filters)
        async with self._uow as uow:
            predictions = await uow.predictions.all_matching(query)
        return summarise(predictions)
