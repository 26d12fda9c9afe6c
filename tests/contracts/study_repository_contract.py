"""Behaviour every StudyRepository must share (fake and SQLAlchemy on both databases)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from application.ports import StudyQuery, StudyRepository
from domain.errors import Conflict, NotFound
from domain.predictions import Prediction
from domain.studies import ImagePosition, Laterality, Study, View
from domain.users import User
from tests.contracts.prediction_repository_contract import make_prediction, make_review, store
from tests.contracts.user_repository_contract import T0, UowFactory, make_user, store_users

UID = "1.2.826.0.1.3680043.8.498.12345"
POSITION = ImagePosition(
    Laterality.LEFT, lesion_number=2, view=View.ANTIRADIAL, clock_position=10.5,
    distance_from_nipple_cm=3.25,
)  # fmt: skip


def make_study(
    owner: User,
    *,
    patient_ref: str = "MRN-0042",
    study_date: date = date(2026, 2, 27),
    accession_number: str | None = "ACC-1",
    study_instance_uid: str | None = None,
    created_at_offset: timedelta = timedelta(0),
) -> Study:
    return Study(
        id=uuid4(),
        owner_id=owner.id,
        patient_ref=patient_ref,
        study_date=study_date,
        created_at=T0 + created_at_offset,
        accession_number=accession_number,
        study_instance_uid=study_instance_uid,
    )


async def store_studies(uow_factory: UowFactory, *studies: Study) -> None:
    async with uow_factory() as uow:
        for study in studies:
            await uow.studies.add(study)
        await uow.commit()


def filed(
    owner: User, study: Study, position: ImagePosition | None = POSITION, **fields: object
) -> Prediction:
    prediction = make_prediction(owner, **fields)  # type: ignore[arg-type]
    return replace(prediction, study_id=study.id, position=position)


async def listed(uow_factory: UowFactory, query: StudyQuery) -> list[UUID]:
    async with uow_factory() as uow:
        page = await uow.studies.list(query)
    assert page.total >= len(page.items)
    return [s.study.id for s in page.items]


class StudyRepositoryContract:
    """Needs a fixture ``uow_factory`` giving a fresh UnitOfWork over empty storage."""

    @pytest.fixture
    async def owner(self, uow_factory: UowFactory) -> User:
        user = make_user("study-owner@example.org")
        await store_users(uow_factory, user)
        return user

    async def test_is_a_study_repository(self, uow_factory: UowFactory) -> None:
        assert isinstance(uow_factory().studies, StudyRepository)

    async def test_added_study_reads_back_equal_by_id_and_uid(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        study = make_study(owner, patient_ref="  Ünïcode MRN/7 ", study_instance_uid=UID)
        await store_studies(uow_factory, study)
        async with uow_factory() as uow:
            assert await uow.studies.get(study.id) == study
            assert await uow.studies.get_by_uid(owner.id, UID) == study
            assert await uow.studies.get_by_uid(uuid4(), UID) is None
            assert await uow.studies.get(uuid4()) is None
            assert await uow.studies.get_many([study.id, uuid4(), study.id]) == {study.id: study}
            assert await uow.studies.get_many([]) == {}
        assert study.patient_ref == "Ünïcode MRN/7"

    async def test_a_uid_is_unique_per_owner_only(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        other = make_user()
        await store_users(uow_factory, other)
        await store_studies(
            uow_factory,
            make_study(owner, study_instance_uid=UID),
            make_study(other, study_instance_uid=UID),
            make_study(owner),  # no UID: any number of them
            make_study(owner),
        )
        with pytest.raises(Conflict):
            await store_studies(uow_factory, make_study(owner, study_instance_uid=UID))

    async def test_update_changes_the_fields_and_refuses_the_unknown(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        study = make_study(owner)
        await store_studies(uow_factory, study)
        changed = study.changed(
            patient_ref="MRN-9", accession_number="", study_date=date(2026, 1, 2),
            study_instance_uid=UID,
        )  # fmt: skip
        async with uow_factory() as uow:
            await uow.studies.update(changed)
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.studies.get(study.id) == changed
            with pytest.raises(NotFound):
                await uow.studies.update(make_study(owner))

    async def test_filed_predictions_read_back_with_study_and_position(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        study, empty = make_study(owner), make_study(owner)
        await store_studies(uow_factory, study, empty)
        later = filed(owner, study, created_at=T0 + timedelta(minutes=5))
        earlier = filed(owner, study, position=None)
        right = filed(
            owner, study, position=ImagePosition(Laterality.RIGHT), created_at=T0 + timedelta(1)
        )
        loose = make_prediction(owner)
        await store(uow_factory, later, earlier, right, loose)
        async with uow_factory() as uow:
            assert await uow.predictions.get(later.id) == later
            assert await uow.predictions.get(loose.id) == loose
            images = await uow.studies.images([study.id, empty.id])
        assert images == {study.id: [earlier, later, right], empty.id: []}

    async def test_a_prediction_cannot_name_an_unknown_study(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        with pytest.raises(Conflict):
            await store(uow_factory, filed(owner, make_study(owner)))

    async def test_deleting_a_prediction_unfiles_it(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        study = make_study(owner)
        await store_studies(uow_factory, study)
        prediction = filed(owner, study)
        await store(uow_factory, prediction)
        async with uow_factory() as uow:
            await uow.predictions.delete(prediction.id)
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.studies.images([study.id]) == {study.id: []}

    async def test_deleting_a_study_leaves_its_remaining_predictions_loose(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        study, other = make_study(owner), make_study(owner)
        await store_studies(uow_factory, study, other)
        kept, elsewhere = filed(owner, study), filed(owner, other)
        await store(uow_factory, kept, elsewhere)
        async with uow_factory() as uow:
            await uow.studies.delete(study.id)
            await uow.studies.delete(uuid4())  # nothing to delete: no error
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.studies.get(study.id) is None
            assert await uow.predictions.get(kept.id) == replace(kept, study_id=None, position=None)
            assert await uow.predictions.get(elsewhere.id) == elsewhere

    async def test_place_sets_or_clears_the_position_of_a_filed_image_only(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        study = make_study(owner)
        await store_studies(uow_factory, study)
        image, loose = filed(owner, study, position=None), make_prediction(owner)
        await store(uow_factory, image, loose)
        async with uow_factory() as uow:
            await uow.studies.place(image.id, POSITION)
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.predictions.get(image.id) == replace(image, position=POSITION)
            await uow.studies.place(image.id, None)
            assert await uow.predictions.get(image.id) == image
            for unfiled in (loose.id, uuid4()):
                with pytest.raises(NotFound):
                    await uow.studies.place(unfiled, POSITION)

    async def test_of_patient_matches_the_reference_exactly_and_scopes_by_owner(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        other = make_user()
        await store_users(uow_factory, other)
        mine = make_study(owner, patient_ref="MRN-1")
        theirs = make_study(other, patient_ref="MRN-1")
        await store_studies(uow_factory, mine, theirs, make_study(owner, patient_ref="MRN-10"))
        async with uow_factory() as uow:
            assert await uow.studies.of_patient("MRN-1", owner.id) == [mine]
            assert {s.id for s in await uow.studies.of_patient("MRN-1", None)} == {
                mine.id,
                theirs.id,
            }
            assert await uow.studies.of_patient("mrn-1", owner.id) == []

    async def test_list_is_newest_visit_first_with_counts_and_pages(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        old = make_study(owner, study_date=date(2025, 5, 1))
        new = make_study(owner, study_date=date(2026, 2, 1))
        same_day_later = make_study(
            owner, study_date=date(2026, 2, 1), created_at_offset=timedelta(hours=1)
        )
        await store_studies(uow_factory, old, new, same_day_later)
        await store(
            uow_factory,
            filed(owner, new, p_malignant=0.25),
            filed(owner, new, p_malignant=0.75, review=make_review(owner)),
        )
        async with uow_factory() as uow:
            page = await uow.studies.list(StudyQuery(owner_id=owner.id, limit=2))
            rest = await uow.studies.list(StudyQuery(owner_id=owner.id, offset=2, limit=2))
        assert [s.study.id for s in page.items] == [same_day_later.id, new.id]
        assert [s.study.id for s in rest.items] == [old.id]
        assert page.total == rest.total == 3
        summary = page.items[1]
        assert (summary.image_count, summary.reviewed_count) == (2, 1)
        assert summary.max_p_malignant == pytest.approx(0.75)
        assert page.items[0].image_count == 0
        assert page.items[0].max_p_malignant is None

    async def test_list_filters(self, uow_factory: UowFactory, owner: User) -> None:
        other = make_user()
        await store_users(uow_factory, other)
        a = make_study(owner, patient_ref="MRN-100_%", accession_number="ACC-77",
                       study_date=date(2026, 1, 10))  # fmt: skip
        b = make_study(owner, patient_ref="mrn-200", accession_number=None,
                       study_date=date(2026, 1, 20))  # fmt: skip
        c = make_study(other, patient_ref="MRN-100", study_date=date(2026, 1, 15))
        await store_studies(uow_factory, a, b, c)
        top = filed(owner, a, p_malignant=0.99, review=make_review(owner))
        bottom = filed(owner, b, p_malignant=0.01)
        assert top.likelihood.band != bottom.likelihood.band
        await store(uow_factory, top, bottom)
        everyone = StudyQuery(owner_id=None)
        assert await listed(uow_factory, StudyQuery(owner_id=owner.id)) == [b.id, a.id]
        assert await listed(uow_factory, everyone) == [b.id, c.id, a.id]
        assert await listed(uow_factory, replace(everyone, patient_ref_contains="mrn-1")) == [
            c.id,
            a.id,
        ]
        assert await listed(uow_factory, replace(everyone, patient_ref_contains="_%")) == [a.id]
        assert await listed(uow_factory, replace(everyone, accession_contains="c-7")) == [a.id]
        assert await listed(
            uow_factory,
            replace(everyone, date_from=date(2026, 1, 15), date_to=date(2026, 1, 20)),
        ) == [b.id, c.id]
        band = top.likelihood.band.value
        assert await listed(uow_factory, replace(everyone, band=band)) == [a.id]
        assert await listed(uow_factory, replace(everyone, reviewed=True)) == [a.id]
        assert await listed(uow_factory, replace(everyone, reviewed=False)) == [b.id]
