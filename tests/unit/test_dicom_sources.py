"""DICOM uploads on fakes: the de-identified copy stored, fetched, swept and deleted with its
prediction; the frame chosen and reported."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest

from application.commands import (
    DeletePrediction,
    GetPredictionDicom,
    Predict,
    PredictAndStore,
    SweepImages,
    Upload,
)
from application.ports import DecodedImage, DicomInfo
from application.use_cases import GetPredictionDicomUseCase, SweepImagesUseCase
from domain.errors import ErrorCode, InvalidImage, NotFound
from domain.predictions import Prediction
from domain.users import Role, User
from tests.fakes import FakeImageDecoder, fake_image
from tests.unit.conftest import App

pytestmark = pytest.mark.unit

MARKER = b"FAKEDCM"


def fake_dicom(seed: str = "d", frames: int = 3) -> bytes:
    """Bytes the fake DICOM decoder reads as a `frames`-frame DICOM upload."""
    return MARKER + f" {frames}\n".encode() + fake_image(seed)


def copy_of(data: bytes) -> bytes:
    """The fake de-identified copy of `fake_dicom()` bytes: a Part 10 preamble and magic."""
    return b"\0" * 128 + b"DICM deidentified " + data[len(MARKER) :]


class FakeDicomDecoder(FakeImageDecoder):
    """The fake decoder, plus `fake_dicom()` uploads with their frames and de-identified copy."""

    async def decode(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        if not data.startswith(MARKER):
            return await super().decode(data, filename, frame)
        header, _, inner = data[len(MARKER) :].partition(b"\n")
        count, index = int(header), frame or 0
        if not 0 <= index < count:
            raise InvalidImage(
                f"{filename} has {count} frames; frame {index} does not exist.",
                ErrorCode.DICOM_FRAME_MISSING,
                filename=filename,
                frame=index,
                count=count,
            )
        image = await super().decode(inner, filename)
        info = DicomInfo(
            patient_id="MRN-1",
            accession_number=None,
            study_instance_uid="1.2.3",
            series_instance_uid="1.2.3.4",
            sop_instance_uid="1.2.3.4.5",
            sop_class_uid="1.2.840.10008.5.1.4.1.1.6.1",
            study_date=None,
            laterality=None,
            view=None,
            frame_index=index,
            frame_count=count,
            deidentified=copy_of(data),
        )
        return replace(image, dicom=info, source_format="DICOM")


@pytest.fixture
def dicom_app(app: App) -> App:
    app.decoder = FakeDicomDecoder()
    app.__post_init__()  # rewire the use cases with the DICOM-aware decoder
    return app


def get_dicom(app: App) -> GetPredictionDicomUseCase:
    return GetPredictionDicomUseCase(app.uow, app.images, app.clock)


async def store(app: App, actor: User, *uploads: Upload) -> list[Prediction]:
    outcomes = await app.predict_and_store(PredictAndStore(actor=actor, uploads=uploads))
    return [o.prediction for o in outcomes if o.prediction is not None]


async def test_a_dicom_upload_keeps_its_deidentified_copy_beside_the_image(
    dicom_app: App,
) -> None:
    owner = await dicom_app.user()
    data = fake_dicom("a")
    dicom, png = await store(
        dicom_app, owner, Upload("a.dcm", data), Upload("b.png", fake_image("b"))
    )
    copy = copy_of(data)
    assert dicom.dicom_sha256 == hashlib.sha256(copy).hexdigest()
    assert dicom_app.images.blobs[dicom.dicom_sha256] == copy
    assert (dicom.frame_index, dicom.frame_count) == (0, 3)
    assert await dicom_app.images.exists(dicom.image_sha256)
    assert (png.dicom_sha256, png.frame_index, png.frame_count) == (None, None, None)
    assert dicom_app.db.predictions[dicom.id] == dicom


async def test_the_chosen_frame_is_analysed_and_a_missing_one_refused_alone(
    dicom_app: App,
) -> None:
    owner = await dicom_app.user()
    outcomes = await dicom_app.predict_and_store(
        PredictAndStore(
            actor=owner,
            uploads=(
                Upload("cine.dcm", fake_dicom("c", frames=3), frame=2),
                Upload("short.dcm", fake_dicom("s", frames=2), frame=2),
                Upload("still.png", fake_image("p"), frame=2),
                Upload("first.png", fake_image("f"), frame=0),
            ),
        )
    )
    cine, short, still, first = outcomes
    assert cine.prediction is not None
    assert (cine.prediction.frame_index, cine.prediction.frame_count) == (2, 3)
    assert short.error is not None
    assert short.error.code is ErrorCode.DICOM_FRAME_MISSING
    assert still.error is not None
    assert still.error.code is ErrorCode.IMAGE_SINGLE_FRAME
    assert still.error.params == {"filename": "still.png", "frame": 2}
    assert first.prediction is not None
    assert first.prediction.frame_index is None
    assert len(dicom_app.db.predictions) == 2


async def test_predict_says_which_frame_it_analysed(dicom_app: App) -> None:
    owner = await dicom_app.user()
    analysis = await dicom_app.predict(
        Predict(actor=owner, upload=Upload("cine.dcm", fake_dicom(frames=4), frame=1))
    )
    assert (analysis.frame_index, analysis.frame_count) == (1, 4)
    still = await dicom_app.predict(Predict(actor=owner, upload=Upload("a.png", fake_image())))
    assert (still.frame_index, still.frame_count) == (None, None)


async def test_the_copy_goes_to_its_owner_and_admins_only_and_is_audited(
    dicom_app: App,
) -> None:
    owner = await dicom_app.user()
    other = await dicom_app.user()
    admin = await dicom_app.user(role=Role.ADMIN)
    data = fake_dicom("o")
    dicom, png = await store(dicom_app, owner, Upload("o.dcm", data), Upload("p.png", fake_image()))
    fetch = get_dicom(dicom_app)
    for actor in (owner, admin):
        assert await fetch(GetPredictionDicom(actor=actor, prediction_id=dicom.id)) == copy_of(data)
    with pytest.raises(NotFound) as hidden:
        await fetch(GetPredictionDicom(actor=other, prediction_id=dicom.id))
    assert hidden.value.code is ErrorCode.PREDICTION_NOT_FOUND
    with pytest.raises(NotFound) as no_dicom:
        await fetch(GetPredictionDicom(actor=owner, prediction_id=png.id))
    assert no_dicom.value.code is ErrorCode.DICOM_NOT_STORED
    fetched = [e for e in dicom_app.db.audit if e.action == "prediction.dicom_downloaded"]
    assert [(e.actor_id, e.target_id) for e in fetched] == [
        (owner.id, str(dicom.id)),
        (admin.id, str(dicom.id)),
    ]


async def test_the_copy_is_deleted_with_the_last_prediction_that_refers_to_it(
    dicom_app: App,
) -> None:
    owner = await dicom_app.user()
    data = fake_dicom("twice")
    first, second = await store(dicom_app, owner, Upload("1.dcm", data), Upload("2.dcm", data))
    assert first.dicom_sha256 is not None
    assert first.dicom_sha256 == second.dicom_sha256
    await dicom_app.delete(DeletePrediction(actor=owner, prediction_id=first.id))
    assert await dicom_app.images.exists(first.dicom_sha256)
    await dicom_app.delete(DeletePrediction(actor=owner, prediction_id=second.id))
    assert dicom_app.images.blobs == {}


async def test_the_sweep_keeps_copies_in_use_and_deletes_orphans(dicom_app: App) -> None:
    owner = await dicom_app.user()
    (kept,) = await store(dicom_app, owner, Upload("k.dcm", fake_dicom("k")))
    assert kept.dicom_sha256 is not None
    orphan = copy_of(fake_dicom("left by a failed commit"))
    await dicom_app.images.put(hashlib.sha256(orphan).hexdigest(), orphan)
    old = dicom_app.clock.now() - timedelta(hours=2)
    dicom_app.images.written = dict.fromkeys(dicom_app.images.written, old)
    sweep = SweepImagesUseCase(dicom_app.uow, dicom_app.images, dicom_app.clock)
    assert await sweep(SweepImages(grace_seconds=3600)) == 1
    assert set(dicom_app.images.blobs) == {kept.image_sha256, kept.dicom_sha256}
