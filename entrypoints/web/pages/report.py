"""The study's report for the signed-in reader: the PDF behind the study page's Print button.

A plain route, not a page: the browser opens it in a new tab. The session is the UI's (the
token kept server-side for this browser), checked on every request; the report speaks the
language chosen in the header, else the browser's.
"""

from __future__ import annotations

from uuid import UUID

from nicegui import app
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from application.commands import GetStudyReport, ResolveCurrentUser
from domain.errors import DomainError, NotAuthenticated
from domain.studies import study_not_found
from entrypoints.http.errors import status_of
from entrypoints.web.deps import Web
from entrypoints.web.i18n import CATALOGUES, pick_language, translate_error
from entrypoints.web.state import LANGUAGE, token

REPORT_ROUTE = "/studies/{study_id}/report.pdf"


def register(web: Web) -> None:
    """Add the report route."""

    @app.get(REPORT_ROUTE, include_in_schema=False)
    async def study_report(study_id: str, request: Request) -> Response:
        chosen = str(app.storage.user.get(LANGUAGE))
        language = (
            chosen
            if chosen in CATALOGUES
            else pick_language(request.headers.get("accept-language"))
        )
        client = request.client.host if request.client else None
        stored = token()
        try:
            if stored is None:
                raise NotAuthenticated("Signed out.")
            user = await web.core.resolve_current_user()(
                ResolveCurrentUser(token=stored, client=client)
            )
            cmd = GetStudyReport(
                actor=user, study_id=_uuid(study_id), language=language, client=client
            )
            pdf = await web.core.get_study_report()(cmd)
        except NotAuthenticated:
            return RedirectResponse("/login", status_code=303)
        except DomainError as error:
            return PlainTextResponse(translate_error(language, error), status_code=status_of(error))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="study-{study_id}-report.pdf"',
                "Cache-Control": "private, no-store",
            },
        )


def _uuid(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise study_not_found() from None
