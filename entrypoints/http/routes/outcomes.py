"""/api/predictions/{id}/outcome and /api/stats/performance: outcomes and what they show."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.commands import GetPerformance, RecordOutcome, WithdrawOutcome
from application.use_cases import (
    GetPerformanceUseCase,
    RecordOutcomeUseCase,
    WithdrawOutcomeUseCase,
)
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.http.dto import OutcomeIn, PerformanceOut, PredictionOut
from entrypoints.http.routes.predictions import Filters

OUTCOME = "/predictions/{prediction_id:uuid}/outcome"


@put(OUTCOME, tags=["predictions"], security=SECURITY, summary="Record the outcome")
async def put_outcome(
    request: Request[Any, Any, Any],
    prediction_id: FromPath[UUID],
    data: JSONBody[OutcomeIn],
    user: CurrentUser,
    record_outcome: NamedDependency[RecordOutcomeUseCase],
) -> PredictionOut:
    """Record (or replace) what pathology or follow-up showed; the owner or an admin may."""
    cmd = RecordOutcome(
        actor=user,
        prediction_id=prediction_id,
        result=data.result,
        source=data.source,
        outcome_date=data.date,
        histology=data.histology,
        client=client_of(request),
    )
    return PredictionOut.of(await record_outcome(cmd))


@delete(OUTCOME, tags=["predictions"], security=SECURITY, status_code=204, summary="Withdraw")
async def delete_outcome(
    request: Request[Any, Any, Any],
    prediction_id: FromPath[UUID],
    user: CurrentUser,
    withdraw_outcome: NamedDependency[WithdrawOutcomeUseCase],
) -> None:
    """Remove an outcome recorded by mistake (the audit log keeps the trace)."""
    cmd = WithdrawOutcome(actor=user, prediction_id=prediction_id, client=client_of(request))
    await withdraw_outcome(cmd)


@get(
    "/stats/performance",
    tags=["statistics"],
    security=SECURITY,
    summary="Real-world performance",
)
async def performance(
    user: CurrentUser,
    get_performance: NamedDependency[GetPerformanceUseCase],
    filters: Filters,
) -> PerformanceOut:
    """Sensitivity, specificity, PPV, NPV (Wilson 95 %) and AUC (Hanley-McNeil 95 %) of the
    model and of the reviewers' BI-RADS against recorded outcomes, overall, per model version
    and per month; `below_floor` warns when the sensitivity's lower bound is under the floor."""
    return PerformanceOut.of(await get_performance(GetPerformance(actor=user, filters=filters)))


HANDLERS = [put_outcome, delete_outcome, performance]
