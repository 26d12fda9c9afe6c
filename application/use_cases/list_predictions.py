"""ListPredictions: one page of the caller's predictions (everyone's for admins), newest first."""

from __future__ import annotations

from application.commands import ListPredictions
from application.ports import Page, UnitOfWork
from application.use_cases._shared import check_page, scoped_query
from domain.predictions import Prediction


class ListPredictionsUseCase:
    """Filtered, paginated, owner-scoped listing."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, cmd: ListPredictions) -> Page[Prediction]:
        check_page(cmd.offset, cmd.limit)
        query = scoped_query(cmd.actor, cmd.filters, cmd.offset, cmd.limit)
        async with self._uow as uow:
            return await uow.predictions.list(query)
