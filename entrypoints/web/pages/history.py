"""History: the reader's analyses (admins: everyone's), filtered, paginated, exportable."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from nicegui import ui

from application.commands import ExportPredictions, ListPredictions, ListUsers, PredictionFilters
from application.ports import Page
from domain.bands import BandName
from domain.predictions import Prediction
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.formats import percent, when
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.palette import band_colour
from entrypoints.web.state import client_address, t
from entrypoints.web.widgets import PagedTable, date_input, link_cell

COLUMNS = (
    ("created", "left"),
    ("filename", "left"),
    ("probability", "right"),
    ("band", "left"),
    ("label", "left"),
    ("reviewed", "left"),
)

# the band's one colour beside its words (the same colours as on results and charts)
BAND_CELL = (
    '<q-td :props="props"><span aria-hidden="true" :style="\'display:inline-block;width:10px;'
    "height:10px;border-radius:5px;margin-right:6px;background:' + props.row.band_colour\">"
    "</span>{{ props.value }}</q-td>"
)


@dataclass
class HistoryForm:
    """The filter fields as typed (a cleared field may hold None)."""

    label: str | None = ""
    date_from: str | None = ""
    date_to: str | None = ""
    reviewed: str | None = ""
    search: str | None = ""
    bands: list[str] | None = field(default_factory=list)  # none chosen: any band

    def filters(self) -> PredictionFilters:
        """The use cases' filters, by the same rules as the API's query parameters."""
        return PredictionFilters.parse(
            label=self.label,
            date_from=self.date_from,
            date_to=self.date_to,
            reviewed={"yes": True, "no": False}.get(self.reviewed or ""),
            search=self.search,
            bands=self.bands or (),
        )


def review_text(prediction: Prediction) -> str:
    if prediction.review is None:
        return t("review.none")
    return t("review." + prediction.review.verdict.value)


def rows(page: Page[Prediction], owners: dict[UUID, str]) -> list[dict[str, str]]:
    return [
        {
            "id": str(p.id),
            "created": when(p.created_at),
            "filename": p.filename,
            "probability": percent(p.p_malignant),
            "band_colour": band_colour(p.likelihood.band),
            "band": t("band.short." + p.likelihood.band.value)
            + (" · " + t("history.borderline") if p.likelihood.borderline else ""),
            "label": t("label." + p.label.value),
            "reviewed": review_text(p),
            "owner": owners.get(p.owner_id, str(p.owner_id)[:8]),
        }
        for p in page.items
    ]


async def owner_names(web: Web, user: User) -> dict[UUID, str]:
    """Emails of every account, for the admin's owner column."""
    names: dict[UUID, str] = {}
    offset = 0
    while True:
        page: Page[User] = await web.core.list_users()(
            ListUsers(actor=user, offset=offset, limit=100)
        )
        names.update({u.id: u.email for u in page.items})
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return names


def filter_bar(form: HistoryForm, history: HistoryTable) -> None:
    """The filter fields, Apply and Export; Enter in the search field applies too."""
    any_ = t("history.filter.any")
    with ui.row().classes("w-full items-start gap-2"):
        ui.select(
            {"": any_, "malignant": t("label.malignant"), "benign": t("label.benign")},
            label=t("history.filter.label"),
        ).bind_value(form, "label").classes("w-40").mark("filter-label")
        for field, marker in (("date_from", "filter-from"), ("date_to", "filter-to")):
            key = "history.filter." + field.removeprefix("date_")
            date_input(t(key), "", marker).bind_value(form, field).classes("w-56")
        ui.select(
            {
                "": any_,
                "yes": t("history.filter.reviewed_yes"),
                "no": t("history.filter.reviewed_no"),
            },
            label=t("history.filter.reviewed"),
        ).bind_value(form, "reviewed").classes("w-40").mark("filter-reviewed")
        ui.select(
            {b.value: t(f"band.short.{b.value}") for b in BandName},
            label=t("history.col.band"),
            multiple=True,
            clearable=True,
        ).bind_value(form, "bands").classes("w-56").props("use-chips").mark("filter-band")
        search = (
            ui.input(t("history.filter.search"))
            .bind_value(form, "search")
            .classes("w-56")
            .mark("filter-search")
        )
        ui.button(t("history.filter.apply"), icon="filter_alt", on_click=history.apply).mark(
            "apply-filters"
        )
        ui.button(t("history.export"), icon="download", on_click=history.export).props(
            "outline"
        ).mark("export")
    search.on("keydown.enter", history.apply)


class HistoryTable(PagedTable):
    """The table of one page of analyses, its pager, and the CSV export of the selection."""

    def __init__(self, web: Web, form: HistoryForm, owners: dict[UUID, str] | None) -> None:
        self.web, self.form, self.owners = web, form, owners or {}
        shown = [*COLUMNS, *((("owner", "left"),) if owners is not None else ())]
        columns = [
            {"name": name, "label": t(f"history.col.{name}"), "field": name, "align": align}
            for name, align in shown
        ]
        super().__init__(
            columns,
            web.options.page_size,
            "history-table",
            t("history.empty"),
            link_cell("filename", "/analysis/"),
        )
        self.table.add_slot("body-cell-band", BAND_CELL)

    async def fetch(self, offset: int, limit: int) -> tuple[list[dict[str, str]], int]:
        page: Page[Prediction] = await self.web.core.list_predictions()(
            ListPredictions(
                actor=await actor(self.web), filters=self.form.filters(), offset=offset, limit=limit
            )
        )
        return rows(page, self.owners), page.total

    async def export(self) -> None:
        with reported():
            csv_text: str = await self.web.core.export_predictions()(
                ExportPredictions(
                    actor=await actor(self.web),
                    filters=self.form.filters(),
                    client=client_address(),
                )
            )
            ui.download.content(csv_text.encode("utf-8"), "breastscan-history.csv", "text/csv")


def register(web: Web) -> None:
    """Add the History page."""

    @signed_in_page(web, "/history", "history")
    async def history_page(user: User) -> None:
        owners: dict[UUID, str] | None = None
        if user.is_admin:
            owners = {}
            with reported():
                owners = await owner_names(web, user)
        form = HistoryForm()
        ui.label(t("history.title")).classes("text-h5")
        bar = ui.element("div").classes("w-full")  # the filters sit above the table they drive
        history = HistoryTable(web, form, owners)
        with bar:
            filter_bar(form, history)
        await history.load()
