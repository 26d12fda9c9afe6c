"""Pieces shared by pages: the result panel (probability, threshold, words, heatmap, lesion)."""

from __future__ import annotations

import base64
import math

from nicegui import ui

from application.commands import GetLesionOverlay, GetPredictionImage
from domain.bands import BandName
from domain.errors import DomainError
from domain.predictions import Label, Prediction
from domain.studies import View
from domain.users import PASSWORD_MIN_LENGTH
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.formats import decimal, labelled, percent
from entrypoints.web.frame import actor
from entrypoints.web.palette import BAND_ICONS, band_colour
from entrypoints.web.state import t

DEFAULT_OPACITY = 0.45


def png_data_url(png: bytes) -> str:
    """A data URL for a PNG, or for a stored JPEG (uploads kept as they came)."""
    media_type = "image/jpeg" if png.startswith(b"\xff\xd8") else "image/png"
    return f"data:{media_type};base64," + base64.b64encode(png).decode("ascii")


def password_rules() -> None:
    """The password policy, shown before anyone trips over it."""
    ui.label(t("password.rules", count=PASSWORD_MIN_LENGTH)).classes("text-caption").mark(
        "password-rules"
    )


def field_for(error: DomainError, fields: dict[str, ui.input], default: str) -> ui.input:
    """The form field an error is about, by its code's subject (email_*, password_*, name_*)."""
    code = str(error.code)
    subject = next((name for name in fields if code.startswith(name)), default)
    return fields[subject]


def date_input(label: str, value: str, marker: str) -> ui.input:
    """A date field typed as 2025-01-31 or picked from a calendar."""
    field = ui.input(label, value=value).props(f'clearable hint="{t("date.format")}"').mark(marker)
    with field.add_slot("append"):
        icon = ui.icon("event").classes("cursor-pointer").props(f'aria-label="{t("date.pick")}"')
        with ui.menu().props("no-parent-event") as menu:
            ui.date(mask="YYYY-MM-DD").bind_value(field).props(
                f'first-day-of-week="1" aria-label="{t("date.pick")}"'
            ).mark(f"{marker}-picker")
        icon.on("click", menu.open)
    return field


def band_words(band: BandName | str) -> str:
    """E.g. "Intermediate likelihood of malignancy": a likelihood, never a diagnosis."""
    return t(f"band.{BandName(band).value}")


def band_chip(prediction: Prediction) -> None:
    """The band as a coloured chip with its words (never colour alone)."""
    band = prediction.likelihood.band
    with (
        ui.row()
        .classes("items-center gap-1 no-wrap px-2 rounded")
        .style(f"border-left: 6px solid {band_colour(band)}")
    ):
        ui.icon(BAND_ICONS[band], size="sm").style(f"color: {band_colour(band)}").props(
            'aria-hidden="true"'
        )
        ui.label(band_words(band)).classes("text-body2").mark("band")


def verdict_line(prediction: Prediction) -> None:
    """The band in words, where the probability lies against the threshold, and a borderline
    marking when it is close to it: wording that claims no more than the model knows."""
    likelihood = prediction.likelihood
    band = likelihood.band
    with ui.row().classes("items-center gap-2 no-wrap"):
        ui.icon(BAND_ICONS[band], size="md").style(f"color: {band_colour(band)}").props(
            'aria-hidden="true"'
        )
        ui.label(band_words(band)).classes("text-subtitle1 font-bold").mark("label-words")
    side = "above" if prediction.label is Label.MALIGNANT else "below"
    ui.label(t(f"result.{side}_threshold", t=percent(prediction.threshold))).classes(
        "text-body2"
    ).mark("threshold-side")
    if likelihood.borderline:
        with ui.row().classes("items-center gap-1 no-wrap"):
            ui.icon("compare_arrows", size="sm").classes("text-warning").props('aria-hidden="true"')
            ui.label(t("result.borderline")).classes("text-body2 font-medium").mark("borderline")


