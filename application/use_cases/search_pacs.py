"""SearchPacs: find studies on the clinic's PACS by patient reference or accession number."""

from __future__ import annotations

from application.commands import SearchPacs
from application.ports import Clock, PacsClient, PacsStudy, UnitOfWork
from application.use_cases._shared import audit_entry
from domain.errors import ErrorCode, InvalidInput
from domain.studies import check_accession, check_patient_ref

MAX_RESULTS = 100


class SearchPacsUseCase:
    """Ask the PACS (QIDO-RS) for the studies of a patient or an accession number; audited
    (what was searched by and how many were found, never the patient reference itself)."""

    def __init__(self, pacs: PacsClient, uow: UnitOfWork, clock: Clock) -> None:
        self._pacs = pacs
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: SearchPacs) -> list[PacsStudy]:
        patient = (cmd.patient_ref or "").strip() or None
        accession = check_accession(cmd.accession_number)
        if patient is None and accession is None:
            raise InvalidInput(
                "Give a patient reference or an accession number to search the PACS.",
                ErrorCode.PACS_QUERY_EMPTY,
            )
        if patient is not None:
            patient = check_patient_ref(patient)
        limit = min(max(cmd.limit, 1), MAX_RESULTS)
        found = await self._pacs.find_studies(patient, accession, limit)
        by = "+".join(k for k, v in (("patient", patient), ("accession", accession)) if v)
        async with self._uow as uow:
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "pacs.searched",
                    actor_id=cmd.actor.id,
                    detail=f"by={by}; found={len(found)}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        return found
