"""History: the reader's analyses (admins: everyone's), filtered, paginated, exportable."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from nicegui import ui
from starlette.responses import RedirectResponse

from application.commands import ExportPredictions, ListPredictions, ListUsers, PredictionFilters
from application.ports import Page
from domain.errors import InvalidInput
from domain.predictions import Label, Prediction
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.frame import actor, frame, signed_in_user, to_sign_in
from entrypoints.web.state import client_address, t
from entrypoints.web.widgets import percent, when


def parse_day(raw: str | None) -> date | None:
    """A YYYY-MM-DD date typed by the reader, or None when left empty."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(t("history.bad_date")) from None


def day_start(day: date | None, days_later: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=days_later)


@dataclass
class HistoryForm:
    """The filter fields as typed (a cleared field may hold None)."""

    label: str | None = ""
    date_from: str | None = ""
    date_to: str | None = ""
    reviewed: str | None = ""
    search: str | None = ""

    def filters(self) -> PredictionFilters:
        """The use-case filters; the end date is inclusive for the reader, exclusive below."""
        return PredictionFilters(
            label=Label(self.label) if self.label else None,
            created_from=day_start(parse_day(self.date_from)),
            created_to=day_start(parse_day(self.date_to), days_later=1),
            reviewed={"yes": True, "no": False}.get(self.reviewed or ""),
            filename_contains=(self.search or "").strip() or None,
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
        page: Page[User] = await web.use_cases.list_users()(
            ListUsers(actor=user, offset=offset, limit=100)
        )
        names.update({u.id: u.email for u in page.items})
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return names


def register(web: Web) -> None:
    """Add the History page."""
    size = web.options.page_size

    @ui.page("/history")
    async def history_page() -> RedirectResponse | None:
        user = await signed_in_user(web)
        if user is None:
            return to_sign_in()
        form = HistoryForm()
        state = {"offset": 0}
        owners: dict[UUID, str] = {}
        if user.is_admin:
            with reported():
                owners = await owner_names(web, user)

        with frame(web, user, "history"):
            ui.label(t("history.title")).classes("text-h5")
            with ui.row().classes("w-full items-end gap-2"):
                any_ = t("history.filter.any")
                ui.select(
                    {"": any_, "malignant": t("label.malignant"), "benign": t("label.benign")},
                    label=t("history.filter.label"),
                ).bind_value(form, "label").classes("w-40").mark("filter-label")
                ui.input(t("history.filter.from")).bind_value(form, "date_from").classes(
                    "w-40"
                ).mark("filter-from")
                ui.input(t("history.filter.to")).bind_value(form, "date_to").classes("w-40").mark(
                    "filter-to"
                )
                ui.select(
                    {
                        "": any_,
                        "yes": t("history.filter.reviewed_yes"),
                        "no": t("history.filter.reviewed_no"),
                    },
                    label=t("history.filter.reviewed"),
                ).bind_value(form, "reviewed").classes("w-40").mark("filter-reviewed")
                search = (
                    ui.input(t("history.filter.search"))
                    .bind_value(form, "search")
                    .classes("w-56")
                    .mark("filter-search")
                )
                ui.button(
                    t("history.filter.apply"), icon="filter_alt", on_click=lambda: apply()
                ).mark("apply-filters")
                ui.button(t("history.export"), icon="download", on_click=lambda: export()).props(
                    "outline"
                ).mark("export")
            search.on("keydown.enter", lambda: apply())

            columns = [
                {
                    "name": "created",
                    "label": t("history.col.created"),
                    "field": "created",
                    "align": "left",
                },
                {
                    "name": "filename",
                    "label": t("history.col.filename"),
                    "field": "filename",
                    "align": "left",
                },
                {
                    "name": "probability",
                    "label": t("history.col.probability"),
                    "field": "probability",
                    "align": "right",
                },
                {
                    "name": "label",
                    "label": t("history.col.label"),
                    "field": "label",
                    "align": "left",
                },
                {
                    "name": "reviewed",
                    "label": t("history.col.reviewed"),
                    "field": "reviewed",
                    "align": "left",
                },
            ]
            if user.is_admin:
                columns.append(
                    {
                        "name": "owner",
                        "label": t("history.col.owner"),
                        "field": "owner",
                        "align": "left",
                    }
                )
            table = (
                ui.table(columns=columns, rows=[], row_key="id")
                .classes("w-full")
                .props('flat bordered hide-pagination :rows-per-page-options="[0]"')
                .mark("history-table")
            )
            table.add_slot(
                "body-cell-filename",
                '<q-td :props="props"><a class="text-primary" '
                ":href=\"'/analysis/' + props.row.id\">{{ props.value }}</a></q-td>",
            )
            empty = ui.label(t("history.empty")).mark("history-empty")
            with ui.row().classes("items-center gap-2"):
                previous = (
                    ui.button(t("history.prev"), icon="chevron_left", on_click=lambda: turn(-1))
                    .props("flat")
                    .mark("prev-page")
                )
                position = ui.label().mark("page-position")
                following = (
                    ui.button(t("history.next"), icon="chevron_right", on_click=lambda: turn(1))
                    .props("flat")
                    .mark("next-page")
                )

        async def load() -> None:
            with reported():
                page: Page[Prediction] = await web.use_cases.list_predictions()(
                    ListPredictions(
                        actor=await actor(web),
                        filters=form.filters(),
                        offset=state["offset"],
                        limit=size,
                    )
                )
                table.rows = rows(page, owners)
                table.update()
                pages = max(1, math.ceil(page.total / size))
                current = state["offset"] // size + 1
                position.set_text(t("history.page", page=current, pages=pages, total=page.total))
                previous.set_enabled(state["offset"] > 0)
                following.set_enabled(state["offset"] + size < page.total)
                empty.set_visibility(page.total == 0)

        async def apply() -> None:
            state["offset"] = 0
            await load()

        async def turn(step: int) -> None:
            state["offset"] = max(0, state["offset"] + step * size)
            await load()

        async def export() -> None:
            with reported():
                csv_text: str = await web.use_cases.export_predictions()(
                    ExportPredictions(
                        actor=await actor(web), filters=form.filters(), client=client_address()
                    )
                )
                ui.download.content(csv_text.encode("utf-8"), "breastscan-history.csv", "text/csv")

        await load()
        return None
