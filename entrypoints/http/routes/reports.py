"""GET /api/studies/{id}/report.pdf: the study's printable report."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.commands import GetStudyReport
from application.use_cases import GetStudyReportUseCase
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.web.i18n import pick_language

Language = Annotated[
    Literal["en", "fr"] | None,
    QueryParameter(description="en | fr; without it, the Accept-Language header, else en"),
]


@get(
    "/studies/{study_id:uuid}/report.pdf",
    tags=["studies"],
    security=SECURITY,
    media_type="application/pdf",
    summary="The study's report (PDF)",
)
async def study_report(
    request: Request[Any, Any, Any],
    study_id: FromPath[UUID],
    user: CurrentUser,
    get_study_report: NamedDependency[GetStudyReportUseCase],
    lang: Language = None,
) -> Response[bytes]:
    """One PDF per study: patient reference, accession, date; per lesion the views with the
    outline and the heatmap, probability, band, threshold, model version, the reviewer's
    BI-RADS and note; and the "decision aid, not a diagnosis" statement."""
    language = lang or pick_language(request.headers.get("accept-language"))
    cmd = GetStudyReport(
        actor=user, study_id=study_id, language=language, client=client_of(request)
    )
    return Response(
        await get_study_report(cmd),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="study-{study_id}-report.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


HANDLERS = [study_report]
