"""Analysis detail: the stored image with its heatmap, the result, the review, deletion."""

from __future__ import annotations

from uuid import UUID

from nicegui import ui

from application.commands import (
    DeletePrediction,
    GetPrediction,
    GetPredictionImage,
    ReviewPrediction,
)
from domain.errors import DomainError
from domain.predictions import Prediction, Verdict, prediction_not_found
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import error_text, reported
from entrypoints.web.formats import percent, when
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.state import client_address, t
from entrypoints.web.widgets import result_panel


def facts(prediction: Prediction) -> list[tuple[str, str]]:
    review = prediction.review
    return [
        (t("result.probability"), percent(prediction.p_malignant)),
        (t("result.threshold"), f"{prediction.threshold:.3f}"),
        (t("result.model_version"), prediction.model_version),
        (t("detail.created"), when(prediction.created_at)),
        (t("detail.reviewed_at"), when(review.reviewed_at) if review else "—"),
    ]


def register(web: Web) -> None:
    """Add the analysis detail page."""

    @signed_in_page(web, "/analysis/{prediction_id}", "history")
    async def detail_page(user: User, prediction_id: str) -> None:
        try:
            wanted = UUID(prediction_id)
            prediction: Prediction = await web.core.get_prediction()(
                GetPrediction(actor=user, prediction_id=wanted)
            )
            original: bytes = await web.core.get_prediction_image()(
                GetPredictionImage(actor=user, prediction_id=wanted)
            )
        except (ValueError, DomainError) as error:
            shown = error if isinstance(error, DomainError) else prediction_not_found()
            ui.label(error_text(shown)).classes("text-negative").mark("detail-error")
            return
        ui.label(t("detail.title", filename=prediction.filename)).classes("text-h5")
        with ui.row().classes("w-full gap-6 no-wrap items-start"):
            with ui.column().classes("w-2/3 gap-2"):
                result_panel(web, prediction, original)
            with ui.column().classes("w-1/3 gap-2"):
                with ui.card().classes("w-full").props("flat bordered"):
                    for name, value in facts(prediction):
                        with ui.row().classes("w-full justify-between no-wrap"):
                            ui.label(name).classes("text-caption")
                            ui.label(value).classes("text-body2").mark("fact")
                _review_form(web, prediction)
                _delete_button(web, prediction)


def _review_form(web: Web, prediction: Prediction) -> None:
    with ui.card().classes("w-full").props("flat bordered"):
        ui.label(t("detail.review")).classes("text-subtitle1")
        ui.label(t("detail.review_hint")).classes("text-caption")
        current = ui.label().mark("current-review")

        def show_current(p: Prediction) -> None:
            current.set_text(
                t("detail.current_review", verdict=t("review." + p.review.verdict.value))
                if p.review
                else t("review.none")
            )

        show_current(prediction)
        verdict = ui.radio(
            {Verdict.AGREE.value: t("detail.agree"), Verdict.DISAGREE.value: t("detail.disagree")},
            value=prediction.review.verdict.value if prediction.review else None,
        ).mark("verdict")
        note = (
            ui.textarea(t("detail.note"), value=prediction.review.note if prediction.review else "")
            .classes("w-full")
            .props("maxlength=2000 counter")
            .mark("note")
        )

        async def save() -> None:
            if verdict.value is None:
                ui.notify(t("detail.choose_verdict"), type="warning")
                return
            with reported():
                reviewed: Prediction = await web.core.review_prediction()(
                    ReviewPrediction(
                        actor=await actor(web),
                        prediction_id=prediction.id,
                        verdict=Verdict(verdict.value),
                        note=note.value or "",
                        client=client_address(),
                    )
                )
                show_current(reviewed)
                ui.notify(t("detail.review_saved"), type="positive")

        ui.button(t("detail.save_review"), icon="rate_review", on_click=save).mark("save-review")


def _delete_button(web: Web, prediction: Prediction) -> None:
    async def delete() -> None:
        dialog.close()
        with reported():
            await web.core.delete_prediction()(
                DeletePrediction(
                    actor=await actor(web), prediction_id=prediction.id, client=client_address()
                )
            )
            ui.notify(t("detail.deleted"), type="positive")
            ui.navigate.to("/history")

    with ui.dialog() as dialog, ui.card():
        ui.label(t("detail.delete_confirm")).mark("delete-question")
        with ui.row().classes("justify-end w-full"):
            ui.button(t("detail.cancel"), on_click=dialog.close).props("flat")
            ui.button(t("detail.delete"), icon="delete", on_click=delete).props(
                "color=negative"
            ).mark("confirm-delete")
    ui.button(t("detail.delete"), icon="delete", on_click=dialog.open).props(
        "outline color=negative"
    ).mark("delete")
