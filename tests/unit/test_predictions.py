"""Analysing, storing, listing, exporting, reviewing and deleting predictions on fakes."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import timedelta
from types import NoneType
from uuid import UUID, uuid4

import pytest

from application.commands import (
    DeletePrediction,
    DescribeModel,
    ExportPredictions,
    GetPrediction,
    GetPredictionImage,
    GetStatistics,
    ListPredictions,
    Predict,
    PredictAndStore,
    PredictionFilters,
    ReviewPrediction,
    SweepImages,
    Upload,
)
from application.ports import Classification, DecodedImage
from application.use_cases import PredictAndStoreUseCase, SweepImagesUseCase
from application.use_cases._shared import clean_filename
from application.use_cases.export_predictions import CSV_HEADER, csv_safe
from domain.errors import (
    ErrorCode,
    ImageTooLarge,
    InvalidImage,
    InvalidInput,
    ModelUnavailable,
    NotFound,
    UnsupportedImageFormat,
)
from domain.predictions import Label, Verdict
from domain.users import Role, User
from tests.fakes import FakeTumorClassifier, fake_image
from tests.unit.conftest import App

pytestmark = pytest.mark.unit


async def two_clinicians_and_admin(app: App) -> tuple[User, User, User]:
    return (
        await app.user("a@example.org"),
        await app.user("b@example.org"),
        await app.user("admin@example.org", role=Role.ADMIN),
    )


# --- Predict ------------------------------------------------------------------------------


async def test_predict_classifies_without_storing_anything(app: App) -> None:
    user = await app.user()
    analysis = await app.predict(
        Predict(actor=user, upload=Upload("C:\\scans\\left\x00.png", fake_image("x", level=204)))
    )
    assert analysis.filename == "left.png"
    assert analysis.assessment.p_malignant == pytest.approx(0.8)
    assert analysis.assessment.label is Label.MALIGNANT
    assert analysis.assessment.model_version == "fake-1"
    assert analysis.assessment.threshold == 0.5
    assert (analysis.width, analysis.height) == (256, 256)
    assert len(analysis.cam) == 4
    assert app.db.predictions == {}
    assert app.images.blobs == {}
    assert app.db.audit == []


async def test_predict_refuses_a_non_image(app: App) -> None:
    user = await app.user()
    with pytest.raises(InvalidImage):
        await app.predict(Predict(actor=user, upload=Upload("notes.png", b"hello")))


# --- PredictAndStore ----------------------------------------------------------------------


async def test_batch_with_one_bad_file_stores_the_others_in_one_commit(app: App) -> None:
    user = await app.user()
    commits_before = app.uow.commits
    outcomes = await app.predict_and_store(
        PredictAndStore(
            actor=user,
            uploads=(
                Upload("a.png", fake_image("a", level=230)),
                Upload("text.png", b"just text"),
                Upload("b.png", fake_image("b", level=20)),
                Upload("bomb.png", fake_image("c", width=20000, height=20000)),
            ),
        )
    )
    assert [o.filename for o in outcomes] == ["a.png", "text.png", "b.png", "bomb.png"]
    assert [o.error and o.error.kind for o in outcomes] == [
        None,
        ErrorCode.UNSUPPORTED_IMAGE_FORMAT,
        None,
        ErrorCode.IMAGE_TOO_LARGE,
    ]
    assert [type(o.error) for o in outcomes] == [
        NoneType,
        UnsupportedImageFormat,
        NoneType,
        ImageTooLarge,
    ]
    assert outcomes[1].error is not None
    assert outcomes[1].error.message
    assert outcomes[1].prediction is None
    stored = [o.prediction for o in outcomes if o.prediction]
    assert [p.label for p in stored] == [Label.MALIGNANT, Label.BENIGN]
    assert set(app.db.predictions) == {p.id for p in stored}
    assert all(p.owner_id == user.id for p in stored)
    assert {p.image_sha256 for p in stored} == set(app.images.blobs)
    assert all(app.db.cams[p.id] for p in stored)
    assert app.uow.commits == commits_before + 1
    assert app.actions() == ["prediction.created", "prediction.created"]


async def test_batch_of_only_bad_files_commits_nothing(app: App) -> None:
    user = await app.user()
    outcomes = await app.predict_and_store(
        PredictAndStore(actor=user, uploads=(Upload("x.png", b""), Upload("y.png", b"GIF89a")))
    )
    assert all(o.error for o in outcomes)
    assert app.uow.commits == 0
    assert app.db.predictions == {}


@pytest.mark.parametrize("count", [0, 33])
async def test_batch_size_is_bounded(app: App, count: int) -> None:
    user = await app.user()
    uploads = tuple(Upload(f"{i}.png", fake_image(str(i))) for i in range(count))
    with pytest.raises(InvalidInput):
        await app.predict_and_store(PredictAndStore(actor=user, uploads=uploads))


async def test_unavailable_model_stores_nothing(app: App) -> None:
    user = await app.user()
    app.classifier.available = False
    with pytest.raises(ModelUnavailable):
        await app.stored(user)
    assert app.db.predictions == {}
    assert app.db.audit == []


class HalfBrokenClassifier(FakeTumorClassifier):
    """Answers NaN for the last image of a batch, as a corrupted model might."""

    async def classify(self, images: Sequence[DecodedImage]) -> list[Classification]:
        results = await super().classify(images)
        return [*results[:-1], Classification(math.nan, results[-1].cam)]


async def test_failure_midway_rolls_back_the_whole_batch(app: App) -> None:
    user = await app.user()
    use_case = PredictAndStoreUseCase(
        app.uow, app.decoder, HalfBrokenClassifier(), app.images, app.clock
    )
    uploads = (Upload("a.png", fake_image("a")), Upload("b.png", fake_image("b")))
    with pytest.raises(ModelUnavailable):
        await use_case(PredictAndStore(actor=user, uploads=uploads))
    assert app.db.predictions == {}
    assert app.db.audit == []


async def test_unit_of_work_rolls_back_without_commit(app: App) -> None:
    user = await app.user()
    async with app.uow as uow:
        await uow.users.update(user.deactivated())
        assert not (await uow.users.get(user.id)).is_active  # type: ignore[union-attr]
    assert app.db.users[user.id].is_active
    async with app.uow as uow:
        await uow.users.update(user.deactivated())
        await uow.commit()
    assert not app.db.users[user.id].is_active


# --- ListPredictions ----------------------------------------------------------------------


async def test_clinicians_list_only_their_own_and_admins_everything(app: App) -> None:
    a, b, admin = await two_clinicians_and_admin(app)
    mine = [await app.stored(a, "a1"), await app.stored(a, "a2")]
    theirs = await app.stored(b, "b1")
    page_a = await app.list_predictions(ListPredictions(actor=a))
    assert {p.id for p in page_a.items} == {p.id for p in mine}
    assert page_a.total == 2
    page_b = await app.list_predictions(ListPredictions(actor=b))
    assert [p.id for p in page_b.items] == [theirs.id]
    page_admin = await app.list_predictions(ListPredictions(actor=admin))
    assert page_admin.total == 3


async def test_listing_is_newest_first_paginated_and_filtered(app: App) -> None:
    user = await app.user()
    first = await app.stored(user, "left-breast", level=250)
    app.clock.advance(timedelta(days=1))
    second = await app.stored(user, "right-breast", level=10)
    app.clock.advance(timedelta(days=1))
    third = await app.stored(user, "left-followup", level=200)
    await app.review(ReviewPrediction(actor=user, prediction_id=third.id, verdict=Verdict.AGREE))

    async def ids(
        filters: PredictionFilters | None = None, offset: int = 0, limit: int = 20
    ) -> list[UUID]:
        page = await app.list_predictions(
            ListPredictions(
                actor=user, filters=filters or PredictionFilters(), offset=offset, limit=limit
            )
        )
        return [p.id for p in page.items]

    assert await ids() == [third.id, second.id, first.id]
    assert await ids(offset=1, limit=1) == [second.id]
    assert await ids(PredictionFilters(label=Label.MALIGNANT)) == [third.id, first.id]
    assert await ids(PredictionFilters(reviewed=True)) == [third.id]
    assert await ids(PredictionFilters(reviewed=False)) == [second.id, first.id]
    assert await ids(PredictionFilters(filename_contains="  LEFT ")) == [third.id, first.id]
    high = PredictionFilters.parse(bands=["high", "very_high"])  # 78 % and 98 %
    assert await ids(high) == [third.id, first.id]
    assert await ids(PredictionFilters.parse(bands=["low"])) == [second.id]
    with pytest.raises(InvalidInput, match="Unknown band 'huge': use very_low, low, inter"):
        PredictionFilters.parse(bands=["high", "huge"])
    day2 = first.created_at + timedelta(days=1)
    assert await ids(PredictionFilters(created_from=day2, created_to=day2 + timedelta(days=1))) == [
        second.id
    ]


@pytest.mark.parametrize(("offset", "limit"), [(-1, 20), (0, 0), (0, 201)])
async def test_listing_refuses_bad_paging(app: App, offset: int, limit: int) -> None:
    user = await app.user()
    with pytest.raises(InvalidInput):
        await app.list_predictions(ListPredictions(actor=user, offset=offset, limit=limit))


async def test_listing_refuses_reversed_date_range(app: App) -> None:
    user = await app.user()
    now = app.clock.now()
    filters = PredictionFilters(created_from=now, created_to=now - timedelta(days=1))
    with pytest.raises(InvalidInput):
        await app.list_predictions(ListPredictions(actor=user, filters=filters))


async def test_listing_accepts_the_largest_page(app: App) -> None:
    user = await app.user()
    page = await app.list_predictions(ListPredictions(actor=user, limit=200))
    assert page.items == []


# --- ExportPredictions --------------------------------------------------------------------


async def test_export_is_owner_scoped_csv_with_header(app: App) -> None:
    a, b, admin = await two_clinicians_and_admin(app)
    prediction = await app.stored(a, "scan", level=255)
    await app.stored(b, "other")
    await app.review(
        ReviewPrediction(actor=a, prediction_id=prediction.id, verdict=Verdict.AGREE, note="ok")
    )
    rows = list(csv.reader(io.StringIO(await app.export(ExportPredictions(actor=a)))))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 2
    row = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert row["id"] == str(prediction.id)
    assert row["owner_id"] == str(a.id)
    assert row["created_at"] == prediction.created_at.isoformat()
    assert row["filename"] == "scan.png"
    assert row["label"] == "malignant"
    assert float(row["p_malignant"]) == pytest.approx(1.0)
    assert float(row["threshold"]) == pytest.approx(0.5)
    assert float(row["confidence"]) == pytest.approx(1.0)
    assert row["model_version"] == "fake-1"
    assert (row["review_verdict"], row["review_note"]) == ("agree", "ok")
    assert row["reviewed_at"]
    assert app.actions()[-1] == "prediction.exported"
    everything = await app.export(ExportPredictions(actor=admin))
    assert len(list(csv.reader(io.StringIO(everything)))) == 3


@pytest.mark.parametrize("payload", ["=cmd|' -C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)"])
async def test_export_neutralises_spreadsheet_formulas(app: App, payload: str) -> None:
    user = await app.user()
    [outcome] = await app.predict_and_store(
        PredictAndStore(actor=user, uploads=(Upload(payload + ".png", fake_image()),))
    )
    assert outcome.prediction is not None
    await app.review(
        ReviewPrediction(
            actor=user, prediction_id=outcome.prediction.id, verdict=Verdict.AGREE, note=payload
        )
    )
    rows = list(csv.reader(io.StringIO(await app.export(ExportPredictions(actor=user)))))
    row = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert row["filename"] == "'" + payload + ".png"
    assert row["review_note"] == "'" + payload
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in rows[1])


# --- GetPrediction and GetPredictionImage -------------------------------------------------


async def test_owner_and_admin_read_a_prediction_others_get_not_found(app: App) -> None:
    a, b, admin = await two_clinicians_and_admin(app)
    prediction = await app.stored(a)
    assert await app.get_prediction(GetPrediction(actor=a, prediction_id=prediction.id)) == (
        prediction
    )
    assert (await app.get_prediction(GetPrediction(actor=admin, prediction_id=prediction.id))).id
    with pytest.raises(NotFound) as hidden:
        await app.get_prediction(GetPrediction(actor=b, prediction_id=prediction.id))
    with pytest.raises(NotFound) as missing:
        await app.get_prediction(GetPrediction(actor=b, prediction_id=uuid4()))
    assert hidden.value.message == missing.value.message
    viewed = [e for e in app.db.audit if e.action == "prediction.viewed"]
    assert [e.actor_id for e in viewed] == [a.id, admin.id]


async def test_image_and_heatmap_of_a_stored_prediction(app: App) -> None:
    a, b, admin = await two_clinicians_and_admin(app)
    prediction = await app.stored(a)
    png = await app.get_image(GetPredictionImage(actor=a, prediction_id=prediction.id))
    assert png == app.images.blobs[prediction.image_sha256]
    assert png.startswith(b"\x89PNG")
    overlay = await app.get_image(
        GetPredictionImage(actor=admin, prediction_id=prediction.id, heatmap=True, opacity=0.3)
    )
    assert overlay.startswith(b"\x89PNG")
    assert overlay != png
    assert b" 4x4 0.30" in overlay
    with pytest.raises(NotFound):
        await app.get_image(GetPredictionImage(actor=b, prediction_id=prediction.id))
    with pytest.raises(InvalidInput):
        await app.get_image(
            GetPredictionImage(actor=a, prediction_id=prediction.id, heatmap=True, opacity=1.5)
        )


async def test_heatmap_without_stored_cam_is_not_found(app: App) -> None:
    user = await app.user()
    prediction = await app.stored(user)
    app.db.cams[prediction.id] = None
    with pytest.raises(NotFound):
        await app.get_image(
            GetPredictionImage(actor=user, prediction_id=prediction.id, heatmap=True)
        )


# --- ReviewPrediction ---------------------------------------------------------------------


async def test_owner_reviews_without_changing_the_model_output(app: App) -> None:
    user = await app.user()
    prediction = await app.stored(user, level=220)
    app.clock.advance(timedelta(minutes=5))
    reviewed = await app.review(
        ReviewPrediction(
            actor=user, prediction_id=prediction.id, verdict=Verdict.DISAGREE, note=" cyst "
        )
    )
    stored = app.db.predictions[prediction.id]
    assert stored == reviewed
    assert stored.review is not None
    assert (stored.review.verdict, stored.review.note) == (Verdict.DISAGREE, "cyst")
    assert stored.review.reviewer_id == user.id
    assert stored.review.reviewed_at == app.clock.now()
    assert (stored.p_malignant, stored.label) == (prediction.p_malignant, prediction.label)
    assert app.db.audit[-1].action == "prediction.reviewed"
    assert app.db.audit[-1].detail == "verdict=disagree"


async def test_another_clinician_cannot_review_but_an_admin_can(app: App) -> None:
    a, b, admin = await two_clinicians_and_admin(app)
    prediction = await app.stored(a)
    with pytest.raises(NotFound):
        await app.review(
            ReviewPrediction(actor=b, prediction_id=prediction.id, verdict=Verdict.AGREE)
        )
    assert app.db.predictions[prediction.id].review is None
    reviewed = await app.review(
        ReviewPrediction(actor=admin, prediction_id=prediction.id, verdict=Verdict.AGREE)
    )
    assert reviewed.review is not None
    assert reviewed.review.reviewer_id == admin.id


async def test_overlong_review_note_is_refused(app: App) -> None:
    user = await app.user()
    prediction = await app.stored(user)
    with pytest.raises(InvalidInput):
        await app.review(
            ReviewPrediction(
                actor=user, prediction_id=prediction.id, verdict=Verdict.AGREE, note="x" * 2001
            )
        )
    assert app.db.predictions[prediction.id].review is None


# --- DeletePrediction ---------------------------------------------------------------------


async def test_another_clinician_cannot_delete_but_owner_and_admin_can(app: App) -> None:
    a, b, admin = await two_clinicians_and_admin(app)
    first, second = await app.stored(a, "1"), await app.stored(a, "2")
    with pytest.raises(NotFound):
        await app.delete(DeletePrediction(actor=b, prediction_id=first.id))
    assert first.id in app.db.predictions
    await app.delete(DeletePrediction(actor=a, prediction_id=first.id))
    await app.delete(DeletePrediction(actor=admin, prediction_id=second.id))
    assert app.db.predictions == {}
    assert app.db.cams == {}
    assert app.images.blobs == {}
    deleted = [e for e in app.db.audit if e.action == "prediction.deleted"]
    assert [e.actor_id for e in deleted] == [a.id, admin.id]
    with pytest.raises(NotFound):
        await app.delete(DeletePrediction(actor=a, prediction_id=first.id))


async def test_image_is_deleted_only_when_no_prediction_refers_to_it(app: App) -> None:
    a, b, _ = await two_clinicians_and_admin(app)
    mine, theirs = await app.stored(a, "same"), await app.stored(b, "same")
    assert mine.image_sha256 == theirs.image_sha256
    await app.delete(DeletePrediction(actor=a, prediction_id=mine.id))
    assert await app.images.exists(theirs.image_sha256)
    png = await app.get_image(GetPredictionImage(actor=b, prediction_id=theirs.id))
    assert png.startswith(b"\x89PNG")
    await app.delete(DeletePrediction(actor=b, prediction_id=theirs.id))
    assert not await app.images.exists(theirs.image_sha256)


# --- GetStatistics and DescribeModel ------------------------------------------------------


async def test_statistics_are_owner_scoped_and_filtered(app: App) -> None:
    a, b, admin = await two_clinicians_and_admin(app)
    high = await app.stored(a, "1", level=255)
    await app.stored(a, "2", level=0)
    await app.stored(b, "3", level=255)
    await app.review(ReviewPrediction(actor=a, prediction_id=high.id, verdict=Verdict.AGREE))
    mine = await app.statistics(GetStatistics(actor=a))
    assert (mine.total, mine.malignant, mine.benign) == (2, 1, 1)
    assert mine.mean_probability == pytest.approx(0.5)
    assert mine.agreement_rate == 1.0
    everyone = await app.statistics(GetStatistics(actor=admin))
    assert everyone.total == 3
    malignant = await app.statistics(
        GetStatistics(actor=admin, filters=PredictionFilters(label=Label.MALIGNANT))
    )
    assert malignant.total == 2


async def test_describe_model_reports_version_threshold_and_metadata(app: App) -> None:
    info = await app.describe_model(DescribeModel())
    assert (info.version, info.threshold, info.positive_class) == ("fake-1", 0.5, "malignant")
    assert info.metadata["val_auc"] == "0.9"


# --- small helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\dr\\scan 01.PNG", "scan 01.PNG"),
        ("tab\there\x00.png", "tabhere.png"),
        ("", "upload"),
        ("/", "upload"),
        ("\u202egnp.exe", "gnp.exe"),  # right-to-left override is a format character
    ],
)
def test_clean_filename(raw: str, expected: str) -> None:
    assert clean_filename(raw) == expected


def test_clean_filename_bounds_length_and_keeps_the_extension() -> None:
    name = clean_filename("a" * 400 + ".jpeg")
    assert len(name) == 255
    assert name.endswith("a.jpeg")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("=1+1", "'=1+1"), ("\t=x", "'\t=x"), ("|calc", "'|calc"), ("scan.png", "scan.png")],
)
def test_csv_safe(text: str, expected: str) -> None:
    assert csv_safe(text) == expected


# --- the image sweep (issue 9) ------------------------------------------------------------


async def test_sweep_deletes_only_old_unreferenced_images(app: App) -> None:
    owner = await app.user()
    kept = await app.stored(owner)
    orphan_old, orphan_new = "aa" * 32, "bb" * 32
    app.images.blobs |= {orphan_old: b"left by a failed commit", orphan_new: b"being stored"}
    now = app.clock.now()
    app.images.written |= {
        kept.image_sha256: now - timedelta(hours=2),
        orphan_old: now - timedelta(hours=2),
        orphan_new: now - timedelta(minutes=5),
    }
    sweep = SweepImagesUseCase(app.uow, app.images, app.clock)
    assert await sweep(SweepImages(grace_seconds=3600)) == 1
    assert set(app.images.blobs) == {kept.image_sha256, orphan_new}
    assert await sweep(SweepImages(grace_seconds=0)) == 1
    assert set(app.images.blobs) == {kept.image_sha256}
