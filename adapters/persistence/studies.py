"""Studies over SQLAlchemy Core: the `studies` table, and the predictions filed in each."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, insert, select, update
from sqlalchemy.engine import Row

from adapters.persistence.errors import translate_errors
from adapters.persistence.repositories import (
    LIKE_ESCAPE,
    _Repository,
    _select_predictions,
    _to_prediction,
    _uuid,
    escape_like,
    position_values,
)
from adapters.persistence.tables import predictions, studies, study_images
from application.ports import Page, StudyQuery
from domain.errors import Conflict, ErrorCode
from domain.predictions import Prediction, prediction_not_found
from domain.studies import ImagePosition, Study, StudySummary, study_not_found

_IN_BATCH = 500  # study ids per IN (...) list


def study_uid_taken() -> Conflict:
    return Conflict(
        "You already have a study with this study instance UID.", ErrorCode.STUDY_UID_TAKEN
    )


def _values(study: Study) -> dict[str, Any]:
    return {
        "id": study.id,
        "owner_id": study.owner_id,
        "patient_ref": study.patient_ref,
        "accession_number": study.accession_number,
        "study_date": study.study_date,
        "study_instance_uid": study.study_instance_uid,
        "created_at": study.created_at,
    }


def _to_study(row: Row[Any]) -> Study:
    return Study(
        id=_uuid(row.id),
        owner_id=_uuid(row.owner_id),
        patient_ref=row.patient_ref,
        study_date=row.study_date,
        created_at=row.created_at,
        accession_number=row.accession_number,
        study_instance_uid=row.study_instance_uid,
    )


def _contains(column: Any, fragment: str) -> ColumnElement[bool]:
    return column.ilike(f"%{escape_like(fragment)}%", escape=LIKE_ESCAPE)  # type: ignore[no-any-return]


def _filed(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Some prediction filed in the study meets every condition."""
    return exists(
        select(1)
        .select_from(
            study_images.join(predictions, predictions.c.id == study_images.c.prediction_id)
        )
        .where(study_images.c.study_id == studies.c.id, *conditions)
    )


def study_filters(query: StudyQuery) -> list[ColumnElement[bool]]:
    c = studies.c
    conditions: list[ColumnElement[bool]] = []
    if query.owner_id is not None:
        conditions.append(c.owner_id == query.owner_id)
    if query.patient_ref_contains:
        conditions.append(_contains(c.patient_ref, query.patient_ref_contains))
    if query.accession_contains:
        conditions.append(_contains(c.accession_number, query.accession_contains))
    if query.date_from is not None:
        conditions.append(c.study_date >= query.date_from)
    if query.date_to is not None:
        conditions.append(c.study_date <= query.date_to)
    if query.band is not None:
        conditions.append(_filed(predictions.c.band == query.band))
    if query.reviewed is True:
        conditions.append(and_(_filed(), ~_filed(predictions.c.review_verdict.is_(None))))
    elif query.reviewed is False:
        conditions.append(_filed(predictions.c.review_verdict.is_(None)))
    return conditions


