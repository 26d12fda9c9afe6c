"""/api/health (liveness), /api/ready (database + model) and /api/model (the model card)."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from application.commands import CheckReadiness, DescribeModel
from application.use_cases import CheckReadinessUseCase, DescribeModelUseCase
from entrypoints.http.auth import SECURITY, CurrentUser
from entrypoints.http.dto import HealthOut, ModelOut, ReadyOut

TAGS = ["system"]


@get("/health", tags=TAGS, cache_control=None, summary="Liveness")
async def health() -> HealthOut:
    """The process is alive (no dependency is checked)."""
    return HealthOut(status="ok")


@get("/ready", tags=TAGS, responses=None, summary="Readiness")
async def ready(check_readiness: NamedDependency[CheckReadinessUseCase]) -> Response[ReadyOut]:
    """200 when the database is reachable and migrated to head and the model is loaded;
    503 with the reasons otherwise."""
    readiness = await check_readiness(CheckReadiness())
    return Response(ReadyOut.of(readiness), status_code=200 if readiness.ready else 503)


@get("/model", tags=["model"], security=SECURITY, summary="Model card")
async def model(
    user: CurrentUser, describe_model: NamedDependency[DescribeModelUseCase]
) -> ModelOut:
    """Version, operating threshold, providers and the metadata shipped with the model."""
    return ModelOut.of(await describe_model(DescribeModel()))


PUBLIC = [health, ready]
PROTECTED = [model]
