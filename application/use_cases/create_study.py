"""CreateStudy: open a study (one patient visit) for the caller."""

from __future__ import annotations

from uuid import uuid4

from application.commands import CreateStudy
from application.ports import Clock, UnitOfWork
from application.use_cases._study_shared import study_entry
from domain.studies import Study


class CreateStudyUseCase:
    """A new study owned by the caller, dated today unless a date is given. Audited."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: CreateStudy) -> Study:
        now = self._clock.now()
        study = Study(
            id=uuid4(),
            owner_id=cmd.actor.id,
            patient_ref=cmd.patient_ref,
            study_date=cmd.study_date or now.date(),
            created_at=now,
            accession_number=cmd.accession_number,
            study_instance_uid=cmd.study_instance_uid,
        )
        async with self._uow as uow:
            await uow.studies.add(study)
            await uow.audit.record(
                study_entry(self._clock, "study.created", cmd.actor, study, cmd.client)
            )
            await uow.commit()
        return study