class SqlAlchemyStudyRepository(_Repository):
    """Studies in `studies`; which prediction is filed where, in `study_images`."""

    async def add(self, study: Study) -> None:
        with translate_errors(study_uid_taken):
            await self._session.execute(insert(studies).values(**_values(study)))

    async def get(self, study_id: UUID) -> Study | None:
        return await self._one(select(studies).where(studies.c.id == study_id))

    async def get_many(self, study_ids: Sequence[UUID]) -> dict[UUID, Study]:
        ids = list(dict.fromkeys(study_ids))
        found: dict[UUID, Study] = {}
        for start in range(0, len(ids), _IN_BATCH):
            statement = select(studies).where(studies.c.id.in_(ids[start : start + _IN_BATCH]))
            with translate_errors():
                rows = (await self._session.execute(statement)).all()
            found |= {study.id: study for study in map(_to_study, rows)}
        return found

    async def get_by_uid(self, owner_id: UUID, study_instance_uid: str) -> Study | None:
        return await self._one(
            select(studies).where(
                studies.c.owner_id == owner_id,
                studies.c.study_instance_uid == study_instance_uid,
            )
        )

    async def update(self, study: Study) -> None:
        values = _values(study)
        del values["id"], values["owner_id"], values["created_at"]
        with translate_errors(study_uid_taken):
            result = await self._session.execute(
                update(studies).where(studies.c.id == study.id).values(**values)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise study_not_found()

    async def delete(self, study_id: UUID) -> None:
        with translate_errors():
            # the foreign key cascades too; deleting explicitly keeps it independent of PRAGMAs
            await self._session.execute(
                delete(study_images).where(study_images.c.study_id == study_id)
            )
            await self._session.execute(delete(studies).where(studies.c.id == study_id))

    async def place(self, prediction_id: UUID, position: ImagePosition | None) -> None:
        statement = (
            update(study_images)
            .where(study_images.c.prediction_id == prediction_id)
            .values(**position_values(position))
        )
        with translate_errors():
            result = await self._session.execute(statement)
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise prediction_not_found()

    async def list(self, query: StudyQuery) -> Page[StudySummary]:
        p, si = predictions.c, study_images.c
        counts = (
            select(
                si.study_id,
                func.count().label("image_count"),
                func.count(p.review_verdict).label("reviewed_count"),
                func.max(p.p_malignant).label("max_p_malignant"),
            )
            .select_from(study_images.join(predictions, p.id == si.prediction_id))
            .group_by(si.study_id)
            .subquery()
        )
        conditions = study_filters(query)
        page = (
            select(studies, counts.c.image_count, counts.c.reviewed_count, counts.c.max_p_malignant)
            .select_from(studies.outerjoin(counts, counts.c.study_id == studies.c.id))
            .where(*conditions)
            .order_by(studies.c.study_date.desc(), studies.c.created_at.desc(), studies.c.id.desc())
            .offset(query.offset)
            .limit(query.limit)
        )
        total = select(func.count()).select_from(studies).where(*conditions)
        with translate_errors():
            rows = (await self._session.execute(page)).all()
            count = await self._session.scalar(total)
        items = [
            StudySummary(
                study=_to_study(row),
                image_count=int(row.image_count or 0),
                reviewed_count=int(row.reviewed_count or 0),
                max_p_malignant=row.max_p_malignant,
            )
            for row in rows
        ]
        return Page(items, int(count or 0), query.offset, query.limit)

    async def of_patient(self, patient_ref: str, owner_id: UUID | None) -> builtins.list[Study]:
        statement = select(studies).where(studies.c.patient_ref == patient_ref)
        if owner_id is not None:
            statement = statement.where(studies.c.owner_id == owner_id)
        with translate_errors():
            rows = (await self._session.execute(statement)).all()
        return [_to_study(row) for row in rows]

    async def images(self, study_ids: Sequence[UUID]) -> dict[UUID, builtins.list[Prediction]]:
        found: dict[UUID, builtins.list[Prediction]] = {study_id: [] for study_id in study_ids}
        ids = list(found)
        for start in range(0, len(ids), _IN_BATCH):
            statement = (
                _select_predictions()
                .where(study_images.c.study_id.in_(ids[start : start + _IN_BATCH]))
                .order_by(predictions.c.created_at, predictions.c.id)
            )
            with translate_errors():
                rows = (await self._session.execute(statement)).all()
            for row in rows:
                prediction = _to_prediction(row)
                assert prediction.study_id is not None, "selected by its study"
                found[prediction.study_id].append(prediction)
        return found

    async def _one(self, statement: Select[Any]) -> Study | None:
        with translate_errors():
            row = (await self._session.execute(statement)).first()
        return None if row is None else _to_study(row)
