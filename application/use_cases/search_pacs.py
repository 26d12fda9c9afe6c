"""SearchPacs: find studies on the clinic's PACS by patient reference or accession number."""

from __future__ import annotations

from application.commands import SearchPacs
from application.ports import PacsClient, PacsStudy
from domain.errors import ErrorCode, InvalidInput
from domain.studies import check_accession, check_patient_ref

MAX_RESULTS = 100


class SearchPacsUseCase:
    """Ask the PACS (QIDO-RS) for the studies of a patient or an accession number."""

    def __init__(self, pacs: PacsClient) -> None:
        self._pacs = pacs

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
        return await self._pacs.find_studies(patient, accession, limit)
