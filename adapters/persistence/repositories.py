"""Repositories over SQLAlchemy Core tables; rows are mapped to domain entities explicitly.

Repositories run statements in the unit of work's session and never commit.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.errors import translate_errors
from adapters.persistence.tables import (
    audit_log,
    lesion_findings,
    outcomes,
    predictions,
    study_images,
    users,
)
from application.ports import AuditEntry, AuditQuery, CamGrid, Page, PredictionQuery
from domain.bands import BandName, Likelihood
from domain.lesions import BoundingBox, LesionFinding
from domain.outcomes import BiRads, Outcome, OutcomeSource, PathologyResult
from domain.predictions import Label, Prediction, Review, Verdict, prediction_not_found
from domain.studies import ImagePosition, Laterality, View
from domain.users import Role, User, email_taken, user_not_found

SessionSource = AsyncSession | Callable[[], AsyncSession]
LIKE_ESCAPE = "\\"

_IN_BATCH = 500  # digests per IN (...) list


class _Repository:
    def __init__(self, session: SessionSource) -> None:
        self._session_source = session

    @property
    def _session(self) -> AsyncSession:
        source = self._session_source
        return source if isinstance(source, AsyncSession) else source()


def _uuid(value: Any) -> UUID:
    # asyncpg hands back its own UUID type; the domain compares plain uuid.UUID values
    return value if type(value) is UUID else UUID(str(value))


def _optional_uuid(value: Any) -> UUID | None:
    return None if value is None else _uuid(value)


def escape_like(fragment: str) -> str:
    """Escape LIKE wildcards so user input only ever matches literally."""
    return (
        fragment.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


# --- users -----------------------------------------------------------------------------


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "password_hash": user.password_hash,
        "role": user.role.value,
        "is_active": user.is_active,
        "token_version": user.token_version,
        "display_name": user.display_name,
        "created_at": user.created_at,
    }


def _to_user(row: Row[Any]) -> User:
    return User(
        id=_uuid(row.id),
        email=row.email,
        password_hash=row.password_hash,
        role=Role(row.role),
        is_active=bool(row.is_active),
        created_at=row.created_at,
        token_version=row.token_version,
        display_name=row.display_name,
    )


class SqlAlchemyUserRepository(_Repository):
    """Users in the `users` table; a duplicate email raises Conflict."""

    async def add(self, user: User) -> None:
        with translate_errors(email_taken):
            await self._session.execute(insert(users).values(**_user_values(user)))

    async def get(self, user_id: UUID) -> User | None:
        return await self._one(select(users).where(users.c.id == user_id))

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(select(users).where(users.c.email == email))

    async def update(self, user: User) -> None:
        values = _user_values(user)
        del values["id"], values["created_at"]
        with translate_errors(email_taken):
            result = await self._session.execute(
                update(users).where(users.c.id == user.id).values(**values)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise user_not_found()

    async def list(self, offset: int, limit: int) -> Page[User]:
        statement = (
            select(users).order_by(users.c.created_at, users.c.email).offset(offset).limit(limit)
        )
        with translate_errors():
            rows = (await self._session.execute(statement)).all()
        return Page([_to_user(row) for row in rows], await self.count(), offset, limit)

    async def count(self) -> int:
        with translate_errors():
            return int(await self._session.scalar(select(func.count()).select_from(users)) or 0)

    async def _one(self, statement: Select[Any]) -> User | None:
        with translate_errors():
            row = (await self._session.execute(statement)).first()
        return None if row is None else _to_user(row)


# --- predictions -----------------------------------------------------------------------


def _cam_to_json(cam: CamGrid | None) -> str | None:
    if cam is None:
        return None
    return json.dumps([[float(v) for v in row] for row in cam], separators=(",", ":"))


def _cam_from_json(text: str | None) -> CamGrid | None:
    if text is None:
        return None
    return tuple(tuple(float(v) for v in row) for row in json.loads(text))


def _review_values(review: Review | None) -> dict[str, Any]:
    if review is None:
        return {
            "review_verdict": None,
            "review_note": None,
            "reviewer_id": None,
            "reviewed_at": None,
            "review_birads": None,
        }
    return {
        "review_verdict": review.verdict.value,
        "review_note": review.note,
        "reviewer_id": review.reviewer_id,
        "reviewed_at": review.reviewed_at,
        "review_birads": review.birads.value if review.birads else None,
    }


def _outcome_values(prediction_id: UUID, outcome: Outcome) -> dict[str, Any]:
    return {
        "prediction_id": prediction_id,
        "result": outcome.result.value,
        "source": outcome.source.value,
        "outcome_date": outcome.outcome_date,
        "histology": outcome.histology,
        "recorded_by": outcome.recorded_by,
        "recorded_at": outcome.recorded_at,
    }


def _to_outcome(row: Row[Any]) -> Outcome | None:
    if row.outcome_result is None:
        return None
    return Outcome(
        result=PathologyResult(row.outcome_result),
        source=OutcomeSource(row.outcome_source),
        outcome_date=row.outcome_outcome_date,
        recorded_by=_uuid(row.outcome_recorded_by),
        recorded_at=row.outcome_recorded_at,
        histology=row.outcome_histology,
    )


def _lesion_values(prediction_id: UUID, lesion: LesionFinding) -> dict[str, Any]:
    box = lesion.bbox
    return {
        "prediction_id": prediction_id,
        "found": lesion.found,
        "area_fraction": lesion.area_fraction,
        "area_mm2": lesion.area_mm2,
        "max_probability": lesion.max_probability,
        "bbox_x": box.x if box else None,
        "bbox_y": box.y if box else None,
        "bbox_width": box.width if box else None,
        "bbox_height": box.height if box else None,
        "outline_json": (
            json.dumps([list(point) for point in lesion.outline], separators=(",", ":"))
            if box
            else None
        ),
    }


def _to_lesion(row: Row[Any]) -> LesionFinding | None:
    if row.lesion_found is None:  # no row joined: the model had no lesion output
        return None
    box = None
    if row.lesion_bbox_x is not None:
        box = BoundingBox(
            row.lesion_bbox_x, row.lesion_bbox_y, row.lesion_bbox_width, row.lesion_bbox_height
        )
    outline = json.loads(row.lesion_outline_json) if row.lesion_outline_json else []
    return LesionFinding(
        found=bool(row.lesion_found),
        area_fraction=row.lesion_area_fraction,
        max_probability=row.lesion_max_probability,
        area_mm2=row.lesion_area_mm2,
        bbox=box,
        outline=tuple((int(x), int(y)) for x, y in outline),
    )


def _filing_values(prediction: Prediction) -> dict[str, Any]:
    return {
        "prediction_id": prediction.id,
        "study_id": prediction.study_id,
        **position_values(prediction.position),
    }


def position_values(position: ImagePosition | None) -> dict[str, Any]:
    """The `study_images` position columns; all NULL when no position is given."""
    return {
        "laterality": position.laterality.value if position else None,
        "lesion_number": position.lesion_number if position else None,
        "view": position.view.value if position else None,
        "clock_position": position.clock_position if position else None,
        "distance_cm": position.distance_from_nipple_cm if position else None,
    }


def _to_position(row: Row[Any]) -> ImagePosition | None:
    if row.study_laterality is None:
        return None
    return ImagePosition(
        laterality=Laterality(row.study_laterality),
        lesion_number=row.study_lesion_number,
        view=View(row.study_view),
        clock_position=row.study_clock_position,
        distance_from_nipple_cm=row.study_distance_cm,
    )


def _to_prediction(row: Row[Any]) -> Prediction:
    review = None
    if row.review_verdict is not None:
        review = Review(
            verdict=Verdict(row.review_verdict),
            note=row.review_note or "",
            reviewer_id=_uuid(row.reviewer_id),
            reviewed_at=row.reviewed_at,
            birads=BiRads(row.review_birads) if row.review_birads else None,
        )
    return Prediction(
        id=_uuid(row.id),
        owner_id=_uuid(row.owner_id),
        filename=row.filename,
        image_sha256=row.image_sha256,
        p_malignant=row.p_malignant,
        threshold=row.threshold,
        model_version=row.model_version,
        created_at=row.created_at,
        review=review,
        lesion=_to_lesion(row),
        stored_likelihood=Likelihood(BandName(row.band), bool(row.borderline)),
        outcome=_to_outcome(row),
        study_id=_optional_uuid(row.study_study_id),
        position=_to_position(row),
        dicom_sha256=row.dicom_sha256,
        frame_index=row.frame_index,
        frame_count=row.frame_count,
    )


# A prediction row with its lesion finding and its study filing (if any) under `lesion_*`
# and `study_*` labels; no CAM.
_PREDICTION_COLUMNS = [
    *(c for c in predictions.c if c.name != "cam_json"),
    *(c.label(f"lesion_{c.name}") for c in lesion_findings.c if c.name != "prediction_id"),
    *(c.label(f"outcome_{c.name}") for c in outcomes.c if c.name != "prediction_id"),
    *(c.label(f"study_{c.name}") for c in study_images.c if c.name != "prediction_id"),
]
_WITH_LESION = (
    predictions.outerjoin(lesion_findings, lesion_findings.c.prediction_id == predictions.c.id)
    .outerjoin(outcomes, outcomes.c.prediction_id == predictions.c.id)
    .outerjoin(study_images, study_images.c.prediction_id == predictions.c.id)
)


def _select_predictions() -> Select[Any]:
    return select(*_PREDICTION_COLUMNS).select_from(_WITH_LESION)


def prediction_filters(query: PredictionQuery) -> list[ColumnElement[bool]]:
    c = predictions.c
    conditions: list[ColumnElement[bool]] = []
    if query.owner_id is not None:
        conditions.append(c.owner_id == query.owner_id)
    if query.label is Label.MALIGNANT:
        conditions.append(c.p_malignant >= c.threshold)
    elif query.label is Label.BENIGN:
        conditions.append(c.p_malignant < c.threshold)
    if query.created_from is not None:
        conditions.append(c.created_at >= query.created_from)
    if query.created_to is not None:
        conditions.append(c.created_at < query.created_to)
    if query.reviewed is True:
        conditions.append(c.review_verdict.is_not(None))
    elif query.reviewed is False:
        conditions.append(c.review_verdict.is_(None))
    if query.filename_contains:
        pattern = f"%{escape_like(query.filename_contains)}%"
        conditions.append(c.filename.ilike(pattern, escape=LIKE_ESCAPE))
    if query.bands:
        conditions.append(c.band.in_(sorted(b.value for b in query.bands)))
    return conditions


class SqlAlchemyPredictionRepository(_Repository):
    """Predictions, their reviews and CAMs in `predictions`, lesion findings beside them."""

    async def add(self, prediction: Prediction, cam: CamGrid | None) -> None:
        values = {
            "id": prediction.id,
            "owner_id": prediction.owner_id,
            "filename": prediction.filename,
            "image_sha256": prediction.image_sha256,
            "p_malignant": prediction.p_malignant,
            "threshold": prediction.threshold,
            "model_version": prediction.model_version,
            "created_at": prediction.created_at,
            "cam_json": _cam_to_json(cam),
            "band": prediction.likelihood.band.value,
            "borderline": prediction.likelihood.borderline,
            "dicom_sha256": prediction.dicom_sha256,
            "frame_index": prediction.frame_index,
            "frame_count": prediction.frame_count,
            **_review_values(prediction.review),
        }
        with translate_errors():
            await self._session.execute(insert(predictions).values(**values))
            if prediction.lesion is not None:
                await self._session.execute(
                    insert(lesion_findings).values(
                        **_lesion_values(prediction.id, prediction.lesion)
                    )
                )
            if prediction.study_id is not None:
                await self._session.execute(
                    insert(study_images).values(**_filing_values(prediction))
                )

    async def get(self, prediction_id: UUID) -> Prediction | None:
        statement = _select_predictions().where(predictions.c.id == prediction_id)
        with translate_errors():
            row = (await self._session.execute(statement)).first()
        return None if row is None else _to_prediction(row)

    async def get_cam(self, prediction_id: UUID) -> CamGrid | None:
        statement = select(predictions.c.cam_json).where(predictions.c.id == prediction_id)
        with translate_errors():
            return _cam_from_json(await self._session.scalar(statement))

    async def update_review(self, prediction: Prediction) -> None:
        """Write the review columns only: the model's output is never changed."""
        statement = (
            update(predictions)
            .where(predictions.c.id == prediction.id)
            .values(**_review_values(prediction.review))
        )
        with translate_errors():
            result = await self._session.execute(statement)
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise prediction_not_found()

    async def update_outcome(self, prediction: Prediction) -> None:
        """Write (or, when it has none, delete) the prediction's outcome row only."""
        exists = select(predictions.c.id).where(predictions.c.id == prediction.id)
        with translate_errors():
            if await self._session.scalar(exists) is None:
                raise prediction_not_found()
            await self._session.execute(
                delete(outcomes).where(outcomes.c.prediction_id == prediction.id)
            )
            if prediction.outcome is not None:
                await self._session.execute(
                    insert(outcomes).values(**_outcome_values(prediction.id, prediction.outcome))
                )

    async def delete(self, prediction_id: UUID) -> None:
        with translate_errors():
            await self._session.execute(
                delete(outcomes).where(outcomes.c.prediction_id == prediction_id)
            )
            # the foreign key cascades too; deleting explicitly keeps it independent of PRAGMAs
            await self._session.execute(
                delete(lesion_findings).where(lesion_findings.c.prediction_id == prediction_id)
            )
            await self._session.execute(
                delete(study_images).where(study_images.c.prediction_id == prediction_id)
            )
            await self._session.execute(
                delete(predictions).where(predictions.c.id == prediction_id)
            )

    async def list(self, query: PredictionQuery) -> Page[Prediction]:
        conditions = prediction_filters(query)
        page = (
            _select_predictions()
            .where(*conditions)
            .order_by(predictions.c.created_at.desc(), predictions.c.id.desc())
            .offset(query.offset)
            .limit(query.limit)
        )
        total = select(func.count()).select_from(predictions).where(*conditions)
        with translate_errors():
            rows = (await self._session.execute(page)).all()
            count = await self._session.scalar(total)
        return Page([_to_prediction(r) for r in rows], int(count or 0), query.offset, query.limit)

    async def all_matching(self, query: PredictionQuery) -> builtins.list[Prediction]:
        """Every prediction the query's filters select, ignoring offset/limit."""
        statement = (
            _select_predictions()
            .where(*prediction_filters(query))
            .order_by(predictions.c.created_at.desc(), predictions.c.id.desc())
        )
        with translate_errors():
            rows = (await self._session.execute(statement)).all()
        return [_to_prediction(r) for r in rows]

    async def count_with_image(self, image_sha256: str) -> int:
        c = predictions.c
        statement = (
            select(func.count())
            .select_from(predictions)
            .where(or_(c.image_sha256 == image_sha256, c.dicom_sha256 == image_sha256))
        )
        with translate_errors():
            return int(await self._session.scalar(statement) or 0)

    async def images_in_use(self, digests: Sequence[str]) -> set[str]:
        """Stored images and DICOM copies alike (each column has its index)."""
        found: set[str] = set()
        for start in range(0, len(digests), _IN_BATCH):
            batch = list(digests[start : start + _IN_BATCH])
            for column in (predictions.c.image_sha256, predictions.c.dicom_sha256):
                statement = select(column).where(column.in_(batch)).distinct()
                with translate_errors():
                    found |= set((await self._session.scalars(statement)).all())
        return found


