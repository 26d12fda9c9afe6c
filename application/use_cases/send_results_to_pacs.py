"""SendResultsToPacs: store a study's findings on the PACS as DICOM SR and SEG objects."""

from __future__ import annotations

from application.commands import PacsSendReceipt, SendResultsToPacs
from application.ports import (
    Clock,
    DecodedImage,
    ImageDecoder,
    ImageFindings,
    ImageStore,
    PacsClient,
    ResultDocumentBuilder,
    UnitOfWork,
)
from application.use_cases._pacs import IMAGE_SOP_CLASSES
from application.use_cases._shared import audit_entry
from domain.errors import Conflict, ErrorCode, Forbidden, InvalidImage, NotFound
from domain.predictions import Prediction
from domain.studies import study_not_found

MODEL_NAME = "breast-cnn"


def not_from_pacs() -> Conflict:
    return Conflict(
        "This study has no analysed PACS image to report on.", ErrorCode.STUDY_NOT_FROM_PACS
    )


class SendResultsToPacsUseCase:
    """Write a new report for the study's analysed PACS images and store it on the PACS.

    A prediction with a stored DICOM copy names its source by the UIDs the copy retains; the
    others are found on the PACS by content: each image of the study is decoded as at
    analysis time and matched to its prediction by the stored image's digest. Earlier
    reports Breastscan stored in the study become the new one's predecessors."""

    def __init__(
        self,
        uow: UnitOfWork,
        pacs: PacsClient,
        builder: ResultDocumentBuilder,
        decoder: ImageDecoder,
        images: ImageStore,
        clock: Clock,
        model_name: str = MODEL_NAME,
    ) -> None:
        self._uow = uow
        self._pacs = pacs
        self._builder = builder
        self._decoder = decoder
        self._images = images
        self._clock = clock
        self._model_name = model_name

    async def __call__(self, cmd: SendResultsToPacs) -> PacsSendReceipt:
        async with self._uow as uow:
            study = await uow.studies.get(cmd.study_id)
            if study is None:
                raise study_not_found()
            try:
                study.ensure_visible_to(cmd.actor)
            except Forbidden:
                raise study_not_found() from None
            predictions = (await uow.studies.images([study.id]))[study.id]
        uid = study.study_instance_uid
        if uid is None or not predictions:
            raise not_from_pacs()
        findings: list[ImageFindings] = []
        by_digest: dict[str, Prediction] = {}
        for prediction in predictions:
            found = await self._by_uids(uid, prediction)
            if found is None:
                by_digest[prediction.image_sha256] = prediction
            else:
                findings.append(found)
        if by_digest:
            findings.extend(await self._by_content(uid, by_digest))
        if not findings:
            raise not_from_pacs()
        previous = await self._pacs.find_results(uid, self._builder.manufacturer)
        objects = await self._builder.build(findings, previous)
        await self._pacs.store([objects.report, *objects.segmentations])
        async with self._uow as uow:
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "study.sent_to_pacs",
                    actor_id=cmd.actor.id,
                    target_type="study",
                    target_id=study.id,
                    detail=f"report={objects.report_uid}; images={len(findings)}; "
                    f"previous={len(previous)}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        return PacsSendReceipt(
            study_instance_uid=uid,
            report_uid=objects.report_uid,
            segmentations=len(objects.segmentations),
            images=len(findings),
            previous_reports=len(previous),
        )

    async def _by_uids(self, uid: str, prediction: Prediction) -> ImageFindings | None:
        """The findings of a prediction whose stored DICOM copy names its source instance in
        this study; None without a readable copy, or when the PACS no longer holds it."""
        if prediction.dicom_sha256 is None:
            return None
        try:
            copy = await self._images.get(prediction.dicom_sha256)
            image = await self._decoder.decode(copy, prediction.filename, prediction.frame_index)
            dicom = image.dicom
            if dicom is None or dicom.study_instance_uid != uid:
                return None
            if dicom.series_instance_uid is None or dicom.sop_instance_uid is None:
                return None
            source = await self._pacs.retrieve_instance(
                uid, dicom.series_instance_uid, dicom.sop_instance_uid
            )
        except (NotFound, InvalidImage):
            return None
        return self._findings(prediction, image, source)

    async def _by_content(self, uid: str, by_digest: dict[str, Prediction]) -> list[ImageFindings]:
        """The findings of predictions matched to the study's PACS images by content."""
        retrieved = await self._pacs.retrieve_study(uid)
        findings: list[ImageFindings] = []
        for instance in retrieved.instances:
            if instance.sop_class_uid not in IMAGE_SOP_CLASSES:
                continue
            try:
                image = await self._decoder.decode(
                    instance.data, f"{instance.sop_instance_uid}.dcm"
                )
            except InvalidImage:
                continue
            prediction = by_digest.pop(image.sha256, None)
            if prediction is not None:
                findings.append(self._findings(prediction, image, instance.data))
        return findings

    def _findings(
        self, prediction: Prediction, image: DecodedImage, source: bytes
    ) -> ImageFindings:
        position = prediction.position
        return ImageFindings(
            source=source,
            frame_index=image.dicom.frame_index if image.dicom else 0,
            p_malignant=prediction.p_malignant,
            threshold=prediction.threshold,
            band=prediction.likelihood.band.value,
            model_name=self._model_name,
            model_version=prediction.model_version,
            laterality=position.laterality.value
            if position
            else (image.dicom.laterality if image.dicom else None),
            clock_position=position.clock_position if position else None,
            distance_cm=position.distance_from_nipple_cm if position else None,
            birads=prediction.review.birads.value
            if prediction.review and prediction.review.birads
            else None,
            lesion=prediction.lesion,
            outline_size=image.stored_size,
        )
