"""PACS: find a study on the clinic's PACS by patient reference or accession number, analyse
it into a study (QIDO-RS search, WADO-RS retrieve) and send the findings back (STOW-RS)."""

from __future__ import annotations

from uuid import UUID

from nicegui import ui

from application.commands import (
    ImportStudyFromPacs,
    PacsImport,
    PacsSendReceipt,
    SearchPacs,
    SendResultsToPacs,
)
from application.ports import PacsStudy
from domain.studies import MAX_ACCESSION_LENGTH, MAX_PATIENT_REF_LENGTH
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.formats import day, integer
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.state import client_address, t


class PacsSearch:
    """The search fields, the studies found and what an import brought back."""

    def __init__(self, web: Web) -> None:
        self.web = web
        with ui.row().classes("w-full items-start gap-2"):
            self.patient = (
                ui.input(t("studies.patient_ref"))
                .props(f"maxlength={MAX_PATIENT_REF_LENGTH}")
                .classes("w-64")
                .mark("pacs-patient")
                .on("keydown.enter", self.search)
            )
            self.accession = (
                ui.input(t("studies.accession"))
                .props(f"maxlength={MAX_ACCESSION_LENGTH}")
                .classes("w-48")
                .mark("pacs-accession")
                .on("keydown.enter", self.search)
            )
            ui.button(t("pacs.search"), icon="search", on_click=self.search).mark("pacs-search")
        self.results = ui.column().classes("w-full gap-2").mark("pacs-results")

    async def search(self) -> None:
        with reported():
            found = await self.web.core.search_pacs()(
                SearchPacs(
                    actor=await actor(self.web),
                    patient_ref=self.patient.value,
                    accession_number=self.accession.value,
                    client=client_address(),
                )
            )
            self.show(found)

    def show(self, found: list[PacsStudy]) -> None:
        self.results.clear()
        with self.results:
            if not found:
                ui.label(t("pacs.none")).mark("pacs-none")
            for study in found:
                self.card(study)

    def card(self, study: PacsStudy) -> None:
        card = ui.card().classes("w-full").props("flat bordered")
        with card, ui.row().classes("w-full items-center gap-4"):
            ui.label(day(study.study_date)).classes("w-28")
            ui.label(study.patient_id or "—").classes("w-40")
            ui.label(study.accession_number or "—").classes("w-32")
            ui.label(study.description or "").classes("grow")
            ui.label(", ".join(study.modalities))
            count = study.instance_count
            ui.label(t("pacs.objects", count=integer(count) if count is not None else "?"))
            outcome = ui.column().classes("gap-0")
            ui.button(
                t("pacs.analyse"),
                icon="download",
                on_click=lambda s=study, o=outcome: self.analyse(s, o),
            ).mark(f"pacs-analyse-{study.study_instance_uid}")

    async def analyse(self, study: PacsStudy, outcome: ui.column) -> None:
        with reported():
            result: PacsImport = await self.web.core.import_study_from_pacs()(
                ImportStudyFromPacs(
                    actor=await actor(self.web),
                    study_instance_uid=study.study_instance_uid,
                    client=client_address(),
                )
            )
            outcome.clear()
            with outcome:
                ui.label(
                    t(
                        "pacs.imported",
                        analysed=integer(len(result.predictions)),
                        skipped=integer(len(result.skipped)),
                    )
                ).mark("pacs-imported")
                for study_id in result.study_ids:
                    ui.link(t("pacs.open_study"), f"/studies/{study_id}")
                    said = ui.label().mark("pacs-sent")
                    ui.button(
                        t("pacs.send"),
                        icon="upload",
                        on_click=lambda s=study_id, w=said: send_to_pacs(self.web, s, w),
                    ).props("flat").mark("pacs-send")


async def send_to_pacs(web: Web, study_id: UUID, said: ui.label) -> None:
    """Store the study's findings on the PACS (SR + SEG), after any earlier version."""
    with reported():
        receipt: PacsSendReceipt = await web.core.send_results_to_pacs()(
            SendResultsToPacs(actor=await actor(web), study_id=study_id, client=client_address())
        )
        said.set_text(
            t("pacs.sent", images=integer(receipt.images), outlines=integer(receipt.segmentations))
        )


def register(web: Web) -> None:
    """Add the PACS page (reached from the Studies navigation entry)."""

    @signed_in_page(web, "/pacs", "studies")
    async def pacs_page(user: User) -> None:
        ui.label(t("pacs.title")).classes("text-h5")
        ui.label(t("pacs.intro")).classes("text-body2")
        PacsSearch(web)
