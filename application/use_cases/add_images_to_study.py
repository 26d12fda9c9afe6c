"""AddImagesToStudy: analyse and store images into a study, a DICOM header filling the study."""

from __future__ import annotations

from uuid import uuid4

from application.commands import AddImagesToStudy, StoredOutcome
from application.ports import Clock, DecodedImage, DicomInfo, UnitOfWork
from application.use_cases._study_shared import study_entry, visible_study
from application.use_cases.predict_and_store import Filing, PredictAndStoreUseCase
from domain.errors import ErrorCode, InvalidImage, InvalidInput
from domain.studies import ImagePosition, Laterality, Study, check_study_uid, view_from_dicom


class AddImagesToStudyUseCase:
    """PredictAndStore into a study: each image filed with its position. Into the named
    study (a DICOM of another patient or study is refused, its tags fill what the study
    lacks), or, with none named, each DICOM into the caller's study of its
    StudyInstanceUID, opened from its tags when new. A refused file never sinks the batch."""

    def __init__(self, uow: UnitOfWork, store: PredictAndStoreUseCase, clock: Clock) -> None:
        self._uow = uow
        self._store = store
        self._clock = clock

    async def __call__(self, cmd: AddImagesToStudy) -> list[StoredOutcome]:
        if cmd.positions and len(cmd.positions) != len(cmd.uploads):
            raise InvalidInput(
                "Give one position per image, or none.",
                ErrorCode.POSITIONS_MISMATCH,
                count=len(cmd.uploads),
            )
        named = None
        if cmd.study_id is not None:
            async with self._uow as uow:
                named = await visible_study(uow, cmd.actor, cmd.study_id)
        filer = _StudyFiler(cmd, named, self._clock)
        return await self._store.store(cmd.actor, cmd.uploads, cmd.client, filer)


class _StudyFiler:
    """Where each accepted image of one AddImagesToStudy goes (studies kept across the batch)."""

    def __init__(self, cmd: AddImagesToStudy, named: Study | None, clock: Clock) -> None:
        self._cmd = cmd
        self._named = named
        self._clock = clock

    async def __call__(
        self, uow: UnitOfWork, index: int, filename: str, image: DecodedImage
    ) -> Filing:
        given = self._cmd.positions[index] if self._cmd.positions else None
        position = _position(filename, given, image.dicom)
        study = await self._study(uow, filename, image.dicom)
        await self._record(uow, "study.image_added", study, f"file={filename}")
        return Filing(study.owner_id, study.id, position)

    async def _record(self, uow: UnitOfWork, action: str, study: Study, detail: str) -> None:
        cmd = self._cmd
        await uow.audit.record(
            study_entry(self._clock, action, cmd.actor, study, cmd.client, detail=detail)
        )

    async def _study(self, uow: UnitOfWork, filename: str, dicom: DicomInfo | None) -> Study:
        if self._named is not None:
            if dicom is not None:
                self._named = await self._fill(uow, self._named, filename, dicom)
            return self._named
        if dicom is None:
            raise InvalidImage(
                f"{filename} is not a DICOM file: add it to a study first.",
                ErrorCode.IMAGE_NEEDS_STUDY,
                filename=filename,
            )
        uid = _uid(dicom)
        existing = await uow.studies.get_by_uid(self._cmd.actor.id, uid) if uid else None
        if existing is not None:
            _check_same_patient(existing, filename, dicom)
            return existing
        return await self._open(uow, filename, dicom, uid)

    async def _fill(self, uow: UnitOfWork, study: Study, filename: str, dicom: DicomInfo) -> Study:
        """Refuse a DICOM of another patient or study; its tags fill a study that has no UID."""
        _check_same_patient(study, filename, dicom)
        uid = _uid(dicom)
        if study.study_instance_uid is not None:
            if uid is not None and uid != study.study_instance_uid:
                raise _other_study(filename)
            return study
        if uid is None:
            return study
        clash = await uow.studies.get_by_uid(study.owner_id, uid)
        if clash is not None:  # that study is already on record under its own entry
            raise _other_study(filename)
        filled = study.changed(
            study_instance_uid=uid,
            study_date=dicom.study_date or study.study_date,
            accession_number=study.accession_number or _tag(dicom.accession_number),
        )
        await uow.studies.update(filled)
        await self._record(uow, "study.updated", filled, "from DICOM tags")
        return filled

    async def _open(
        self, uow: UnitOfWork, filename: str, dicom: DicomInfo, uid: str | None
    ) -> Study:
        patient = _tag(dicom.patient_id)
        if patient is None:
            raise InvalidImage(
                f"{filename} names no patient: add it to a study first.",
                ErrorCode.IMAGE_NO_PATIENT_ID,
                filename=filename,
            )
        now = self._clock.now()
        try:
            study = Study(
                id=uuid4(),
                owner_id=self._cmd.actor.id,
                patient_ref=patient,
                study_date=dicom.study_date or now.date(),
                created_at=now,
                accession_number=_tag(dicom.accession_number),
                study_instance_uid=uid,
            )
        except InvalidInput as error:  # a header outside the DICOM value limits
            raise InvalidImage(
                f"{filename}: {error.message}",
                ErrorCode.DICOM_CORRUPT,
                filename=filename,
                reason=error.message,
            ) from None
        await uow.studies.add(study)
        await self._record(uow, "study.created", study, "from DICOM tags")
        return study


def _tag(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def _uid(dicom: DicomInfo) -> str | None:
    """The header's StudyInstanceUID, None when absent or not a valid UID."""
    try:
        return check_study_uid(dicom.study_instance_uid)
    except InvalidInput:
        return None


def _other_study(filename: str) -> InvalidImage:
    return InvalidImage(
        f"{filename} belongs to another patient or study than this one.",
        ErrorCode.IMAGE_OTHER_STUDY,
        filename=filename,
    )


def _check_same_patient(study: Study, filename: str, dicom: DicomInfo) -> None:
    patient = _tag(dicom.patient_id)
    if patient is not None and patient != study.patient_ref:
        raise _other_study(filename)


def _position(
    filename: str, given: ImagePosition | None, dicom: DicomInfo | None
) -> ImagePosition | None:
    """The position given for the file, else the side (and view) its DICOM header names; a
    given side that contradicts the header is refused rather than guessed between."""
    side = dicom.laterality if dicom and dicom.laterality in ("L", "R") else None
    if given is not None:
        if side is not None and given.laterality != side:
            raise InvalidImage(
                f"{filename}: the side given differs from the side in its DICOM header.",
                ErrorCode.IMAGE_SIDE_MISMATCH,
                filename=filename,
            )
        return given
    if side is None:
        return None
    return ImagePosition(Laterality(side), view=view_from_dicom(dicom.view if dicom else None))