def probability_bar(prediction: Prediction) -> None:
    """A horizontal bar of P(malignant) with the decision threshold marked on it."""
    p, threshold = prediction.p_malignant, prediction.threshold
    ui.label(labelled(t("result.probability"), percent(p))).classes("text-body1").mark(
        "probability"
    )
    with (
        ui.element("div")
        .classes("relative w-full h-4 rounded bg-grey-3")
        .props(
            f'role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="{p * 100:.1f}" '
            f'aria-label="{t("result.probability")}"'
        )
    ):
        colour = band_colour(prediction.likelihood.band)
        ui.element("div").classes("absolute left-0 top-0 h-4 rounded").style(
            f"width: {p * 100:.1f}%; background: {colour}"
        )
        ui.element("div").classes("absolute h-6 bg-black").style(
            f"left: calc({threshold * 100:.1f}% - 1px); top: -4px; width: 3px"
        ).props(f'title="{t("result.threshold")}"')
    ui.label(t("result.bar_caption", p=percent(p), t=percent(threshold))).classes(
        "text-caption"
    ).mark("threshold")


def lesion_summary(prediction: Prediction) -> None:
    """The outlined lesion's size in words; nothing when the model has no lesion output."""
    lesion = prediction.lesion
    if lesion is None:
        return
    if not lesion.found:
        text = t("result.no_lesion")
    elif lesion.area_mm2 is None:
        text = t("result.lesion_area", share=percent(lesion.area_fraction))
    else:
        text = t(
            "result.lesion_area_mm2",
            share=percent(lesion.area_fraction),
            mm2=decimal(lesion.area_mm2),
        )
    ui.label(text).classes("text-body2").mark("lesion-area")


def heatmap_legend(web: Web) -> None:
    """The heatmap's colour scale, low to high attention, in words at both ends."""
    ui.label(t("result.legend")).classes("text-caption")
    gradient = web.core.heatmap_legend()
    ui.element("div").classes("w-full h-3 rounded").style(f"background: {gradient}").props(
        f'role="img" aria-label="{t("result.legend")}: '
        f'{t("result.legend_low")} → {t("result.legend_high")}"'
    ).mark("heatmap-legend")
    with ui.row().classes("w-full justify-between no-wrap"):
        ui.label(t("result.legend_low")).classes("text-caption")
        ui.label(t("result.legend_high")).classes("text-caption")


def result_panel(web: Web, prediction: Prediction, original_png: bytes) -> None:
    """Probability, words, model version, lesion size, and the original (optionally with the
    lesion outline) side by side with its heatmap."""
    verdict_line(prediction)
    probability_bar(prediction)
    ui.label(labelled(t("result.model_version"), prediction.model_version)).classes(
        "text-caption"
    ).mark("model-version")
    lesion_summary(prediction)
    if prediction.frame_count is not None and prediction.frame_index is not None:
        ui.label(
            t("result.dicom_frame", frame=prediction.frame_index + 1, count=prediction.frame_count)
        ).classes("text-caption").mark("dicom-frame")

    async def render_overlay() -> None:
        with reported():
            png = await web.core.get_prediction_image()(
                GetPredictionImage(
                    actor=await actor(web),
                    prediction_id=prediction.id,
                    heatmap=True,
                    opacity=float(opacity.value),
                )
            )
            overlay.set_source(png_data_url(png))
            overlay_box.set_visibility(True)

    async def toggle(show: bool) -> None:
        opacity.set_enabled(show)
        if show:
            await render_overlay()
        else:
            overlay_box.set_visibility(False)

    async def outline(show: bool) -> None:
        if not show:
            original.set_source(png_data_url(original_png))
            return
        with reported():
            png = await web.core.get_lesion_overlay()(
                GetLesionOverlay(actor=await actor(web), prediction_id=prediction.id)
            )
            original.set_source(png_data_url(png))
            original.props(f'alt="{t("result.outlined")}: {prediction.filename}"')

    with ui.row().classes("items-center gap-4 w-full"):
        ui.switch(t("result.heatmap"), on_change=lambda e: toggle(e.value)).mark("heatmap-toggle")
        if prediction.lesion is not None and prediction.lesion.found:
            ui.switch(t("result.outline"), on_change=lambda e: outline(e.value)).mark(
                "outline-toggle"
            )
        with ui.row().classes("items-center gap-2 grow"):
            ui.label(t("result.opacity")).classes("text-caption")
            opacity = (
                ui.slider(min=0.1, max=1.0, step=0.05, value=DEFAULT_OPACITY)
                .classes("w-40")
                .props(f'label aria-label="{t("result.opacity")}"')
                .mark("opacity")
            )
            opacity.set_enabled(False)
            opacity.on("change", render_overlay)
    with ui.row().classes("w-full max-w-4xl gap-4 no-wrap"):
        with ui.column().classes("w-1/2 gap-1"):
            ui.label(t("result.original")).classes("text-caption")
            original = (
                ui.image(png_data_url(original_png))
                .classes("w-full rounded")
                .props(
                    f'alt="{t("result.original")}: {prediction.filename}" fit=contain no-transition'
                )
                .mark("original")
            )
        overlay_box = ui.column().classes("w-1/2 gap-1")
        with overlay_box:
            ui.label(t("result.overlay")).classes("text-caption")
            overlay = (
                ui.image()
                .classes("w-full rounded")
                .props(f'alt="{t("result.overlay")}" fit=contain no-transition')
                .mark("overlay")
            )
            heatmap_legend(web)
        overlay_box.set_visibility(False)


