"""Analyze: upload one or many images, see a result card per image; each result is stored.

The cards follow the order the files were chosen in; the session's cards stay when the reader
leaves the page and comes back (`state.session_results`). Files the browser refuses (type,
size, count) and files the server refuses get a card naming the file and the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from typing import Any
from uuid import UUID

from nicegui import events, ui
from nicegui.elements.upload_files import FileUpload

from application.commands import (
    GetPrediction,
    GetPredictionImage,
    PredictAndStore,
    StoredOutcome,
    Upload,
)
from domain.errors import DomainError, NotFound
from domain.predictions import Prediction
from domain.users import User
from entrypoints.settings import Settings
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.formats import integer, size
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.state import SessionResult, client_address, error_text, session_results, t
from entrypoints.web.widgets import result_panel

# DICOM Part 10 files are recognised by their content on the server; the browser filter only
# narrows the file chooser (files without an extension can still be dropped as DICOM).
ACCEPTED_TYPES = ".png,.jpg,.jpeg,.dcm,.dicom,image/png,image/jpeg,application/dicom"
# What Quasar's uploader says of the files chosen ("added") or refused ("rejected", with the
# failed rule), read in the browser: File objects do not serialise.
FILES_JS = (
    "(entries) => emit(entries.map(f => ({{name: {file}.name, size: {file}.size, "
    "reason: f.failedPropValidation || null}})))"
)
DROP_ZONE = (
    '<div class="column items-center justify-center q-pa-lg text-grey-8 bs-drop" '
    'style="min-height: 7rem; border: 2px dashed #9e9e9e; border-radius: 8px">'
    '<q-icon name="cloud_upload" size="lg" aria-hidden="true"></q-icon>'
    "<div>{text}</div></div>"
)


class FileCard:
    """One card per chosen file: its status, then its result or the reason it was refused."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.card = ui.card().classes("w-full").mark(f"file-card {filename}")
        with self.card:
            with ui.row().classes("items-center w-full no-wrap"):
                ui.label(filename).classes("text-subtitle1 font-medium")
                ui.space()
                self.spinner = ui.spinner(size="sm")
                self.status = (
                    ui.label(t("analyze.status.queued"))
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

    def duplicate(self, earlier: SessionResult) -> None:
        self.spinner.set_visibility(False)
        self.status.set_text(t("analyze.status.duplicate"))
        with self.body, ui.row().classes("items-center no-wrap gap-2"):
            ui.icon("content_copy", size="sm").classes("text-warning").props('aria-hidden="true"')
            ui.label(t("analyze.duplicate", name=earlier.filename)).mark("file-duplicate")
            if earlier.prediction_id:
                ui.link(t("result.open"), f"/analysis/{earlier.prediction_id}")

    def show(self, web: Web, prediction: Prediction, original_png: bytes) -> None:
        self.spinner.set_visibility(False)
        self.status.set_text(t("analyze.status.done"))
        with self.body:
            result_panel(web, prediction, original_png)
            ui.link(t("result.open"), f"/analysis/{prediction.id}").mark("open-detail")


def limits_text(settings: Settings) -> str:
    """The server's limits, as the browser enforces them too."""
    side = int(settings.max_pixels**0.5)
    return t(
        "analyze.limits",
        files=integer(settings.max_files_per_request),
        size=size(settings.max_upload_bytes),
        pixels=f"{integer(side)} x {integer(side)}",
    )


def rejection_text(settings: Settings, entry: dict[str, Any]) -> str:
    """Why the browser refused a file, with the limit it broke."""
    name, reason = str(entry.get("name") or ""), str(entry.get("reason") or "")
    if reason == "max-file-size":
        return t(
            "analyze.rejected.size",
            name=name,
            size=size(int(entry.get("size") or 0)),
            limit=size(settings.max_upload_bytes),
        )
    if reason in {"max-files", "max-total-size"}:
        return t("analyze.rejected.count", name=name, count=settings.max_files_per_request)
    return t("analyze.rejected.type", name=name)


def register(web: Web) -> None:
    """Add the Analyze page at the root."""

    @signed_in_page(web, "/", "analyze")
    async def analyze_page(user: User) -> None:
        settings: Settings = web.core.settings()
        limit = settings.max_upload_bytes
        session = session_results()
        ui.label(t("analyze.title")).classes("text-h5")
        ui.label(t("analyze.hint")).classes("text-body2")
        ui.label(limits_text(settings)).classes("text-body2").mark("limits")

        # Cards are drawn when the files are chosen, in that order; uploads then arrive in any
        # order and each fills the first waiting card of its name. One analysis at a time.
        waiting: dict[str, list[FileCard]] = {}
        turn = asyncio.Lock()

        def chosen(event: events.GenericEventArguments) -> None:
            with results:
                for entry in _entries(event.args):
                    name = str(entry.get("name") or "")
                    waiting.setdefault(name, []).append(FileCard(name))

        async def analyse(event: events.UploadEventArguments) -> None:
            upload = event.file
            queue = waiting.get(upload.name)
            if queue:
                card = queue.pop(0)
            else:
                with results:
                    card = FileCard(upload.name)
            async with turn:
                await analyse_one(upload, card)

        async def analyse_one(upload: FileUpload, card: FileCard) -> None:
            card.running()
            # ui.upload(max_file_size=...) is only a browser check: enforce it here too.
            if upload.size() > limit:
                reason = t("analyze.too_large", name=upload.name, limit=size(limit))
                card.refuse(reason)
                session.add(SessionResult(upload.name, refusal=reason))
                return
            data = await upload.read()
            digest = hashlib.sha256(data).hexdigest()
            earlier = session.find(digest)
            if earlier is not None:
                card.duplicate(earlier)
                return
            refusal = t("analyze.status.failed")
            with reported():
                outcomes: list[StoredOutcome] = await web.core.predict_and_store()(
                    PredictAndStore(
                        actor=await actor(web),
                        uploads=(Upload(filename=upload.name, data=data),),
                        client=client_address(),
                    )
                )
                outcome = outcomes[0]
                if outcome.prediction is not None:
                    original = await web.core.get_prediction_image()(
                        GetPredictionImage(
                            actor=await actor(web), prediction_id=outcome.prediction.id
                        )
                    )
                    card.show(web, outcome.prediction, original)
                    session.add(SessionResult(upload.name, digest, str(outcome.prediction.id)))
                    return
                assert outcome.error is not None
                refusal = error_text(outcome.error)
            card.refuse(refusal)
            session.add(SessionResult(upload.name, digest, refusal=refusal))

        def rejected(event: events.GenericEventArguments) -> None:
            with results:
                for entry in _entries(event.args):
                    reason = rejection_text(settings, entry)
                    FileCard(str(entry.get("name") or "")).refuse(reason)
                    session.add(SessionResult(str(entry.get("name") or ""), refusal=reason))

        def clear() -> None:
            session.clear()
            results.clear()

        uploader = (
            ui.upload(
                label=t("analyze.upload_label"),
                multiple=True,
                auto_upload=True,
                max_file_size=limit,
                max_files=settings.max_files_per_request,
                on_upload=analyse,
            )
            .props(f'accept="{ACCEPTED_TYPES}" flat bordered')
            .classes("w-full")
            .mark("upload")
        )
        uploader.on("added", chosen, js_handler=FILES_JS.format(file="f"))
        uploader.on("rejected", rejected, js_handler=FILES_JS.format(file="f.file"))
        uploader.on("finish", uploader.reset)  # the files live on as cards, not in its queue
        uploader.add_slot("list", DROP_ZONE.format(text=html.escape(t("analyze.drop"))))
        with ui.row().classes("w-full items-center"):
            ui.label(t("analyze.session")).classes("text-subtitle1")
            ui.space()
            ui.button(t("analyze.clear"), icon="clear_all", on_click=clear).props(
                "flat no-caps"
            ).mark("clear-results")
        results = ui.column().classes("w-full gap-4").mark("results")
        await _restore(web, user, session.entries(), results)


def _entries(args: Any) -> list[dict[str, Any]]:
    """The file entries of an uploader event (one list argument, or the entries themselves)."""
    items = args if isinstance(args, list) else [args]
    if len(items) == 1 and isinstance(items[0], list):
        items = items[0]
    return [item for item in items if isinstance(item, dict)]


async def _restore(web: Web, user: User, entries: list[SessionResult], results: ui.column) -> None:
    """Draw the session's earlier cards again, in their order (deleted analyses drop out)."""
    with results:
        for entry in entries:
            if entry.prediction_id is None:
                FileCard(entry.filename).refuse(entry.refusal or t("analyze.status.failed"))
                continue
            wanted = UUID(entry.prediction_id)
            try:
                prediction = await web.core.get_prediction()(
                    GetPrediction(actor=user, prediction_id=wanted)
                )
                original = await web.core.get_prediction_image()(
                    GetPredictionImage(actor=user, prediction_id=wanted)
                )
            except NotFound:
                session_results().drop(entry.prediction_id)
                continue
            except DomainError as error:
                FileCard(entry.filename).refuse(error_text(error))
                continue
            FileCard(entry.filename).show(web, prediction, original)
