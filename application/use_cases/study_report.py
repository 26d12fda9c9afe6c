"""GetStudyReport: one printable PDF per study, with what a clinic files."""

from __future__ import annotations

from uuid import UUID

from application.commands import GetStudyReport
from application.ports import (
    CamGrid,
    Clock,
    HeatmapRenderer,
    ImageStore,
    LesionRenderer,
    ReportLesion,
    ReportRenderer,
    ReportView,
    StudyReport,
    UnitOfWork,
)
from application.use_cases._study_shared import study_entry, visible_study
from domain.predictions import Prediction
from domain.studies import StudyRecord
from domain.users import User

REPORT_LANGUAGES = ("en", "fr")


class GetStudyReportUseCase:
    """The study's report: per lesion its combined result and every view with the lesion
    outline and the heatmap drawn on the stored image, the band, threshold and model version
    stored with each analysis, and the reviewer's BI-RADS and note. Audited."""

    def __init__(
        self,
        uow: UnitOfWork,
        images: ImageStore,
        heatmaps: HeatmapRenderer,
        outlines: LesionRenderer,
        renderer: ReportRenderer,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._images = images
        self._heatmaps = heatmaps
        self._outlines = outlines
        self._renderer = renderer
        self._clock = clock

    async def __call__(self, cmd: GetStudyReport) -> bytes:
        async with self._uow as uow:
            study = await visible_study(uow, cmd.actor, cmd.study_id)
            images = (await uow.studies.images([study.id]))[study.id]
            cams = {p.id: await uow.predictions.get_cam(p.id) for p in images}
            reviewers = {p.review.reviewer_id for p in images if p.review}
            names = {user_id: _name(await uow.users.get(user_id)) for user_id in reviewers}
            detail = f"images={len(images)} language={cmd.language}"
            await uow.audit.record(
                study_entry(self._clock, "study.report", cmd.actor, study, cmd.client, detail)
            )
            await uow.commit()
        views = {p.id: await self._view(p, cams[p.id], names) for p in images}
        record = StudyRecord(study, tuple(images))
        report = StudyReport(
            patient_ref=study.patient_ref,
            accession_number=study.accession_number,
            study_date=study.study_date,
            generated_at=self._clock.now(),
            generated_by=_name(cmd.actor),
            language=cmd.language if cmd.language in REPORT_LANGUAGES else "en",
            lesions=tuple(
                ReportLesion(
                    lesion.laterality,
                    lesion.lesion_number,
                    views[lesion.driving.id],
                    tuple(views[view.id] for view in lesion.views),
                )
                for lesion in record.lesions
            ),
            unplaced=tuple(views[p.id] for p in record.unplaced),
        )
        return await self._renderer.render(report)

    async def _view(
        self, prediction: Prediction, cam: CamGrid | None, names: dict[UUID, str]
    ) -> ReportView:
        stored = await self._images.get(prediction.image_sha256)
        lesion = prediction.lesion
        outline = await self._outlines.render(stored, lesion) if lesion and lesion.found else None
        review = prediction.review
        return ReportView(
            filename=prediction.filename,
            position=prediction.position,
            p_malignant=prediction.p_malignant,
            threshold=prediction.threshold,
            model_version=prediction.model_version,
            likelihood=prediction.likelihood,
            outline_png=outline,
            heatmap_png=await self._heatmaps.render(stored, cam) if cam else None,
            review=review,
            reviewer=names.get(review.reviewer_id) if review else None,
        )


def _name(user: User | None) -> str:
    return "—" if user is None else (user.display_name or user.email)
