"""ListStudies: one page of the caller's studies (everyone's for admins), newest visit first."""

from __future__ import annotations

from application.commands import ListStudies
from application.ports import Clock, Page, StudyQuery, UnitOfWork
from application.use_cases._shared import audit_entry, check_page, check_search
from domain.errors import ErrorCode, InvalidInput
from domain.studies import StudySummary


def study_query(cmd: ListStudies) -> StudyQuery:
    """Clinicians see their own studies only; administrators see everyone's."""
    f = cmd.filters
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise InvalidInput(
            "The start of the date range must lie before its end.", ErrorCode.DATE_RANGE_REVERSED
        )
    return StudyQuery(
        owner_id=None if cmd.actor.is_admin else cmd.actor.id,
        offset=cmd.offset,
        limit=cmd.limit,
        patient_ref_contains=check_search(f.patient_ref),
        accession_contains=check_search(f.accession),
        date_from=f.date_from,
        date_to=f.date_to,
        band=f.band.value if f.band else None,
        reviewed=f.reviewed,
    )


class ListStudiesUseCase:
    """Filtered, paginated, owner-scoped study list; the search itself is audited."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: ListStudies) -> Page[StudySummary]:
        check_page(cmd.offset, cmd.limit)
        query = study_query(cmd)
        async with self._uow as uow:
            page = await uow.studies.list(query)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "study.listed",
                    actor_id=cmd.actor.id,
                    target_type="study",
                    detail=f"results={page.total}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        return page
