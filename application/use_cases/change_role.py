"""ChangeRole: make an account clinician or administrator."""

from __future__ import annotations

from application.commands import ChangeRole
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import audit_entry, ensure_not_last_active_admin, require_admin
from domain.users import Role, User, user_not_found


class ChangeRoleUseCase:
    """Administrators change roles; the change ends the account's sessions; one admin remains."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: ChangeRole) -> User:
        require_admin(cmd.actor)
        async with self._uow as uow:
            user = await uow.users.get(cmd.user_id)
            if user is None:
                raise user_not_found()
            if user.role is cmd.role:
                return user
            if cmd.role is not Role.ADMIN:
                await ensure_not_last_active_admin(uow, user)
            changed = user.with_role(cmd.role)
            await uow.users.update(changed)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "user.role_changed",
                    actor_id=cmd.actor.id,
                    target_type="user",
                    target_id=user.id,
                    detail=f"{user.role.value} -> {changed.role.value}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        return changed
