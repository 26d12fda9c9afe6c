"""What the study use cases share: loading a study the caller may see, and its audit entry."""

from __future__ import annotations

from uuid import UUID

from application.ports import AuditEntry, Clock, UnitOfWork
from application.use_cases._shared import audit_entry
from domain.errors import Forbidden
from domain.studies import Study, study_not_found
from domain.users import User


async def visible_study(uow: UnitOfWork, actor: User, study_id: UUID) -> Study:
    """Load a study the actor may see; someone else's reads as absent, not forbidden."""
    study = await uow.studies.get(study_id)
    if study is None:
        raise study_not_found()
    try:
        study.ensure_visible_to(actor)
    except Forbidden:
        raise study_not_found() from None
    return study


def study_entry(
    clock: Clock, action: str, actor: User, study: Study, client: str | None, detail: str = ""
) -> AuditEntry:
    """The audit entry of a read or change of `study` (never its patient reference)."""
    return audit_entry(
        clock,
        action,
        actor_id=actor.id,
        target_type="study",
        target_id=study.id,
        detail=detail,
        client=client,
    )