# --- audit -----------------------------------------------------------------------------


def _to_entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=_uuid(row.id),
        at=row.at,
        actor_id=_optional_uuid(row.actor_id),
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        detail=row.detail,
        client=row.client,
    )


class SqlAlchemyAuditLog(_Repository):
    """Append-only `audit_log` table (the database refuses UPDATE and DELETE on it)."""

    async def record(self, entry: AuditEntry) -> None:
        values = {
            "id": entry.id,
            "at": entry.at,
            "actor_id": entry.actor_id,
            "action": entry.action,
            "target_type": entry.target_type,
            "target_id": entry.target_id,
            "detail": entry.detail,
            "client": entry.client,
        }
        with translate_errors():
            await self._session.execute(insert(audit_log).values(**values))

    async def list(self, query: AuditQuery) -> Page[AuditEntry]:
        c = audit_log.c
        conditions: list[ColumnElement[bool]] = []
        if query.actor_id is not None:
            conditions.append(c.actor_id == query.actor_id)
        if query.action is not None:
            conditions.append(c.action == query.action)
        if query.at_from is not None:
            conditions.append(c.at >= query.at_from)
        if query.at_to is not None:
            conditions.append(c.at < query.at_to)
        page = (
            select(audit_log)
            .where(*conditions)
            .order_by(c.at.desc(), c.id.desc())
            .offset(query.offset)
            .limit(query.limit)
        )
        total = select(func.count()).select_from(audit_log).where(*conditions)
        with translate_errors():
            rows: Sequence[Row[Any]] = (await self._session.execute(page)).all()
            count = await self._session.scalar(total)
        return Page([_to_entry(r) for r in rows], int(count or 0), query.offset, query.limit)
