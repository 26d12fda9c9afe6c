"""Lesion findings: the value object's rules, and how the use cases carry, store, draw and
export them (on fakes; the fake model outlines the middle of bright images)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from application.commands import (
    DescribeModel,
    ExportPredictions,
    GetLesionOverlay,
    GetPrediction,
    Predict,
    PredictAndStore,
    Upload,
)
from application.use_cases import (
    DescribeModelUseCase,
    GetLesionOverlayUseCase,
    PredictAndStoreUseCase,
    PredictUseCase,
)
from application.use_cases.export_predictions import CSV_HEADER
from domain.errors import InvalidInput, NotFound
from domain.lesions import MAX_OUTLINE_POINTS, BoundingBox, LesionFinding
from domain.users import Role
from tests.fakes import FakeTumorClassifier, fake_image
from tests.unit.conftest import App

pytestmark = pytest.mark.unit

BOX = BoundingBox(10, 20, 30, 40)
OUTLINE = ((10, 20), (40, 20), (40, 60))


# --- the value object ----------------------------------------------------------------------


def test_a_found_lesion_needs_box_and_outline() -> None:
    LesionFinding(True, 0.1, 0.9, 12.5, BOX, OUTLINE)  # valid
    with pytest.raises(InvalidInput):
        LesionFinding(True, 0.1, 0.9, None, None, OUTLINE)
    with pytest.raises(InvalidInput):
        LesionFinding(True, 0.1, 0.9, None, BOX, OUTLINE[:2])
    many = tuple((i, i) for i in range(MAX_OUTLINE_POINTS + 1))
    with pytest.raises(InvalidInput):
        LesionFinding(True, 0.1, 0.9, None, BOX, many)


def test_no_lesion_has_no_area_box_or_outline() -> None:
    assert LesionFinding.none_found(0.3) == LesionFinding(False, 0.0, 0.3)
    with pytest.raises(InvalidInput):
        LesionFinding(False, 0.1, 0.3)
    with pytest.raises(InvalidInput):
        LesionFinding(False, 0.0, 0.3, bbox=BOX)


@pytest.mark.parametrize(
    "kwargs",
    [{"area_fraction": 1.5}, {"max_probability": -0.1}, {"area_mm2": -1.0}, {"area_mm2": 1e999}],
)
def test_values_out_of_range_are_refused(kwargs: dict[str, float]) -> None:
    base = LesionFinding(True, 0.1, 0.9, 12.5, BOX, OUTLINE)
    with pytest.raises(InvalidInput):
        replace(base, **kwargs)


@pytest.mark.parametrize("box", [(-1, 0, 5, 5), (0, 0, 0, 5), (0, 0, 5, 0)])
def test_a_box_needs_an_origin_in_the_image_and_a_size(box: tuple[int, int, int, int]) -> None:
    with pytest.raises(InvalidInput):
        BoundingBox(*box)


# --- through the use cases -----------------------------------------------------------------


async def test_predict_returns_the_finding_in_stored_image_pixels(app: App) -> None:
    user = await app.user()
    upload = Upload("wide.png", fake_image("w", level=255, width=400, height=200))
    analysis = await app.predict(Predict(actor=user, upload=upload))
    lesion = analysis.lesion
    assert lesion is not None
    assert lesion.found
    assert lesion.area_fraction == 1 / 16
    assert lesion.bbox == BoundingBox(175, 75, 50, 50)  # the middle of the 200-px centre square


async def test_stored_prediction_keeps_the_finding_or_the_lack_of_one(app: App) -> None:
    user = await app.user()
    bright, dark = await app.stored(user, "bright", level=255), await app.stored(user, "d", 0)
    assert bright.lesion is not None
    assert bright.lesion.found
    assert dark.lesion == LesionFinding.none_found(0.0)
    read = await app.get_prediction(GetPrediction(actor=user, prediction_id=bright.id))
    assert read.lesion == bright.lesion


async def test_a_model_without_lesion_output_stores_no_finding(app: App) -> None:
    user = await app.user()
    classifier = FakeTumorClassifier(lesion=False)
    store = PredictAndStoreUseCase(app.uow, app.decoder, classifier, app.images, app.clock)
    [outcome] = await store(PredictAndStore(actor=user, uploads=(Upload("a.png", fake_image()),)))
    assert outcome.prediction is not None
    assert outcome.prediction.lesion is None
    analysis = await PredictUseCase(app.decoder, classifier)(
        Predict(actor=user, upload=Upload("a.png", fake_image(level=255)))
    )
    assert analysis.lesion is None
    info = await DescribeModelUseCase(classifier)(DescribeModel())
    assert (info.has_lesion_output, info.lesion_threshold) == (False, None)


async def test_lesion_overlay_follows_the_image_ownership_rules(app: App) -> None:
    owner = await app.user()
    other = await app.user()
    admin = await app.user(role=Role.ADMIN)
    prediction = await app.stored(owner, level=255)
    assert prediction.lesion is not None
    assert prediction.lesion.bbox is not None
    for reader in (owner, admin):
        overlay = await app.get_lesion(GetLesionOverlay(actor=reader, prediction_id=prediction.id))
        assert overlay.startswith(b"\x89PNG")
        assert app.images.blobs[prediction.image_sha256] != overlay
        box = prediction.lesion.bbox
        assert f"{box.x},{box.y} {box.width}x{box.height}".encode() in overlay
    with pytest.raises(NotFound):
        await app.get_lesion(GetLesionOverlay(actor=other, prediction_id=prediction.id))


async def test_lesion_overlay_is_not_found_without_a_lesion(app: App) -> None:
    user = await app.user()
    dark = await app.stored(user, "dark", level=0)
    with pytest.raises(NotFound, match="lesion"):
        await app.get_lesion(GetLesionOverlay(actor=user, prediction_id=dark.id))
    classifier = FakeTumorClassifier(lesion=False)
    store = PredictAndStoreUseCase(app.uow, app.decoder, classifier, app.images, app.clock)
    [outcome] = await store(
        PredictAndStore(actor=user, uploads=(Upload("b.png", fake_image("b", 255)),))
    )
    assert outcome.prediction is not None
    overlay = GetLesionOverlayUseCase(app.uow, app.images, app.lesion_renderer)
    with pytest.raises(NotFound, match="lesion"):
        await overlay(GetLesionOverlay(actor=user, prediction_id=outcome.prediction.id))


async def test_export_has_the_lesion_columns(app: App) -> None:
    user = await app.user()
    bright = await app.stored(user, "bright", level=255)
    app.clock.advance(minutes=1)
    await app.stored(user, "dark", level=0)
    classifier = FakeTumorClassifier(lesion=False)
    app.clock.advance(minutes=1)
    store = PredictAndStoreUseCase(app.uow, app.decoder, classifier, app.images, app.clock)
    await store(PredictAndStore(actor=user, uploads=(Upload("old.png", fake_image("o")),)))
    rows = list(csv.reader(io.StringIO(await app.export(ExportPredictions(actor=user)))))
    assert tuple(rows[0]) == CSV_HEADER
    old, dark, found = (dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:])
    lesion_columns = [name for name in CSV_HEADER if name.startswith("lesion_")]
    assert [old[name] for name in lesion_columns] == [""] * 7
    assert (dark["lesion_found"], dark["lesion_area_fraction"]) == ("false", "0.000000")
    assert dark["lesion_bbox_x"] == dark["lesion_area_mm2"] == ""
    assert bright.lesion is not None
    assert bright.lesion.bbox is not None
    box = bright.lesion.bbox
    assert found["lesion_found"] == "true"
    assert float(found["lesion_area_fraction"]) == pytest.approx(1 / 16)
    assert found["lesion_area_mm2"] == ""  # the fake decoder knows no pixel size
    assert [int(found[f"lesion_bbox_{k}"]) for k in ("x", "y", "width", "height")] == [
        box.x,
        box.y,
        box.width,
        box.height,
    ]
