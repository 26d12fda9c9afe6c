"""/api/health (liveness), /api/ready (database + model) and /api/model (the model card)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from application.commands import CheckReadiness, DescribeModel
from application.use_cases import (
    CheckReadinessUseCase,
    DescribeModelUseCase,
    ResolveCurrentUserUseCase,
)
from entrypoints.http.auth import SECURITY, CurrentUser, bearer_is, is_admin_caller
from entrypoints.http.dto import HealthOut, ModelOut, ReadyOut
from entrypoints.settings import Settings

TAGS = ["system"]


@get("/health", tags=TAGS, cache_control=None, summary="Liveness")
async def health() -> HealthOut:
    """The process is alive (no dependency is checked)."""
    return HealthOut(status="ok")


@get(
    "/ready",
    tags=TAGS,
    summary="Readiness",
    responses={503: ResponseSpec(ReadyOut, description="Not ready (the reasons for admins)")},
)
async def ready(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    check_readiness: NamedDependency[CheckReadinessUseCase],
    resolve_current_user: NamedDependency[ResolveCurrentUserUseCase],
) -> Response[ReadyOut]:
    """200 when the database is reachable and migrated to head and the model is loaded, else
    503. Anonymous callers get the status only; administrators and the metrics token
    (`Authorization: Bearer ...`) also get the checks and the reasons."""
    readiness = await check_readiness(CheckReadiness())
    detailed = bearer_is(request, settings.metrics_token) or await is_admin_caller(
        request, resolve_current_user
    )
    body = ReadyOut.of(readiness) if detailed else ReadyOut.status_of(readiness)
    return Response(body, status_code=200 if readiness.ready else 503)


@get("/model", tags=["model"], security=SECURITY, summary="Model card")
async def model(
    user: CurrentUser, describe_model: NamedDependency[DescribeModelUseCase]
) -> ModelOut:
    """Version, operating threshold, providers and the metadata shipped with the model."""
    return ModelOut.of(await describe_model(DescribeModel()))


PUBLIC = [health, ready]
PROTECTED = [model]
