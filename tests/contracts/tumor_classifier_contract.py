"""Behaviour every TumorClassifier must share."""

from __future__ import annotations

import hashlib
import math
from array import array

import pytest

from application.ports import DecodedImage, Tensor, TumorClassifier
from domain.errors import InvalidImage
from domain.lesions import LesionFinding

SIZE = 128


def flat_image(level: int) -> DecodedImage:
    """A uniform grey model input; only `model_input` matters to a classifier."""
    pixels = bytes([level]) * (SIZE * SIZE * 3)
    return DecodedImage(
        model_input=pixels,
        stored_image=b"",
        sha256=hashlib.sha256(pixels).hexdigest(),
        width=SIZE,
        height=SIZE,
        source_format="PNG",
    )


def gradient_image() -> DecodedImage:
    row = bytes(v for x in range(SIZE) for v in (2 * x,) * 3)
    pixels = row * SIZE
    return DecodedImage(pixels, b"", hashlib.sha256(pixels).hexdigest(), SIZE, SIZE, "PNG")


class TumorClassifierContract:
    """Needs a fixture ``tumor_classifier`` giving a loaded TumorClassifier."""

    def test_is_a_tumor_classifier(self, tumor_classifier: TumorClassifier) -> None:
        assert isinstance(tumor_classifier, TumorClassifier)

    def test_describes_its_model(self, tumor_classifier: TumorClassifier) -> None:
        info = tumor_classifier.model
        assert info.version
        assert 0.0 < info.threshold < 1.0
        assert info.positive_class == "malignant"
        assert info.input_size == SIZE
        assert info.providers

    async def test_one_result_per_image_in_order(self, tumor_classifier: TumorClassifier) -> None:
        images = [flat_image(10), gradient_image(), flat_image(240)]
        batch = await tumor_classifier.classify(images)
        singles = [(await tumor_classifier.classify([image]))[0] for image in images]
        assert len(batch) == 3
        for together, alone in zip(batch, singles, strict=True):
            assert math.isclose(together.p_malignant, alone.p_malignant, abs_tol=1e-5)

    async def test_probabilities_and_cams_are_well_formed(
        self, tumor_classifier: TumorClassifier
    ) -> None:
        for result in await tumor_classifier.classify([flat_image(0), gradient_image()]):
            assert 0.0 <= result.p_malignant <= 1.0
            assert result.cam, "a CAM grid must have rows"
            widths = {len(row) for row in result.cam}
            assert len(widths) == 1, "CAM rows must be equally long"
            assert widths.pop() > 0
            assert all(value >= 0.0 and math.isfinite(value) for row in result.cam for value in row)

    async def test_is_deterministic(self, tumor_classifier: TumorClassifier) -> None:
        first = await tumor_classifier.classify([gradient_image()])
        second = await tumor_classifier.classify([gradient_image()])
        assert first[0].p_malignant == second[0].p_malignant
        assert first[0].cam == second[0].cam
        assert first[0].lesion == second[0].lesion

    async def test_lesion_findings_come_with_the_lesion_output_only(
        self, tumor_classifier: TumorClassifier
    ) -> None:
        info = tumor_classifier.model
        results = await tumor_classifier.classify([flat_image(0), flat_image(255)])
        if not info.has_lesion_output:
            assert info.lesion_threshold is None
            assert [r.lesion for r in results] == [None, None]
            return
        assert info.lesion_threshold is not None
        assert 0.0 < info.lesion_threshold < 1.0
        for result in results:
            lesion = result.lesion
            assert isinstance(lesion, LesionFinding)
            if lesion.found:
                assert lesion.bbox is not None
                assert lesion.bbox.x + lesion.bbox.width <= SIZE
                assert lesion.bbox.y + lesion.bbox.height <= SIZE
                assert all(0 <= x <= SIZE and 0 <= y <= SIZE for x, y in lesion.outline)

    async def test_empty_batch_gives_no_results(self, tumor_classifier: TumorClassifier) -> None:
        assert await tumor_classifier.classify([]) == []

    async def test_refuses_a_wrongly_sized_input(self, tumor_classifier: TumorClassifier) -> None:
        short = DecodedImage(b"\x00" * 12, b"", "0" * 64, 2, 2, "PNG")
        with pytest.raises(InvalidImage):
            await tumor_classifier.classify([short])

    async def test_raw_outputs_agree_with_the_classifications(
        self, tumor_classifier: TumorClassifier
    ) -> None:
        images = [flat_image(10), gradient_image(), flat_image(240)]
        batch = Tensor(
            "image", "UINT8", (3, SIZE, SIZE, 3), b"".join(i.model_input for i in images)
        )
        outputs = {tensor.name: tensor for tensor in await tumor_classifier.infer(batch)}
        expected = ["p_malignant", "cam"] + (
            ["lesion"] if tumor_classifier.model.has_lesion_output else []
        )
        assert list(outputs) == expected
        assert all(tensor.datatype == "FP32" for tensor in outputs.values())
        results = await tumor_classifier.classify(images)
        prob = array("f", outputs["p_malignant"].data)
        assert outputs["p_malignant"].shape == (3,)
        assert prob.tolist() == pytest.approx([r.p_malignant for r in results], abs=1e-6)
        rows, cols = len(results[0].cam), len(results[0].cam[0])
        cam = outputs["cam"]
        assert cam.shape == (3, rows, cols)
        assert len(cam.data) == 4 * 3 * rows * cols
        flat_cam = [v for r in results for row in r.cam for v in row]
        assert array("f", cam.data).tolist() == pytest.approx(flat_cam, abs=1e-6)
        if "lesion" in outputs:
            assert outputs["lesion"].shape == (3, SIZE, SIZE)
            assert len(outputs["lesion"].data) == 4 * 3 * SIZE * SIZE
