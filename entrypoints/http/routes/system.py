"""/api/health (liveness), /api/ready (database + model) and /api/model (the model card)."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from application.commands import DescribeModel
from application.ports import HealthProbe
from application.use_cases import DescribeModelUseCase
from domain.errors import DatabaseUnavailable
from entrypoints.http.auth import SECURITY, CurrentUser
from entrypoints.http.dto import HealthOut, ModelOut, ReadyOut

TAGS = ["system"]


@get("/health", tags=TAGS, cache_control=None, summary="Liveness")
async def health() -> HealthOut:
    """The process is alive (no dependency is checked)."""
    return HealthOut(status="ok")


@get("/ready", tags=TAGS, responses=None, summary="Readiness")
async def ready(
    health_probe: NamedDependency[HealthProbe], model_status: NamedDependency[dict[str, object]]
) -> Response[ReadyOut]:
    """200 when the database is reachable and migrated to head and the model is loaded;
    503 with the reasons otherwise."""
    try:
        database = dict(await health_probe.check())
    except DatabaseUnavailable as error:
        database = {"ok": False, "database": "unreachable", "error": error.message}
    reasons: list[str] = []
    if not database.get("ok"):
        state = database.get("database")
        reasons.append(
            "database unreachable"
            if state != "ok"
            else f"database migrations {database.get('migrations')}: run `breastscan migrate`"
        )
    if not model_status.get("ok"):
        reasons.append(str(model_status.get("error", "model not loaded")))
    body = ReadyOut(
        status="not_ready" if reasons else "ready",
        checks={"database": database, "model": model_status},
        reasons=reasons,
    )
    return Response(body, status_code=503 if reasons else 200)


@get("/model", tags=["model"], security=SECURITY, summary="Model card")
async def model(
    user: CurrentUser, describe_model: NamedDependency[DescribeModelUseCase]
) -> ModelOut:
    """Version, operating threshold, providers and the metadata shipped with the model."""
    return ModelOut.of(await describe_model(DescribeModel()))


PUBLIC = [health, ready]
PROTECTED = [model]
