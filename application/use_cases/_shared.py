"""Small rules several use cases share: audit entries, admin checks, scoping, paging."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from uuid import UUID, uuid4

from application.commands import PredictionFilters
from application.ports import (
    AuditEntry,
    Clock,
    ModelInfo,
    PasswordStrength,
    PredictionQuery,
    UnitOfWork,
)
from domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, ModelUnavailable
from domain.predictions import Assessment, Prediction, prediction_not_found
from domain.users import PASSWORD_MIN_SCORE, User, check_password_policy

MAX_FILENAME_LENGTH = 255
MAX_SEARCH_LENGTH = 100


def audit_entry(
    clock: Clock,
    action: str,
    *,
    actor_id: UUID | None,
    target_type: str | None = None,
    target_id: UUID | str | None = None,
    detail: str = "",
    client: str | None = None,
) -> AuditEntry:
    """Build an audit entry stamped now; details must never hold secrets or image bytes."""
    return AuditEntry(
        id=uuid4(),
        at=clock.now(),
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=detail,
        client=client,
    )


def own_account_entry(clock: Clock, action: str, user: User, client: str | None) -> AuditEntry:
    """The audit entry of something a user did to their own account (sign-in, password)."""
    return audit_entry(
        clock, action, actor_id=user.id, target_type="user", target_id=user.id, client=client
    )


def check_new_password(
    password: str,
    email: str,
    common_passwords: frozenset[str],
    strength: PasswordStrength,
    hints: Sequence[str] = (),
) -> None:
    """The one policy for a new password: length, not common, not the email, and hard enough
    to guess by the strength meter (which knows the email and name as give-aways)."""
    check_password_policy(password, common_passwords)
    if password.strip().lower() == email:
        raise InvalidInput(
            "The password must not be the email address.", ErrorCode.PASSWORD_IS_EMAIL
        )
    if strength.score(password, (email, email.partition("@")[0], *hints)) < PASSWORD_MIN_SCORE:
        raise InvalidInput(
            "This password is too easy to guess; use a longer phrase of unrelated words.",
            ErrorCode.PASSWORD_TOO_WEAK,
        )


def require_admin(actor: User) -> None:
    """Refuse callers that are not active administrators."""
    if not (actor.is_admin and actor.is_active):
        raise Forbidden("Only administrators may do this.", ErrorCode.ADMIN_ONLY)


def check_page(offset: int, limit: int, max_limit: int = 200) -> None:
    """Refuse negative offsets and page sizes outside 1..max_limit."""
    if offset < 0:
        raise InvalidInput(
            "Offset must not be negative.", ErrorCode.PAGE_INVALID, max_limit=max_limit
        )
    if not 1 <= limit <= max_limit:
        raise InvalidInput(
            f"Limit must lie between 1 and {max_limit}.",
            ErrorCode.PAGE_INVALID,
            max_limit=max_limit,
        )


def scoped_query(
    actor: User, filters: PredictionFilters, offset: int = 0, limit: int = 20
) -> PredictionQuery:
    """Clinicians see their own predictions only; administrators see everyone's."""
    if filters.created_from and filters.created_to and filters.created_from >= filters.created_to:
        raise InvalidInput(
            "The start of the date range must lie before its end.", ErrorCode.DATE_RANGE_REVERSED
        )
    search = check_search(filters.filename_contains)
    return PredictionQuery(
        owner_id=None if actor.is_admin else actor.id,
        offset=offset,
        limit=limit,
        label=filters.label,
        created_from=filters.created_from,
        created_to=filters.created_to,
        reviewed=filters.reviewed,
        filename_contains=search,
        bands=filters.bands,
    )


def check_search(text: str | None) -> str | None:
    """Search text stripped, at most MAX_SEARCH_LENGTH characters; None when empty."""
    search = (text or "").strip()
    if len(search) > MAX_SEARCH_LENGTH:
        raise InvalidInput(
            f"Search text must be at most {MAX_SEARCH_LENGTH} characters.",
            ErrorCode.SEARCH_TOO_LONG,
            count=MAX_SEARCH_LENGTH,
        )
    return search or None


async def visible_prediction(uow: UnitOfWork, actor: User, prediction_id: UUID) -> Prediction:
    """Load a prediction the actor may see; someone else's reads as absent, not forbidden."""
    prediction = await uow.predictions.get(prediction_id)
    if prediction is None:
        raise prediction_not_found()
    try:
        prediction.ensure_visible_to(actor)
    except Forbidden:
        raise prediction_not_found() from None
    return prediction


def clean_filename(raw: str) -> str:
    """Keep the last path component, drop control characters, bound the length."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        name = (
            stem[: MAX_FILENAME_LENGTH - len(ext) - 1] + dot + ext
            if dot and len(ext) <= 10
            else name[:MAX_FILENAME_LENGTH]
        )
    return name or "upload"


async def ensure_not_last_active_admin(uow: UnitOfWork, user: User) -> None:
    """Refuse to demote or deactivate the only active administrator (nobody could undo it)."""
    if not (user.is_admin and user.is_active):
        return
    offset, page_size = 0, 200
    while True:
        page = await uow.users.list(offset, page_size)
        if any(u.is_admin and u.is_active and u.id != user.id for u in page.items):
            return
        offset += page_size
        if not page.items or offset >= page.total:
            break
    raise Conflict(
        "This is the last active administrator; appoint another one first.", ErrorCode.LAST_ADMIN
    )


def assess(p_malignant: float, model: ModelInfo) -> Assessment:
    """The model's output at its operating point; a non-finite probability is a model fault."""
    if not math.isfinite(p_malignant):
        raise ModelUnavailable("The model returned an invalid probability.")
    return Assessment(
        min(max(p_malignant, 0.0), 1.0),
        model.threshold,
        model.version,
        model.bands,
        model.borderline_margin,
    )
