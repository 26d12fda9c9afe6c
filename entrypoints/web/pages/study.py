"""One study: its facts, the images grouped by lesion (each lesion assessed by its most
suspicious view), images without a position, the patient's earlier studies beside it, an
upload with a position per image, and "Print report"."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

from nicegui import app, events, ui
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from application.commands import (
    AddImagesToStudy,
    GetPredictionImage,
    GetStudy,
    GetStudyReport,
    ResolveCurrentUser,
    StoredOutcome,
    UpdateStudy,
    Upload,
)
from domain.errors import DomainError, NotAuthenticated, NotFound
from domain.predictions import Prediction
from domain.studies import (
    MAX_DISTANCE_CM,
    MAX_LESION_NUMBER,
    ImagePosition,
    LesionAssessment,
    Study,
    StudyDetail,
    StudyRecord,
    View,
    study_not_found,
)
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import error_text, session_expired
from entrypoints.web.formats import day, labelled, percent
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.i18n import translate_error as error_text_in
from entrypoints.web.pages.analyze import ACCEPTED_TYPES, DROP_ZONE
from entrypoints.web.pages.pacs import send_to_pacs
from entrypoints.web.pages.studies import StudyFields
from entrypoints.web.state import LANGUAGE, TOKEN, client_address, t
from entrypoints.web.widgets import (
    band_chip,
    band_words,
    png_data_url,
    position_text,
    side_words,
)

REPORT_PATH = "/studies/{study_id}/report.pdf"


@dataclass
class PendingImage:
    """A chosen file waiting for its position before it is analysed into the study."""

    filename: str
    data: bytes
    side: str | None = ""  # "": from the DICOM header, or no position
    lesion: float | None = 1
    view: str | None = View.OTHER.value
    clock: str | None = ""
    distance: float | None = None

    def position(self) -> ImagePosition | None:
        if not self.side:
            return None
        return ImagePosition.parse(
            self.side,
            lesion_number=int(self.lesion or 1),
            view=self.view,
            clock=self.clock or None,
            distance_cm=self.distance,
        )


@dataclass
class PendingBatch:
    images: list[PendingImage] = field(default_factory=list)


async def report_response(web: Web, study_id: str, request: Request) -> Response:
    """The study's PDF for the signed-in reader of this browser (the UI session, not a bearer
    token: the token never reaches the browser), in their language, to print or file."""
    stored = app.storage.user.get(TOKEN)
    client = request.client.host if request.client else None
    if not stored:
        return RedirectResponse("/login", status_code=303)
    try:
        wanted = UUID(study_id)
    except ValueError:
        return PlainTextResponse(error_text_in("en", study_not_found()), status_code=404)
    try:
        reader: User = await web.core.resolve_current_user()(
            ResolveCurrentUser(token=str(stored), client=client)
        )
        pdf: bytes = await web.core.get_study_report()(
            GetStudyReport(
                actor=reader,
                study_id=wanted,
                language=str(app.storage.user.get(LANGUAGE) or "en"),
                client=client,
            )
        )
    except NotAuthenticated:
        return RedirectResponse("/login", status_code=303)
    except NotFound:
        return PlainTextResponse(error_text_in("en", study_not_found()), status_code=404)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="study-{study_id}.pdf"'},
    )


def register(web: Web) -> None:
    """Add the study page and its printable report."""

    @app.get(REPORT_PATH, include_in_schema=False)
    async def study_report(study_id: str, request: Request) -> Response:
        return await report_response(web, study_id, request)

    @signed_in_page(web, "/studies/{study_id}", "studies")
    async def study_page(user: User, study_id: str) -> None:
        try:
            wanted = UUID(study_id)
        except ValueError:
            ui.label(error_text(study_not_found())).classes("text-negative").mark("study-error")
            return

        @ui.refreshable
        async def body(refused: tuple[str, ...] = ()) -> None:
            try:
                detail: StudyDetail = await web.core.get_study()(
                    GetStudy(actor=await actor(web), study_id=wanted, client=client_address())
                )
            except NotAuthenticated:
                session_expired()
                return
            except DomainError as error:
                ui.label(error_text(error)).classes("text-negative").mark("study-error")
                return
            _header(web, detail.current, body.refresh)
            with ui.row().classes("w-full gap-6 items-start"):
                with ui.column().classes("gap-4").style("flex: 3 1 30rem"):
                    await _lesions(web, detail.current)
                    _uploader(web, wanted, body.refresh, refused)
                with ui.column().classes("gap-2").style("flex: 1 1 16rem").mark("priors"):
                    _priors(detail.priors)

        await body()


def _header(web: Web, record: StudyRecord, redraw: Callable[[], Awaitable[object]]) -> None:
    study = record.study
    with ui.row().classes("w-full items-center gap-4"):
        ui.label(t("study.title", patient=study.patient_ref)).classes("text-h5").mark("study-title")
        ui.space()
        _edit_button(web, study, redraw)
        ui.button(
            t("study.print"),
            icon="print",
            on_click=lambda: ui.navigate.to(REPORT_PATH.format(study_id=study.id), new_tab=True),
        ).mark("print-report")
        if web.core.settings().pacs_dicomweb_url:
            sent = ui.label().mark("pacs-sent")
            ui.button(
                t("pacs.send"),
                icon="upload",
                on_click=lambda: send_to_pacs(web, study.id, sent),
            ).props("flat").mark("send-to-pacs")
    with ui.row().classes("gap-6"):
        for name, value in (
            (t("studies.patient_ref"), study.patient_ref),
            (t("studies.accession"), study.accession_number or "—"),
            (t("studies.date"), day(study.study_date)),
            (t("study.images"), str(len(record.images))),
        ):
            ui.label(labelled(name, value)).classes("text-body2").mark("study-fact")


def _edit_button(web: Web, study: Study, redraw: Callable[[], Awaitable[object]]) -> None:
    """Correct the patient reference, accession or date; errors under their field."""
    with ui.dialog() as dialog, ui.card().classes("w-96"):
        ui.label(t("study.edit")).classes("text-h6")
        fields = StudyFields("edit", study)
        fields.patient.classes("w-full")
        fields.accession.classes("w-full")

        async def save() -> None:
            fields.clear()
            try:
                await web.core.update_study()(
                    UpdateStudy(
                        actor=await actor(web),
                        study_id=study.id,
                        patient_ref=fields.patient_ref,
                        accession_number=fields.accession_number,
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
            dialog.close()
            await redraw()

        with ui.row().classes("justify-end w-full"):
            ui.button(t("detail.cancel"), on_click=dialog.close).props("flat")
            ui.button(t("study.save"), on_click=save).mark("save-study")
    ui.button(t("study.edit"), icon="edit", on_click=dialog.open).props("flat").mark("edit-study")


async def _thumbnail(web: Web, prediction: Prediction) -> None:
    try:
        image = await web.core.get_prediction_image()(
            GetPredictionImage(actor=await actor(web), prediction_id=prediction.id)
        )
    except DomainError:
        return
    ui.image(png_data_url(image)).classes("w-40 rounded").props(
        f'alt="{prediction.filename}" fit=contain no-transition'
    )


async def _lesions(web: Web, record: StudyRecord) -> None:
    lesions: tuple[LesionAssessment, ...] = record.lesions
    ui.label(t("study.lesions")).classes("text-h6")
    ui.label(t("study.combine_rule")).classes("text-caption")
    if not lesions and not record.unplaced:
        ui.label(t("study.no_images")).mark("study-empty")
    for lesion in lesions:
        driving = lesion.driving
        marker = f"lesion {lesion.laterality.value}{lesion.lesion_number}"
        with ui.card().classes("w-full").props("flat bordered").mark(marker):
            ui.label(
                t(
                    "study.lesion_title",
                    breast=t(f"study.breast.{lesion.laterality.value}"),
                    number=lesion.lesion_number,
                    views=len(lesion.views),
                )
            ).classes("text-subtitle1 font-medium")
            band_chip(driving)
            ui.label(
                t(
                    "study.lesion_result",
                    p=percent(lesion.p_malignant),
                    threshold=percent(lesion.threshold),
                    view=driving.filename,
                )
            ).classes("text-body2").mark("lesion-result")
            if driving.likelihood.borderline:
                ui.label(t("result.borderline")).classes("text-body2").mark("borderline")
            with ui.row().classes("gap-4"):
                for view in lesion.views:
                    await _view_tile(web, view)
    if record.unplaced:
        ui.label(t("study.unplaced_title")).classes("text-subtitle1")
        with ui.row().classes("gap-4").mark("unplaced"):
            for view in record.unplaced:
                await _view_tile(web, view)


async def _view_tile(web: Web, view: Prediction) -> None:
    with ui.column().classes("gap-1 w-44").mark(f"view {view.filename}"):
        await _thumbnail(web, view)
        ui.link(view.filename, f"/analysis/{view.id}").classes("text-body2")
        ui.label(position_text(view)).classes("text-caption")
        ui.label(f"{percent(view.p_malignant)} · {band_words(view.likelihood.band)}").classes(
            "text-caption"
        )
        review = view.review
        ui.label(
            t("study.reviewed", birads=review.birads.value if review.birads else "—")
            if review
            else t("review.none")
        ).classes("text-caption")


def _priors(priors: tuple[StudyRecord, ...]) -> None:
    ui.label(t("study.priors")).classes("text-h6")
    if not priors:
        ui.label(t("study.no_priors")).classes("text-body2").mark("no-priors")
    for prior in priors:
        with ui.card().classes("w-full").props("flat bordered").mark("prior"):
            ui.link(
                t(
                    "study.prior_title",
                    date=day(prior.study.study_date),
                    accession=prior.study.accession_number or "—",
                ),
                f"/studies/{prior.study.id}",
            ).classes("text-subtitle2")
            for lesion in prior.lesions:
                ui.label(
                    t(
                        "study.prior_lesion",
                        side=side_words(lesion.laterality.value),
                        number=lesion.lesion_number,
                        p=percent(lesion.p_malignant),
                        band=band_words(lesion.driving.likelihood.band),
                    )
                ).classes("text-caption")
            if not prior.images:
                ui.label(t("study.no_images")).classes("text-caption")


def _uploader(
    web: Web,
    study_id: UUID,
    redraw: Callable[[tuple[str, ...]], Awaitable[object]],
    refused: tuple[str, ...],
) -> None:
    """Choose files, give each a position, then analyse them into this study; the files the
    last try refused stay listed, each with its reason."""
    batch = PendingBatch()
    with ui.card().classes("w-full").props("flat bordered").mark("study-upload"):
        ui.label(t("study.add_images")).classes("text-h6")
        for reason in refused:
            with ui.row().classes("items-center no-wrap gap-2"):
                ui.icon("error", size="sm").classes("text-negative").props('aria-hidden="true"')
                ui.label(reason).classes("text-negative").props('role="alert"').mark(
                    "study-refused"
                )
        ui.label(t("study.position_rules", lesions=MAX_LESION_NUMBER, cm=int(MAX_DISTANCE_CM)))
        ui.label(t("study.position_hint")).classes("text-caption")

        rows = ui.column().classes("w-full gap-2").mark("pending")
        message = ui.label().classes("text-negative").props('role="alert"').mark("upload-message")

        async def add(event: events.UploadEventArguments) -> None:
            image = PendingImage(event.file.name, await event.file.read())
            batch.images.append(image)
            with rows:
                _position_row(image)
            analyse.set_enabled(True)

        uploader = (
            ui.upload(
                multiple=True, auto_upload=True, on_upload=add, label=t("analyze.upload_label")
            )
            .props(f'accept="{ACCEPTED_TYPES}" flat bordered')
            .classes("w-full")
            .mark("study-uploader")
        )
        uploader.on("finish", uploader.reset)
        uploader.add_slot("list", DROP_ZONE.format(text=html.escape(t("analyze.drop"))))

        async def run() -> None:
            message.set_text("")
            try:
                positions = tuple(image.position() for image in batch.images)
            except DomainError as error:
                message.set_text(error_text(error))
                return
            try:
                outcomes: list[StoredOutcome] = await web.core.add_images_to_study()(
                    AddImagesToStudy(
                        actor=await actor(web),
                        study_id=study_id,
                        uploads=tuple(Upload(i.filename, i.data) for i in batch.images),
                        positions=positions,
                        client=client_address(),
                    )
                )
            except NotAuthenticated:
                session_expired()
                return
            except DomainError as error:
                message.set_text(error_text(error))
                return
            await redraw(tuple(error_text(o.error) for o in outcomes if o.error is not None))

        analyse = ui.button(t("study.analyse"), icon="play_arrow", on_click=run).mark(
            "analyse-study"
        )
        analyse.set_enabled(False)


def _position_row(image: PendingImage) -> None:
    with ui.row().classes("w-full items-start gap-2 no-wrap").mark(f"pending {image.filename}"):
        ui.label(image.filename).classes("w-40 text-body2 ellipsis")
        ui.select(
            {"": t("study.side.auto"), "R": t("study.side.R"), "L": t("study.side.L")},
            label=t("study.side"),
        ).bind_value(image, "side").classes("w-36").mark("pending-side")
        ui.number(t("study.lesion_number"), min=1, max=MAX_LESION_NUMBER, step=1).bind_value(
            image, "lesion"
        ).classes("w-24").mark("pending-lesion")
        ui.select(
            {v.value: t(f"study.view.{v.value}") for v in View}, label=t("study.view")
        ).bind_value(image, "view").classes("w-36").mark("pending-view")
        ui.input(t("study.clock"), placeholder="10:30").bind_value(image, "clock").classes(
            "w-24"
        ).mark("pending-clock")
        ui.number(t("study.distance"), min=0, max=MAX_DISTANCE_CM, step=0.5).bind_value(
            image, "distance"
        ).classes("w-28").mark("pending-distance")
