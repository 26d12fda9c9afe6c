"""GetStudy: a study as a reader opens it, with the same patient's earlier studies (priors)."""

from __future__ import annotations

from application.commands import GetStudy
from application.ports import Clock, UnitOfWork
from application.use_cases._study_shared import study_entry, visible_study
from domain.studies import StudyDetail, StudyRecord


class GetStudyUseCase:
    """The study's images and lesion assessments, and its priors with theirs: the earlier
    studies of the same patient reference that the caller may see. Audited."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: GetStudy) -> StudyDetail:
        async with self._uow as uow:
            study = await visible_study(uow, cmd.actor, cmd.study_id)
            scope = None if cmd.actor.is_admin else cmd.actor.id
            priors = sorted(
                (
                    s
                    for s in await uow.studies.of_patient(study.patient_ref, scope)
                    if s.is_before(study)
                ),
                key=lambda s: (s.study_date, s.created_at),
                reverse=True,
            )
            images = await uow.studies.images([study.id, *(s.id for s in priors)])
            await uow.audit.record(
                study_entry(
                    self._clock,
                    "study.viewed",
                    cmd.actor,
                    study,
                    cmd.client,
                    detail=f"priors={len(priors)}",
                )
            )
            await uow.commit()
        return StudyDetail(
            current=StudyRecord(study, tuple(images[study.id])),
            priors=tuple(StudyRecord(s, tuple(images[s.id])) for s in priors),
        )
