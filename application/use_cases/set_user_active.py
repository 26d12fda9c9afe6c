"""SetUserActive: deactivate an account (ending its sessions) or reactivate it."""

from __future__ import annotations

from application.commands import SetUserActive
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import audit_entry, ensure_not_last_active_admin, require_admin
from domain.users import User, user_not_found


class SetUserActiveUseCase:
    """Administrators switch accounts off and on; the last active admin stays on."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: SetUserActive) -> User:
        require_admin(cmd.actor)
        async with self._uow as uow:
            user = await uow.users.get(cmd.user_id)
            if user is None:
                raise user_not_found()
            if user.is_active == cmd.active:
                return user
            if not cmd.active:
                await ensure_not_last_active_admin(uow, user)
            changed = user.reactivated() if cmd.active else user.deactivated()
            await uow.users.update(changed)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "user.reactivated" if cmd.active else "user.deactivated",
                    actor_id=cmd.actor.id,
                    target_type="user",
                    target_id=user.id,
                    client=cmd.client,
                )
            )
            await uow.commit()
        return changed
