"""Behaviour every PredictionRepository must share (fake and SQLAlchemy on both databases)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from application.ports import CamGrid, PredictionQuery, PredictionRepository
from domain.bands import BandName, Likelihood
from domain.errors import Conflict, NotFound
from domain.lesions import BoundingBox, LesionFinding
from domain.predictions import Label, Prediction, Review, Verdict
from domain.users import User
from tests.contracts.user_repository_contract import T0, UowFactory, make_user, store_users

CAM: CamGrid = ((0.0, 0.25, 1.0), (0.125, 0.5, 0.75), (3.0e-7, 0.1, 0.2))
LESION = LesionFinding(
    found=True,
    area_fraction=0.0731201171875,
    max_probability=0.987654321,
    area_mm2=123.456789,
    bbox=BoundingBox(101, 40, 87, 120),
    outline=((140, 40), (188, 70), (180, 160), (120, 159), (101, 90)),
)
NO_LESION = LesionFinding.none_found(max_probability=0.25)


def make_prediction(
    owner: User,
    *,
    filename: str = "scan.png",
    p_malignant: float = 0.8,
    threshold: float = 0.5,
    created_at: datetime = T0,
    image_sha256: str | None = None,
    review: Review | None = None,
    prediction_id: UUID | None = None,
    lesion: LesionFinding | None = None,
) -> Prediction:
    return Prediction(
        id=prediction_id or uuid4(),
        owner_id=owner.id,
        filename=filename,
        image_sha256=image_sha256 or uuid4().hex * 2,
        p_malignant=p_malignant,
        threshold=threshold,
        model_version="breast-cnn-test-1",
        created_at=created_at,
        review=review,
        lesion=lesion,
    )


def make_review(reviewer: User, verdict: Verdict = Verdict.AGREE, note: str = "") -> Review:
    return Review(verdict, note, reviewer.id, T0 + timedelta(days=1))


async def store(
    uow_factory: UowFactory, *predictions: Prediction, cam: CamGrid | None = None
) -> None:
    async with uow_factory() as uow:
        for prediction in predictions:
            await uow.predictions.add(prediction, cam)
        await uow.commit()


async def listed(uow_factory: UowFactory, query: PredictionQuery) -> list[UUID]:
    async with uow_factory() as uow:
        page = await uow.predictions.list(query)
    assert page.total >= len(page.items)
    return [p.id for p in page.items]


class PredictionRepositoryContract:
    """Needs a fixture ``uow_factory`` giving a fresh UnitOfWork over empty storage."""

    @pytest.fixture
    async def owner(self, uow_factory: UowFactory) -> User:
        user = make_user("owner@example.org")
        await store_users(uow_factory, user)
        return user

    async def test_is_a_prediction_repository(self, uow_factory: UowFactory) -> None:
        assert isinstance(uow_factory().predictions, PredictionRepository)

    async def test_added_prediction_and_cam_read_back_equal(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(
            owner, filename="Left breast – 02.PNG", p_malignant=0.123456789
        )
        await store(uow_factory, prediction, cam=CAM)
        async with uow_factory() as uow:
            assert await uow.predictions.get(prediction.id) == prediction
            assert await uow.predictions.get_cam(prediction.id) == CAM

    async def test_prediction_without_cam_has_none(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(owner)
        await store(uow_factory, prediction, cam=None)
        async with uow_factory() as uow:
            assert await uow.predictions.get_cam(prediction.id) is None
            assert await uow.predictions.get_cam(uuid4()) is None
            assert await uow.predictions.get(uuid4()) is None

    async def test_lesion_findings_read_back_equal_everywhere(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        found = make_prediction(owner, lesion=LESION, created_at=T0 + timedelta(hours=2))
        without_mm2 = make_prediction(
            owner, lesion=replace(LESION, area_mm2=None), created_at=T0 + timedelta(hours=1)
        )
        nothing = make_prediction(owner, lesion=NO_LESION)
        no_output = make_prediction(owner, created_at=T0 - timedelta(hours=1))
        everything = [found, without_mm2, nothing, no_output]
        await store(uow_factory, *everything, cam=CAM)
        query = PredictionQuery(owner_id=owner.id)
        async with uow_factory() as uow:
            for prediction in everything:
                assert await uow.predictions.get(prediction.id) == prediction
            assert (await uow.predictions.list(query)).items == everything
            assert await uow.predictions.all_matching(query) == everything

    async def test_a_review_keeps_the_lesion_and_delete_removes_it(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(owner, lesion=LESION)
        await store(uow_factory, prediction)
        reviewed = replace(prediction, lesion=None).reviewed(make_review(owner))
        async with uow_factory() as uow:
            await uow.predictions.update_review(reviewed)
            await uow.commit()
        async with uow_factory() as uow:
            stored = await uow.predictions.get(prediction.id)
            assert stored is not None
            assert stored.lesion == LESION
            await uow.predictions.delete(prediction.id)
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.predictions.get(prediction.id) is None
        await store(uow_factory, prediction)  # the old finding is gone with its prediction
        async with uow_factory() as uow:
            again = await uow.predictions.get(prediction.id)
        assert again is not None
        assert again.lesion == LESION

    async def test_stored_review_reads_back(self, uow_factory: UowFactory, owner: User) -> None:
        prediction = make_prediction(owner, review=make_review(owner, Verdict.DISAGREE, "cyst"))
        await store(uow_factory, prediction)
        async with uow_factory() as uow:
            assert await uow.predictions.get(prediction.id) == prediction

    async def test_duplicate_id_is_a_conflict(self, uow_factory: UowFactory, owner: User) -> None:
        prediction = make_prediction(owner)
        await store(uow_factory, prediction)
        with pytest.raises(Conflict):
            await store(uow_factory, replace(prediction, filename="other.png"))
        async with uow_factory() as uow:
            assert await uow.predictions.get(prediction.id) == prediction

    async def test_update_review_records_it_and_never_touches_model_output(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(owner, p_malignant=0.9)
        await store(uow_factory, prediction, cam=CAM)
        review = make_review(owner, Verdict.DISAGREE, "Looks like a simple cyst.")
        tampered = replace(prediction, p_malignant=0.1, filename="x.png").reviewed(review)
        async with uow_factory() as uow:
            await uow.predictions.update_review(tampered)
            await uow.commit()
        async with uow_factory() as uow:
            stored = await uow.predictions.get(prediction.id)
            assert await uow.predictions.get_cam(prediction.id) == CAM
        assert stored == prediction.reviewed(review)

    async def test_update_review_can_replace_a_review(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = make_prediction(owner, review=make_review(owner, Verdict.AGREE, "first"))
        await store(uow_factory, prediction)
        second = make_review(owner, Verdict.DISAGREE, "second look")
        async with uow_factory() as uow:
            await uow.predictions.update_review(prediction.reviewed(second))
            await uow.commit()
        async with uow_factory() as uow:
            stored = await uow.predictions.get(prediction.id)
        assert stored is not None
        assert stored.review == second

    async def test_update_review_of_unknown_prediction_is_not_found(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(NotFound):
                await uow.predictions.update_review(
                    make_prediction(owner).reviewed(make_review(owner))
                )

    async def test_delete_removes_prediction_and_cam_and_ignores_unknown(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        kept, gone = make_prediction(owner), make_prediction(owner)
        await store(uow_factory, kept, gone, cam=CAM)
        async with uow_factory() as uow:
            await uow.predictions.delete(gone.id)
            await uow.predictions.delete(uuid4())
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.predictions.get(gone.id) is None
            assert await uow.predictions.get_cam(gone.id) is None
            assert await uow.predictions.get(kept.id) == kept

    async def test_count_with_image(self, uow_factory: UowFactory, owner: User) -> None:
        digest = "ab" * 32
        await store(
            uow_factory,
            make_prediction(owner, image_sha256=digest),
            make_prediction(owner, image_sha256=digest),
            make_prediction(owner, image_sha256="cd" * 32),
        )
        async with uow_factory() as uow:
            assert await uow.predictions.count_with_image(digest) == 2
            assert await uow.predictions.count_with_image("ef" * 32) == 0

    async def test_images_in_use(self, uow_factory: UowFactory, owner: User) -> None:
        await store(
            uow_factory,
            make_prediction(owner, image_sha256="ab" * 32),
            make_prediction(owner, image_sha256="ab" * 32),
            make_prediction(owner, image_sha256="cd" * 32),
        )
        asked = ["ab" * 32, "ef" * 32, *(f"{i:064x}" for i in range(600))]  # over one batch
        async with uow_factory() as uow:
            assert await uow.predictions.images_in_use(asked) == {"ab" * 32}
            assert await uow.predictions.images_in_use([]) == set()

    async def test_a_dicom_uploads_copy_and_frame_read_back(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        prediction = replace(
            make_prediction(owner, filename="cine.dcm"),
            dicom_sha256="d1" * 32,
            frame_index=2,
            frame_count=5,
        )
        still = make_prediction(owner)
        await store(uow_factory, prediction, still)
        async with uow_factory() as uow:
            assert await uow.predictions.get(prediction.id) == prediction
            page = await uow.predictions.list(PredictionQuery(owner_id=owner.id))
        assert {p.id: p for p in page.items}[prediction.id] == prediction
        assert {p.id: p for p in page.items}[still.id].dicom_sha256 is None

    async def test_a_dicom_copy_counts_as_in_use(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        copy = "d2" * 32
        await store(
            uow_factory,
            replace(make_prediction(owner), dicom_sha256=copy, frame_index=0, frame_count=1),
            make_prediction(owner, image_sha256=copy),  # the same bytes uploaded as an image
        )
        async with uow_factory() as uow:
            assert await uow.predictions.count_with_image(copy) == 2
            assert await uow.predictions.images_in_use([copy, "ef" * 32]) == {copy}

    async def test_list_is_newest_first_and_pages_with_total(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        predictions = [make_prediction(owner, created_at=T0 + timedelta(hours=i)) for i in range(7)]
        await store(uow_factory, *predictions[3:], *predictions[:3])
        newest_first = [p.id for p in reversed(predictions)]
        async with uow_factory() as uow:
            pages = [
                await uow.predictions.list(PredictionQuery(owner_id=owner.id, offset=o, limit=3))
                for o in (0, 3, 6, 9)
            ]
        assert [p.id for page in pages for p in page.items] == newest_first
        assert [len(page.items) for page in pages] == [3, 3, 1, 0]
        assert {page.total for page in pages} == {7}
        assert (pages[1].offset, pages[1].limit) == (3, 3)

    async def test_equal_timestamps_are_ordered_by_id_descending(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        same_time = [make_prediction(owner) for _ in range(6)]
        await store(uow_factory, *same_time)
        expected = sorted((p.id for p in same_time), key=str, reverse=True)
        query = PredictionQuery(owner_id=owner.id, limit=4)
        first = await listed(uow_factory, query)
        second = await listed(uow_factory, replace(query, offset=4))
        assert first + second == expected

    async def test_owner_filter_and_everyone(self, uow_factory: UowFactory, owner: User) -> None:
        other = make_user("other@example.org")
        await store_users(uow_factory, other)
        mine, theirs = make_prediction(owner), make_prediction(other)
        await store(uow_factory, mine, theirs)
        assert await listed(uow_factory, PredictionQuery(owner_id=owner.id)) == [mine.id]
        assert await listed(uow_factory, PredictionQuery(owner_id=other.id)) == [theirs.id]
        assert set(await listed(uow_factory, PredictionQuery(owner_id=None))) == {
            mine.id,
            theirs.id,
        }

    async def test_label_filter_uses_each_rows_own_threshold(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        at_threshold = make_prediction(owner, p_malignant=0.5, threshold=0.5)  # malignant
        below = make_prediction(owner, p_malignant=0.49, threshold=0.5)
        strict_model = make_prediction(owner, p_malignant=0.7, threshold=0.8)  # benign
        lenient_model = make_prediction(owner, p_malignant=0.3, threshold=0.2)  # malignant
        await store(uow_factory, at_threshold, below, strict_model, lenient_model)
        query = PredictionQuery(owner_id=owner.id)
        malignant = await listed(uow_factory, replace(query, label=Label.MALIGNANT))
        benign = await listed(uow_factory, replace(query, label=Label.BENIGN))
        assert set(malignant) == {at_threshold.id, lenient_model.id}
        assert set(benign) == {below.id, strict_model.id}

    async def test_date_range_is_from_inclusive_to_exclusive_in_any_time_zone(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        times = [T0 + timedelta(hours=i) for i in range(4)]
        predictions = [make_prediction(owner, created_at=t) for t in times]
        await store(uow_factory, *predictions)
        berlin_summer = timezone(timedelta(hours=2))
        query = PredictionQuery(
            owner_id=owner.id,
            created_from=times[1].astimezone(berlin_summer),
            created_to=times[3].astimezone(timezone(timedelta(hours=-5))),
        )
        assert await listed(uow_factory, query) == [predictions[2].id, predictions[1].id]
        only_from = await listed(uow_factory, replace(query, created_to=None))
        assert only_from == [predictions[3].id, predictions[2].id, predictions[1].id]

    async def test_reviewed_filter(self, uow_factory: UowFactory, owner: User) -> None:
        reviewed = make_prediction(owner, review=make_review(owner))
        pending = make_prediction(owner)
        await store(uow_factory, reviewed, pending)
        query = PredictionQuery(owner_id=owner.id)
        assert await listed(uow_factory, replace(query, reviewed=True)) == [reviewed.id]
        assert await listed(uow_factory, replace(query, reviewed=False)) == [pending.id]

    async def test_band_filter_takes_any_of_several_stored_bands(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        by_band = {
            band: make_prediction(owner, p_malignant=p, created_at=T0 + timedelta(minutes=i))
            for i, (band, p) in enumerate(zip(BandName, (0.01, 0.05, 0.3, 0.8, 0.99), strict=True))
        }
        # the band the model of the day stored decides, not today's cut-points
        kept = replace(
            make_prediction(owner, p_malignant=0.8, created_at=T0 - timedelta(minutes=1)),
            stored_likelihood=Likelihood(BandName.LOW, borderline=False),
        )
        await store(uow_factory, *by_band.values(), kept)
        query = PredictionQuery(owner_id=owner.id)
        high = frozenset({BandName.HIGH, BandName.VERY_HIGH})
        assert await listed(uow_factory, replace(query, bands=high)) == [
            by_band[BandName.VERY_HIGH].id,
            by_band[BandName.HIGH].id,
        ]
        low = await listed(uow_factory, replace(query, bands=frozenset({BandName.LOW})))
        assert low == [by_band[BandName.LOW].id, kept.id]
        assert len(await listed(uow_factory, query)) == 6  # no band chosen: any band

    async def test_filename_search_is_case_insensitive_and_literal(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        names = ["Case_07-LEFT.png", "case107left.png", "100%_sure.jpg", "plain.jpg", "a\\b.png"]
        predictions = {name: make_prediction(owner, filename=name) for name in names}
        await store(uow_factory, *predictions.values())

        async def search(fragment: str) -> set[str]:
            ids = await listed(
                uow_factory, PredictionQuery(owner_id=owner.id, filename_contains=fragment)
            )
            return {name for name, p in predictions.items() if p.id in ids}

        assert await search("case_07") == {"Case_07-LEFT.png"}  # "_" is not a wildcard
        assert await search("LEFT") == {"Case_07-LEFT.png", "case107left.png"}
        assert await search("0%") == {"100%_sure.jpg"}  # "%" is not a wildcard
        assert await search("%") == {"100%_sure.jpg"}
        assert await search("\\") == {"a\\b.png"}
        assert await search("missing") == set()
        assert await search("") == set(names)

    async def test_filters_combine_and_total_counts_the_filtered_set(
        self, uow_factory: UowFactory, owner: User
    ) -> None:
        hits = [
            make_prediction(owner, filename=f"hit-{i}.png", created_at=T0 + timedelta(minutes=i))
            for i in range(5)
        ]
        misses = [
            make_prediction(owner, filename="hit-benign.png", p_malignant=0.1),
            make_prediction(owner, filename="other.png"),
            make_prediction(owner, filename="hit-old.png", created_at=T0 - timedelta(days=2)),
        ]
        await store(uow_factory, *hits, *misses)
        query = PredictionQuery(
            owner_id=owner.id,
            label=Label.MALIGNANT,
            filename_contains="HIT",
            created_from=T0 - timedelta(days=1),
            limit=2,
        )
        async with uow_factory() as uow:
            page = await uow.predictions.list(query)
            everything = await uow.predictions.all_matching(replace(query, offset=1))
        assert page.total == 5
        assert [p.id for p in page.items] == [hits[4].id, hits[3].id]
        assert [p.id for p in everything] == [p.id for p in reversed(hits)]
