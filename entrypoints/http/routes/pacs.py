"""/api/pacs and /api/studies/{id}/send-to-pacs: find a study on the PACS, analyse it, send
the findings back as DICOM SR and SEG objects."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import Struct

from application.commands import (
    ImportStudyFromPacs,
    PacsImport,
    PacsSendReceipt,
    SearchPacs,
    SendResultsToPacs,
    SkippedObject,
)
from application.ports import PacsStudy
from application.use_cases import (
    ImportStudyFromPacsUseCase,
    SearchPacsUseCase,
    SendResultsToPacsUseCase,
)
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.http.dto import PredictionOut

TAGS = ["pacs"]


class PacsSearchIn(Struct, forbid_unknown_fields=True):
    patient_ref: str | None = None
    accession_number: str | None = None
    limit: int = 50


class PacsStudyOut(Struct):
    study_instance_uid: str
    patient_ref: str | None
    accession_number: str | None
    study_date: date | None
    description: str | None
    modalities: list[str]
    instance_count: int | None

    @classmethod
    def of(cls, s: PacsStudy) -> PacsStudyOut:
        return cls(
            s.study_instance_uid,
            s.patient_id,
            s.accession_number,
            s.study_date,
            s.description,
            list(s.modalities),
            s.instance_count,
        )


class PacsImportIn(Struct, forbid_unknown_fields=True):
    study_instance_uid: str
    accept_partial: bool = False


class PacsImportOut(Struct):
    study_instance_uid: str
    study_ids: list[UUID]
    predictions: list[PredictionOut]
    skipped: list[SkippedObject]
    missing: list[str]

    @classmethod
    def of(cls, r: PacsImport) -> PacsImportOut:
        return cls(
            r.study_instance_uid,
            list(r.study_ids),
            [PredictionOut.of(p) for p in r.predictions],
            list(r.skipped),
            list(r.missing),
        )


@post("/pacs/search", tags=TAGS, security=SECURITY, status_code=200, summary="Search the PACS")
async def search(
    request: Request[Any, Any, Any],
    data: JSONBody[PacsSearchIn],
    user: CurrentUser,
    search_pacs: NamedDependency[SearchPacsUseCase],
) -> list[PacsStudyOut]:
    """Studies on the PACS (QIDO-RS) of a patient reference and/or an accession number."""
    cmd = SearchPacs(
        actor=user,
        patient_ref=data.patient_ref,
        accession_number=data.accession_number,
        limit=data.limit,
        client=client_of(request),
    )
    return [PacsStudyOut.of(s) for s in await search_pacs(cmd)]


@post("/pacs/import", tags=TAGS, security=SECURITY, status_code=201, summary="Analyse a PACS study")
async def import_study(
    request: Request[Any, Any, Any],
    data: JSONBody[PacsImportIn],
    user: CurrentUser,
    import_study_from_pacs: NamedDependency[ImportStudyFromPacsUseCase],
) -> PacsImportOut:
    """Retrieve a study (WADO-RS) and analyse its images into your study of the same UID;
    non-image objects are skipped and listed. A partial retrieve stores nothing (503
    pacs_retrieve_partial) unless `accept_partial`."""
    cmd = ImportStudyFromPacs(
        actor=user,
        study_instance_uid=data.study_instance_uid,
        accept_partial=data.accept_partial,
        client=client_of(request),
    )
    return PacsImportOut.of(await import_study_from_pacs(cmd))


@post(
    "/studies/{study_id:uuid}/send-to-pacs",
    tags=TAGS,
    security=SECURITY,
    status_code=201,
    summary="Send a study's findings to the PACS",
)
async def send_to_pacs(
    request: Request[Any, Any, Any],
    study_id: FromPath[UUID],
    user: CurrentUser,
    send_results_to_pacs: NamedDependency[SendResultsToPacsUseCase],
) -> PacsSendReceipt:
    """Store a Comprehensive SR of the findings and a SEG per outlined lesion (STOW-RS);
    earlier reports stay and are named as the new report's predecessors."""
    cmd = SendResultsToPacs(actor=user, study_id=study_id, client=client_of(request))
    return await send_results_to_pacs(cmd)


HANDLERS = [search, import_study, send_to_pacs]