def link_cell(column: str, prefix: str) -> tuple[str, str]:
    """A table slot showing `column` as a link to `prefix` + the row's id."""
    template = (
        '<q-td :props="props"><a class="text-primary" '
        f":href=\"'{prefix}' + props.row.id\">{{{{ props.value }}}}</a></q-td>"
    )
    return f"body-cell-{column}", template


def simple_table(columns: list[tuple[str, str]], rows: list[dict[str, str]], marker: str) -> None:
    """A dense read-only table: (name, label) columns, rows keyed by the first column."""
    ui.table(
        columns=[{"name": n, "label": label, "field": n, "align": "left"} for n, label in columns],
        rows=rows,
        row_key=columns[0][0],
    ).props("flat bordered dense wrap-cells").classes("w-full").mark(marker)


class PagedTable:
    """One page of rows, the line said when there are none, and a pager; subclasses `fetch`."""

    page_key = "history.page"  # the pager's sentence: page, pages, total

    def __init__(
        self,
        columns: list[dict[str, str]],
        size: int,
        marker: str,
        empty: str,
        link: tuple[str, str] | None = None,
    ) -> None:
        self.size = size
        self.offset = 0
        self.table = (
            ui.table(columns=columns, rows=[], row_key="id")
            .classes("w-full")
            .props('flat bordered hide-pagination :rows-per-page-options="[0]"')
            .mark(marker)
        )
        if link is not None:
            self.table.add_slot(*link)
        self.empty = ui.label(empty).mark(marker.removesuffix("-table") + "-empty")
        with ui.row().classes("items-center gap-2"):
            self.previous = (
                ui.button(t("history.prev"), icon="chevron_left", on_click=lambda: self.turn(-1))
                .props("flat")
                .mark("prev-page")
            )
            self.position = ui.label().mark("page-position")
            self.following = (
                ui.button(t("history.next"), icon="chevron_right", on_click=lambda: self.turn(1))
                .props("flat")
                .mark("next-page")
            )

    async def fetch(self, offset: int, limit: int) -> tuple[list[dict[str, str]], int]:
        """The rows of one page and the total count."""
        raise NotImplementedError

    async def load(self) -> None:
        with reported():
            rows, total = await self.fetch(self.offset, self.size)
            self.table.rows = rows
            self.table.update()
            pages = max(1, math.ceil(total / self.size))
            current = self.offset // self.size + 1
            self.position.set_text(t(self.page_key, page=current, pages=pages, total=total))
            self.previous.set_enabled(self.offset > 0)
            self.following.set_enabled(self.offset + self.size < total)
            self.empty.set_visibility(total == 0)

    async def apply(self) -> None:
        self.offset = 0
        await self.load()

    async def turn(self, step: int) -> None:
        self.offset = max(0, self.offset + step * self.size)
        await self.load()


def ruled_input(label: str, limit: int, rule: str, marker: str) -> ui.input:
    """A text field that states its rule under it and takes no more than `limit` characters."""
    return ui.input(label).props(f'maxlength={limit} hint="{rule}"').mark(marker)


def side_words(laterality: str) -> str:
    return t(f"study.side.{laterality}")


def position_text(prediction: Prediction) -> str:
    """'Left, 10:30, 3 cm from the nipple, radial view' from what was given."""
    position = prediction.position
    if position is None:
        return t("study.unplaced")
    parts = [side_words(position.laterality.value)]
    if position.clock_label is not None:
        parts.append(t("study.clock_at", clock=position.clock_label))
    if position.distance_from_nipple_cm is not None:
        parts.append(t("study.distance_at", cm=decimal(position.distance_from_nipple_cm)))
    if position.view is not View.OTHER:
        parts.append(t(f"study.view.{position.view.value}"))
    return ", ".join(parts)
