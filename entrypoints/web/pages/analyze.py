"""Analyze: upload one or many images, see a result card per image; each result is stored."""

from __future__ import annotations

import asyncio

from nicegui import events, ui
from nicegui.elements.upload_files import FileUpload

from application.commands import GetPredictionImage, PredictAndStore, StoredOutcome, Upload
from domain.predictions import Prediction
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.state import client_address, error_text, t
from entrypoints.web.widgets import human_size, result_panel

ACCEPTED_TYPES = ".png,.jpg,.jpeg,image/png,image/jpeg"


class FileCard:
    """One card per uploaded file: its status, then its result or the reason it was refused."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.card = ui.card().classes("w-full").mark(f"file-card {filename}")
        with self.card:
            with ui.row().classes("items-center w-full no-wrap"):
                ui.label(filename).classes("text-subtitle1 font-medium")
                ui.space()
                self.spinner = ui.spinner(size="sm")
                self.status = (
                    ui.label(t("analyze.status.running"))
                    .classes("text-caption")
                    .props('role="status"')
                    .mark("file-status")
                )
            self.body = ui.column().classes("w-full gap-2")

    def running(self) -> None:
        self.status.set_text(t("analyze.status.running"))

    def refuse(self, reason: str) -> None:
        self.spinner.set_visibility(False)
        self.status.set_text(t("analyze.status.failed"))
        with self.body, ui.row().classes("items-center no-wrap gap-2"):
            ui.icon("error", size="sm").classes("text-negative").props('aria-hidden="true"')
            ui.label(reason).classes("text-negative").props('role="alert"').mark("file-error")

    def show(self, web: Web, prediction: Prediction, original_png: bytes) -> None:
        self.spinner.set_visibility(False)
        self.status.set_text(t("analyze.status.done"))
        with self.body:
            result_panel(web, prediction, original_png)
            ui.link(t("result.open"), f"/analysis/{prediction.id}").mark("open-detail")


def register(web: Web) -> None:
    """Add the Analyze page at the root."""
    limit = web.options.max_upload_bytes

    @signed_in_page(web, "/", "analyze")
    async def analyze_page(user: User) -> None:
        ui.label(t("analyze.title")).classes("text-h5")
        ui.label(t("analyze.hint", size=human_size(limit))).classes("text-body2")

        # One analysis at a time per page: the model is CPU-bound and cards stay in order.
        turn = asyncio.Lock()

        async def analyse(event: events.UploadEventArguments) -> None:
            upload = event.file
            with results:
                card = FileCard(upload.name)
            async with turn:
                await analyse_one(upload, card)

        async def analyse_one(upload: FileUpload, card: FileCard) -> None:
            card.running()
            # ui.upload(max_file_size=...) is only a browser check: enforce it here too.
            if upload.size() > limit:
                card.refuse(t("analyze.too_large", size=human_size(limit)))
                return
            data = await upload.read()
            with reported():
                outcomes: list[StoredOutcome] = await web.core.predict_and_store()(
                    PredictAndStore(
                        actor=await actor(web),
                        uploads=(Upload(filename=upload.name, data=data),),
                        client=client_address(),
                    )
                )
                outcome = outcomes[0]
                if outcome.prediction is None:
                    assert outcome.error is not None
                    card.refuse(error_text(outcome.error))
                    return
                original = await web.core.get_prediction_image()(
                    GetPredictionImage(actor=await actor(web), prediction_id=outcome.prediction.id)
                )
                card.show(web, outcome.prediction, original)
                return
            card.refuse(t("analyze.status.failed"))

        ui.upload(
            label=t("analyze.upload_label"),
            multiple=True,
            auto_upload=True,
            max_file_size=limit,
            on_upload=analyse,
        ).props(f'accept="{ACCEPTED_TYPES}"').classes("w-full").mark("upload")
        results = ui.column().classes("w-full gap-4")
