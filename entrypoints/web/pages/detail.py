"""Analysis detail: the stored image with its heatmap, the result, the structured review
(BI-RADS, agree/disagree, note), the pathology outcome, deletion.

After a save the page body is drawn again from the stored analysis, so the facts and forms
show what was recorded; each form's message sits under it and is cleared by the next try.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from uuid import UUID

from nicegui import ui

from application.commands import (
    DeletePrediction,
    GetPrediction,
    GetPredictionImage,
    RecordOutcome,
    ReviewPrediction,
    WithdrawOutcome,
)
from domain.errors import DomainError, NotAuthenticated
from domain.outcomes import MAX_HISTOLOGY_LENGTH, BiRads, OutcomeSource, PathologyResult
from domain.predictions import Prediction, Verdict, prediction_not_found
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import error_text, reported, session_expired
from entrypoints.web.formats import day, percent, when
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.state import client_address, t
from entrypoints.web.widgets import band_words, date_input, position_text, result_panel

NOTE_MAX = 2000
HISTOLOGY_MAX = MAX_HISTOLOGY_LENGTH
Redraw = Callable[[str | None], Awaitable[object]]  # the page body's refresh


def facts(prediction: Prediction) -> list[tuple[str, str]]:
    review, outcome = prediction.review, prediction.outcome
    return [
        (t("result.probability"), percent(prediction.p_malignant)),
        (t("result.band"), band_words(prediction.likelihood.band)),
        (t("result.threshold"), percent(prediction.threshold)),
        (t("result.model_version"), prediction.model_version),
        (t("detail.created"), when(prediction.created_at)),
        (t("detail.reviewed_at"), when(review.reviewed_at) if review else "—"),
        (t("detail.birads"), review.birads.value if review and review.birads else "—"),
        (t("detail.outcome"), t(f"outcome.{outcome.result.value}") if outcome else "—"),
    ]


class FormMessage:
    """The one message under a form: an error or a confirmation, replaced at each try."""

    def __init__(self, marker: str) -> None:
        self.label = ui.label().classes("text-body2").props('role="status"').mark(marker)
        self.label.set_visibility(False)

    def say(self, text: str, *, error: bool) -> None:
        self.label.set_text(text)
        self.label.classes(replace="text-body2 " + ("text-negative" if error else "text-positive"))
        self.label.set_visibility(True)

    def clear(self) -> None:
        self.label.set_visibility(False)


def register(web: Web) -> None:
    """Add the analysis detail page."""

    @signed_in_page(web, "/analysis/{prediction_id}", "history")
    async def detail_page(user: User, prediction_id: str) -> None:
        try:
            wanted = UUID(prediction_id)
            original: bytes = await web.core.get_prediction_image()(
                GetPredictionImage(actor=user, prediction_id=wanted)
            )
        except (ValueError, DomainError) as error:
            shown = error if isinstance(error, DomainError) else prediction_not_found()
            ui.label(error_text(shown)).classes("text-negative").mark("detail-error")
            return

        @ui.refreshable
        async def body(saved: str | None = None) -> None:
            try:
                prediction: Prediction = await web.core.get_prediction()(
                    GetPrediction(actor=await actor(web), prediction_id=wanted)
                )
            except NotAuthenticated:
                session_expired()
                return
            except DomainError as error:
                ui.label(error_text(error)).classes("text-negative").mark("detail-error")
                return
            ui.label(t("detail.title", filename=prediction.filename)).classes("text-h5")
            with ui.row().classes("w-full gap-6 items-start"):
                with ui.column().classes("grow gap-2").style("flex: 2 1 24rem"):
                    result_panel(web, prediction, original)
                with ui.column().classes("gap-2").style("flex: 1 1 18rem"):
                    with ui.card().classes("w-full").props("flat bordered"):
                        for name, value in facts(prediction):
                            with ui.row().classes("w-full justify-between no-wrap"):
                                ui.label(name).classes("text-caption")
                                ui.label(value).classes("text-body2").mark("fact")
                        if prediction.study_id is not None:
                            ui.label(position_text(prediction)).classes("text-body2").mark(
                                "position"
                            )
                            ui.link(t("detail.open_study"), f"/studies/{prediction.study_id}").mark(
                                "open-study"
                            )
                    _review_form(web, prediction, body.refresh, saved == "review")
                    _outcome_form(web, prediction, body.refresh, saved == "outcome")
                    _delete_button(web, prediction)

        await body()


def _review_form(web: Web, prediction: Prediction, redraw: Redraw, just_saved: bool) -> None:
    review = prediction.review
    with ui.card().classes("w-full").props("flat bordered").mark("review-form"):
        ui.label(t("detail.review")).classes("text-subtitle1")
        ui.label(t("detail.review_hint")).classes("text-caption")
        ui.label(
            t("detail.current_review", verdict=t("review." + review.verdict.value))
            if review
            else t("review.none")
        ).mark("current-review")
        birads = (
            ui.select(
                {"": "—", **{b.value: t(f"birads.{b.value}") for b in BiRads}},
                label=t("detail.birads"),
                value=review.birads.value if review and review.birads else "",
            )
            .classes("w-full")
            .mark("birads")
        )
        verdict = ui.radio(
            {Verdict.AGREE.value: t("detail.agree"), Verdict.DISAGREE.value: t("detail.disagree")},
            value=review.verdict.value if review else None,
        ).mark("verdict")
        verdict_error = (
            ui.label(t("detail.choose_verdict")).classes("text-negative text-caption")
        ).mark("verdict-error")
        verdict_error.set_visibility(False)
        note = (
            ui.textarea(t("detail.note"), value=review.note if review else "")
            .classes("w-full")
            .props(f'maxlength={NOTE_MAX} counter hint="{t("detail.note_rule", count=NOTE_MAX)}"')
            .mark("note")
        )
        message = FormMessage("review-message")
        if just_saved:
            message.say(t("detail.review_saved"), error=False)

        async def save() -> None:
            message.clear()
            note.error = None
            verdict_error.set_visibility(verdict.value is None)
            if verdict.value is None:
                return
            try:
                await web.core.review_prediction()(
                    ReviewPrediction(
                        actor=await actor(web),
                        prediction_id=prediction.id,
                        verdict=Verdict(verdict.value),
                        note=note.value or "",
                        birads=BiRads(birads.value) if birads.value else None,
                        client=client_address(),
                    )
                )
            except NotAuthenticated:
                session_expired()
                return
            except DomainError as error:
                note.error = error_text(error)
                return
            await redraw("review")

        ui.button(t("detail.save_review"), icon="rate_review", on_click=save).mark("save-review")


def _outcome_form(web: Web, prediction: Prediction, redraw: Redraw, just_saved: bool) -> None:
    outcome = prediction.outcome
    with ui.card().classes("w-full").props("flat bordered").mark("outcome-form"):
        ui.label(t("detail.outcome_title")).classes("text-subtitle1")
        ui.label(t("detail.outcome_hint")).classes("text-caption")
        if outcome is not None:
            ui.label(
                t(
                    "detail.current_outcome",
                    result=t(f"outcome.{outcome.result.value}"),
                    source=t(f"outcome.source.{outcome.source.value}"),
                    day=day(outcome.outcome_date),
                )
            ).mark("current-outcome")
        result = ui.radio(
            {r.value: t(f"outcome.{r.value}") for r in PathologyResult},
            value=outcome.result.value if outcome else None,
        ).mark("outcome-result")
        source = (
            ui.select(
                {s.value: t(f"outcome.source.{s.value}") for s in OutcomeSource},
                label=t("detail.outcome_source"),
                value=outcome.source.value if outcome else OutcomeSource.BIOPSY.value,
            )
            .classes("w-full")
            .mark("outcome-source")
        )
        when_input = date_input(
            t("detail.outcome_date"),
            (outcome.outcome_date if outcome else web.core.clock().now().date()).isoformat(),
            "outcome-date",
        )
        histology_rule = t("detail.histology_rule", count=HISTOLOGY_MAX)
        histology = (
            ui.input(t("detail.histology"), value=outcome.histology if outcome else "")
            .classes("w-full")
            .props(f'maxlength={HISTOLOGY_MAX} hint="{histology_rule}"')
            .mark("histology")
        )
        message = FormMessage("outcome-message")
        if just_saved:
            message.say(t("detail.outcome_saved"), error=False)

        async def save() -> None:
            message.clear()
            when_input.error = histology.error = None
            if result.value is None:
                message.say(t("detail.choose_outcome"), error=True)
                return
            try:
                recorded_on = date.fromisoformat((when_input.value or "").strip())
            except ValueError:
                when_input.error = t("error.date_invalid")
                return
            try:
                await web.core.record_outcome()(
                    RecordOutcome(
                        actor=await actor(web),
                        prediction_id=prediction.id,
                        result=PathologyResult(result.value),
                        source=OutcomeSource(source.value),
                        outcome_date=recorded_on,
                        histology=histology.value or "",
                        client=client_address(),
                    )
                )
            except NotAuthenticated:
                session_expired()
                return
            except DomainError as error:
                field = when_input if "date" in str(error.code) else histology
                field.error = error_text(error)
                return
            await redraw("outcome")

        async def withdraw() -> None:
            with reported():
                await web.core.withdraw_outcome()(
                    WithdrawOutcome(
                        actor=await actor(web), prediction_id=prediction.id, client=client_address()
                    )
                )
                await redraw(None)

        with ui.row().classes("gap-2"):
            ui.button(t("detail.save_outcome"), icon="biotech", on_click=save).mark("save-outcome")
            if outcome is not None:
                ui.button(t("detail.withdraw_outcome"), on_click=withdraw).props("flat").mark(
                    "withdraw-outcome"
                )


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
