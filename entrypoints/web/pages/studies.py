"""Studies: open a study (one patient visit) and find studies by patient reference,
accession, date, band and review state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nicegui import ui

from application.commands import CreateStudy, ListStudies, StudyFilters, parse_day
from application.ports import Page
from domain.bands import BandName
from domain.errors import DomainError, ErrorCode, NotAuthenticated
from domain.studies import MAX_ACCESSION_LENGTH, MAX_PATIENT_REF_LENGTH, Study, StudySummary
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import error_text, session_expired
from entrypoints.web.formats import day, integer, percent
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.state import client_address, t
from entrypoints.web.widgets import PagedTable, date_input, link_cell, ruled_input

COLUMNS = (
    ("date", "left"),
    ("patient", "left"),
    ("accession", "left"),
    ("images", "right"),
    ("reviewed", "right"),
    ("highest", "right"),
)


@dataclass
class StudyForm:
    """The search fields as typed (a cleared field may hold None)."""

    patient_ref: str | None = ""
    accession: str | None = ""
    date_from: str | None = ""
    date_to: str | None = ""
    band: str | None = ""
    reviewed: str | None = ""

    def filters(self) -> StudyFilters:
        return StudyFilters.parse(
            patient_ref=self.patient_ref,
            accession=self.accession,
            date_from=self.date_from,
            date_to=self.date_to,
            band=self.band,
            reviewed={"yes": True, "no": False}.get(self.reviewed or ""),
        )


def rows(page: Page[StudySummary]) -> list[dict[str, str]]:
    return [
        {
            "id": str(s.study.id),
            "date": day(s.study.study_date),
            "patient": s.study.patient_ref,
            "accession": s.study.accession_number or "—",
            "images": integer(s.image_count),
            "reviewed": f"{integer(s.reviewed_count)}/{integer(s.image_count)}",
            "highest": percent(s.max_p_malignant) if s.max_p_malignant is not None else "—",
        }
        for s in page.items
    ]


def band_options() -> dict[str, str]:
    return {"": t("history.filter.any"), **{b.value: t(f"band.short.{b.value}") for b in BandName}}


class StudyFields:
    """Patient reference, accession and date of a study: the rules shown first, each error
    under its own field."""

    def __init__(self, marker: str, study: Study | None = None) -> None:
        self.patient = ruled_input(
            t("studies.patient_ref"),
            MAX_PATIENT_REF_LENGTH,
            t("studies.patient_rule", count=MAX_PATIENT_REF_LENGTH),
            f"{marker}-patient",
        )
        self.accession = ruled_input(
            t("studies.accession"),
            MAX_ACCESSION_LENGTH,
            t("studies.accession_rule", count=MAX_ACCESSION_LENGTH),
            f"{marker}-accession",
        )
        when = study.study_date.isoformat() if study else ""
        self.date = date_input(t("studies.date"), when, f"{marker}-date")
        if study is not None:
            self.patient.value = study.patient_ref
            self.accession.value = study.accession_number or ""

    @property
    def patient_ref(self) -> str:
        return str(self.patient.value or "")

    @property
    def accession_number(self) -> str:
        return str(self.accession.value or "").strip()

    @property
    def study_date(self) -> date | None:
        return parse_day(self.date.value, "date")

    def clear(self) -> None:
        for field in (self.patient, self.accession, self.date):
            field.error = None

    def show(self, error: DomainError) -> None:
        """The error under the field it is about (the patient reference by default)."""
        fields = {
            ErrorCode.ACCESSION_INVALID: self.accession,
            ErrorCode.DATE_INVALID: self.date,
        }
        fields.get(error.code, self.patient).error = error_text(error)


def new_study_form(web: Web) -> None:
    """Open a study: patient reference, accession, date."""
    with ui.card().classes("w-full").props("flat bordered").mark("new-study"):
        ui.label(t("studies.new")).classes("text-subtitle1")
        with ui.row().classes("w-full items-start gap-2"):
            fields = StudyFields("study")
            fields.patient.classes("w-64")
            fields.accession.classes("w-48")
            fields.date.classes("w-56")

        async def create() -> None:
            fields.clear()
            if not fields.patient_ref.strip():
                fields.patient.error = t("studies.patient_required")
                return
            try:
                study: Study = await web.core.create_study()(
                    CreateStudy(
                        actor=await actor(web),
                        patient_ref=fields.patient_ref,
                        accession_number=fields.accession_number or None,
                        study_date=fields.study_date,
                        client=client_address(),
                    )
                )
            except NotAuthenticated:
                session_expired()
                return
            except DomainError as error:
                fields.show(error)
                return
            ui.navigate.to(f"/studies/{study.id}")

        ui.button(t("studies.create"), icon="add", on_click=create).mark("create-study")


class StudyTable(PagedTable):
    """One page of studies and its pager."""

    page_key = "studies.page"

    def __init__(self, web: Web, form: StudyForm) -> None:
        self.web, self.form = web, form
        columns = [
            {"name": n, "label": t(f"studies.col.{n}"), "field": n, "align": align}
            for n, align in COLUMNS
        ]
        super().__init__(
            columns,
            web.options.page_size,
            "studies-table",
            t("studies.empty"),
            link_cell("patient", "/studies/"),
        )

    async def fetch(self, offset: int, limit: int) -> tuple[list[dict[str, str]], int]:
        page: Page[StudySummary] = await self.web.core.list_studies()(
            ListStudies(
                actor=await actor(self.web), filters=self.form.filters(), offset=offset, limit=limit
            )
        )
        return rows(page), page.total


def search_bar(form: StudyForm, table: StudyTable) -> None:
    any_ = t("history.filter.any")
    with ui.row().classes("w-full items-start gap-2"):
        ui.input(t("studies.patient_ref")).bind_value(form, "patient_ref").classes("w-48").mark(
            "search-patient"
        ).on("keydown.enter", table.apply)
        ui.input(t("studies.accession")).bind_value(form, "accession").classes("w-40").mark(
            "search-accession"
        ).on("keydown.enter", table.apply)
        date_input(t("history.filter.from"), "", "search-from").bind_value(
            form, "date_from"
        ).classes("w-48")
        date_input(t("history.filter.to"), "", "search-to").bind_value(form, "date_to").classes(
            "w-48"
        )
        ui.select(band_options(), label=t("studies.band")).bind_value(form, "band").classes(
            "w-40"
        ).mark("search-band")
        ui.select(
            {
                "": any_,
                "yes": t("studies.reviewed_all"),
                "no": t("studies.reviewed_some_not"),
            },
            label=t("history.filter.reviewed"),
        ).bind_value(form, "reviewed").classes("w-48").mark("search-reviewed")
        ui.button(t("history.filter.apply"), icon="search", on_click=table.apply).mark(
            "search-studies"
        )


def register(web: Web) -> None:
    """Add the Studies page."""

    @signed_in_page(web, "/studies", "studies")
    async def studies_page(user: User) -> None:
        with ui.row().classes("w-full items-center"):
            ui.label(t("studies.title")).classes("text-h5")
            ui.space()
            if web.core.settings().pacs_dicomweb_url:
                ui.button(
                    t("pacs.title"), icon="cloud_download", on_click=lambda: ui.navigate.to("/pacs")
                ).props("flat").mark("open-pacs")
        new_study_form(web)
        form = StudyForm()
        bar = ui.element("div").classes("w-full")
        table = StudyTable(web, form)
        with bar:
            search_bar(form, table)
        await table.load()
