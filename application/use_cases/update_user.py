"""UpdateUser: change an account's role and/or active flag, in one transaction."""

from __future__ import annotations

from application.commands import UpdateUser
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import audit_entry, ensure_not_last_active_admin, require_admin
from domain.errors import ErrorCode, InvalidInput
from domain.users import User, user_not_found


class UpdateUserUseCase:
    """Administrators change roles and switch accounts off and on; either change ends the
    account's sessions; the last active administrator stays one; all or nothing is applied."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: UpdateUser) -> User:
        require_admin(cmd.actor)
        if cmd.role is None and cmd.active is None:
            raise InvalidInput("Send 'role' and/or 'is_active'.", ErrorCode.NOTHING_TO_CHANGE)
        async with self._uow as uow:
            user = await uow.users.get(cmd.user_id)
            if user is None:
                raise user_not_found()
            changed, actions = user, []
            if cmd.role is not None and cmd.role is not user.role:
                changed = changed.with_role(cmd.role)
                actions.append(("user.role_changed", f"{user.role.value} -> {cmd.role.value}"))
            if cmd.active is not None and cmd.active != user.is_active:
                changed = changed.reactivated() if cmd.active else changed.deactivated()
                actions.append(("user.reactivated" if cmd.active else "user.deactivated", ""))
            if not actions:
                return user
            if not (changed.is_admin and changed.is_active):
                await ensure_not_last_active_admin(uow, user)
            await uow.users.update(changed)
            for action, detail in actions:
                await uow.audit.record(
                    audit_entry(
                        self._clock,
                        action,
                        actor_id=cmd.actor.id,
                        target_type="user",
                        target_id=user.id,
                        detail=detail,
                        client=cmd.client,
                    )
                )
            await uow.commit()
        return changed
