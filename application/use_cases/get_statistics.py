"""GetStatistics: counts, shares and trends derived from the visible predictions."""

from __future__ import annotations

from application.commands import GetStatistics
from application.ports import StatisticsReader
from application.use_cases._shared import scoped_query
from domain.predictions import Statistics


class GetStatisticsUseCase:
    """Summarise the caller's predictions (everyone's for admins) through the read port."""

    def __init__(self, statistics: StatisticsReader) -> None:
        self._statistics = statistics

    async def __call__(self, cmd: GetStatistics) -> Statistics:
        return await self._statistics.summarise(scoped_query(cmd.actor, cmd.filters))
