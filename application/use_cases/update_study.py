"""UpdateStudy: correct a study's patient reference, accession, date or study UID."""

from __future__ import annotations

from application.commands import UpdateStudy
from application.ports import Clock, UnitOfWork
from application.use_cases._study_shared import study_entry, visible_study
from domain.errors import ErrorCode, InvalidInput
from domain.studies import Study

_FIELDS = ("patient_ref", "study_date", "accession_number", "study_instance_uid")


class UpdateStudyUseCase:
    """Change the given fields of a study the caller may see; the audit names the fields."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: UpdateStudy) -> Study:
        async with self._uow as uow:
            study = await visible_study(uow, cmd.actor, cmd.study_id)
            changed = study.changed(
                patient_ref=cmd.patient_ref,
                study_date=cmd.study_date,
                accession_number=cmd.accession_number,
                study_instance_uid=cmd.study_instance_uid,
            )
            fields = [f for f in _FIELDS if getattr(changed, f) != getattr(study, f)]
            if not fields:
                raise InvalidInput("Nothing to change.", ErrorCode.NOTHING_TO_CHANGE)
            await uow.studies.update(changed)
            await uow.audit.record(
                study_entry(
                    self._clock,
                    "study.updated",
                    cmd.actor,
                    changed,
                    cmd.client,
                    detail="fields=" + ",".join(fields),
                )
            )
            await uow.commit()
        return changed
