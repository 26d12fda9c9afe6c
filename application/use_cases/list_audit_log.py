"""ListAuditLog: who did what to which record, and when; for administrators."""

from __future__ import annotations

from application.commands import ListAuditLog
from application.ports import AuditEntry, AuditQuery, Page, UnitOfWork
from application.use_cases._shared import check_page, require_admin
from domain.text import plain_text


class ListAuditLogUseCase:
    """One filtered page of the audit log, newest first; administrators only."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, cmd: ListAuditLog) -> Page[AuditEntry]:
        require_admin(cmd.actor)
        check_page(cmd.offset, cmd.limit)
        query = AuditQuery(
            actor_id=cmd.actor_id,
            action=plain_text(cmd.action, "action") if cmd.action else None,
            at_from=cmd.at_from,
            at_to=cmd.at_to,
            offset=cmd.offset,
            limit=cmd.limit,
        )
        async with self._uow as uow:
            return await uow.audit.list(query)
