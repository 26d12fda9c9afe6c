"""OnnxTumorClassifier against real ONNX Runtime sessions on tiny contract-conforming models."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from adapters.imaging.preprocessing import MODEL_INPUT_SIZE
from adapters.inference.onnx_classifier import OnnxTumorClassifier
from application.ports import DecodedImage, ModelInfo, TumorClassifier
from domain.errors import InvalidImage, ModelUnavailable
from domain.lesions import DEFAULT_LESION_THRESHOLD, BoundingBox, LesionFinding

pytestmark = pytest.mark.integration

S = MODEL_INPUT_SIZE
GRID = 16
METADATA = {
    "model_version": "tiny-1",
    "threshold": "0.4",
    "positive_class": "malignant",
    "validation_metrics": '{"auc": 0.5}',
}


def tiny_model(
    path: Path,
    metadata: dict[str, str] | None = None,
    input_type: int = TensorProto.UINT8,
    outputs: tuple[str, ...] = ("p_malignant", "cam"),
    batch: int | str = "batch",
    lesion: str | None = None,
) -> Path:
    """p = mean pixel / 255 ([N]); cam = 8x8-block means of the first channel ([N,16,16]).

    `lesion`: "pixels" adds a contract `lesion` output, each pixel's brightness / 255
    ([N,128,128]); "grid" a wrongly shaped one (the CAM, [N,16,16]); "double" a float64 one.
    """
    nodes = [
        helper.make_node("Cast", ["image"], ["x"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["x", "c255"], ["xs"]),
        helper.make_node("ReduceMean", ["xs"], ["gray"], axes=[3], keepdims=0),
        helper.make_node("Reshape", ["gray", "blocks"], ["tiles"]),
        helper.make_node(
            "ReduceMean",
            ["tiles"],
            [outputs[1] if len(outputs) > 1 else "unused"],
            axes=[2, 4],
            keepdims=0,
        ),
        helper.make_node("ReduceMean", ["gray"], [outputs[0]], axes=[1, 2], keepdims=0),
    ]
    inits = [
        helper.make_tensor("c255", TensorProto.FLOAT, [], [255.0]),
        helper.make_tensor(
            "blocks", TensorProto.INT64, [5], [-1, GRID, S // GRID, GRID, S // GRID]
        ),
    ]
    graph_outputs = [helper.make_tensor_value_info(outputs[0], TensorProto.FLOAT, ["batch"])]
    if len(outputs) > 1:
        graph_outputs.append(
            helper.make_tensor_value_info(outputs[1], TensorProto.FLOAT, ["batch", GRID, GRID])
        )
    if lesion == "grid":
        nodes.append(helper.make_node("Identity", [outputs[1]], ["lesion"]))
        shape, element = ["batch", GRID, GRID], TensorProto.FLOAT
    elif lesion in ("pixels", "double"):
        element = TensorProto.DOUBLE if lesion == "double" else TensorProto.FLOAT
        nodes.append(helper.make_node("Cast", ["gray"], ["lesion"], to=element))
        shape = ["batch", S, S]
    if lesion is not None:
        graph_outputs.append(helper.make_tensor_value_info("lesion", element, shape))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("image", input_type, [batch, S, S, 3])],
        graph_outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (METADATA if metadata is None else metadata).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def decoded(level: int) -> DecodedImage:
    png = f"png-{level}".encode()
    return DecodedImage(
        model_input=bytes([level]) * (S * S * 3),
        stored_image=png,
        sha256=hashlib.sha256(png).hexdigest(),
        width=S,
        height=S,
        source_format="PNG",
    )


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    return tiny_model(tmp_path / "tiny.onnx")


@pytest.fixture
def classifier(model_path: Path) -> OnnxTumorClassifier:
    return OnnxTumorClassifier(model_path, intra_op_threads=1, max_concurrency=2)


def test_implements_the_port(classifier: OnnxTumorClassifier) -> None:
    assert isinstance(classifier, TumorClassifier)


def test_reads_model_info_from_metadata(classifier: OnnxTumorClassifier) -> None:
    info = classifier.model
    assert isinstance(info, ModelInfo)
    assert (info.version, info.threshold, info.positive_class) == ("tiny-1", 0.4, "malignant")
    assert info.input_size == S
    assert info.metadata["validation_metrics"] == '{"auc": 0.5}'
    assert info.providers == ("CPUExecutionProvider",) == classifier.providers


def test_run_returns_probabilities_and_cams(classifier: OnnxTumorClassifier) -> None:
    batch = np.stack([np.full((S, S, 3), v, np.uint8) for v in (0, 51, 255)])
    p, cam, lesion = classifier.run(batch)
    assert lesion is None  # this model has no lesion output
    assert p.dtype == np.float32
    assert p.shape == (3,)
    np.testing.assert_allclose(p, [0.0, 0.2, 1.0], atol=1e-5)
    assert cam.shape == (3, GRID, GRID)
    assert cam.dtype == np.float32


def test_run_rejects_a_wrong_batch(classifier: OnnxTumorClassifier) -> None:
    with pytest.raises(ValueError, match="uint8"):
        classifier.run(np.zeros((1, S, S, 3), np.float32))
    with pytest.raises(ValueError, match="uint8"):
        classifier.run(np.zeros((1, 64, 64, 3), np.uint8))


async def test_classify_runs_off_the_loop_and_keeps_order(classifier: OnnxTumorClassifier) -> None:
    results = await classifier.classify([decoded(0), decoded(255), decoded(51)])
    assert [round(r.p_malignant, 4) for r in results] == [0.0, 1.0, 0.2]
    assert len(results[1].cam) == GRID
    assert len(results[1].cam[0]) == GRID
    assert all(v >= 0.0 for row in results[1].cam for v in row)
    assert await classifier.classify([]) == []


async def test_concurrent_calls_are_bounded_and_all_answered(
    classifier: OnnxTumorClassifier,
) -> None:
    results = await asyncio.gather(*(classifier.classify([decoded(i)]) for i in range(12)))
    assert [round(r[0].p_malignant * 255) for r in results] == list(range(12))


async def test_micro_batched_results_match_one_by_one(model_path: Path) -> None:
    alone = OnnxTumorClassifier(model_path, intra_op_threads=1)
    batched = OnnxTumorClassifier(
        model_path, intra_op_threads=1, max_concurrency=2, max_batch=4, max_wait_s=0.005
    )
    requests = [[decoded(i)] for i in range(10)] + [[decoded(200), decoded(100)]]
    together = await asyncio.gather(*(batched.classify(images) for images in requests))
    one_by_one = [await alone.classify(images) for images in requests]
    assert together == one_by_one


async def test_a_wrong_sized_image_fails_only_its_own_request(model_path: Path) -> None:
    batched = OnnxTumorClassifier(model_path, max_batch=8, max_wait_s=0.02)
    bad = DecodedImage(b"\x00" * 10, b"x", "0" * 64, 1, 1, "PNG")
    good, wrong = await asyncio.gather(
        batched.classify([decoded(51)]), batched.classify([bad]), return_exceptions=True
    )
    assert isinstance(wrong, InvalidImage)
    assert isinstance(good, list)
    assert round(good[0].p_malignant, 4) == 0.2


async def test_classify_rejects_a_wrong_sized_input(classifier: OnnxTumorClassifier) -> None:
    bad = DecodedImage(b"\x00" * 10, b"x", "0" * 64, 1, 1, "PNG")
    with pytest.raises(InvalidImage):
        await classifier.classify([bad])


def test_missing_file_is_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="not found"):
        OnnxTumorClassifier(tmp_path / "absent.onnx")


def test_garbage_file_is_model_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"not an onnx model")
    with pytest.raises(ModelUnavailable, match="could not be loaded"):
        OnnxTumorClassifier(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_type": TensorProto.FLOAT}, "uint8"),
        ({"outputs": ("p_malignant",)}, "missing output 'cam'"),
        ({"outputs": ("prob", "cam")}, "missing output 'p_malignant'"),
        ({"batch": 1}, "dynamic"),
        ({"metadata": {"model_version": "x", "positive_class": "malignant"}}, "threshold"),
        ({"metadata": {**METADATA, "threshold": "1.5"}}, "outside"),
        ({"metadata": {**METADATA, "threshold": "high"}}, "not a number"),
    ],
)
def test_contract_violations_are_refused(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    path = tiny_model(tmp_path / "bad.onnx", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ModelUnavailable, match=message):
        OnnxTumorClassifier(path)


def test_unavailable_provider_falls_back_to_cpu_with_a_warning(
    model_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        classifier = OnnxTumorClassifier(
            model_path, providers=("NoSuchExecutionProvider", "CPUExecutionProvider")
        )
    assert classifier.providers == ("CPUExecutionProvider",)
    assert "NoSuchExecutionProvider" in caplog.text


# --- the lesion output (model 2.0) -------------------------------------------------------


def square_on_black(
    stored: tuple[int, int], spacing: tuple[float, float] | None = None
) -> DecodedImage:
    """A white 32 x 32 square at rows 32-63, columns 64-95 of the model input."""
    pixels = np.zeros((S, S, 3), np.uint8)
    pixels[32:64, 64:96] = 255
    png = f"square-{stored}".encode()
    return DecodedImage(
        model_input=pixels.tobytes(),
        stored_image=png,
        sha256=hashlib.sha256(png).hexdigest(),
        width=stored[0] * 2,  # the upload was larger than what is stored
        height=stored[1] * 2,
        source_format="PNG",
        stored_width=stored[0],
        stored_height=stored[1],
        pixel_spacing_mm=spacing,
    )


class CountingSession:
    """The real session, counting its runs."""

    def __init__(self, session: object) -> None:
        self.session, self.runs = session, 0

    def run(self, *args: object, **kwargs: object) -> object:
        self.runs += 1
        return self.session.run(*args, **kwargs)  # type: ignore[attr-defined]


@pytest.fixture
def lesion_classifier(tmp_path: Path) -> OnnxTumorClassifier:
    path = tiny_model(tmp_path / "lesion.onnx", lesion="pixels")
    return OnnxTumorClassifier(path, intra_op_threads=1)


def test_model_with_lesion_output_says_so(lesion_classifier: OnnxTumorClassifier) -> None:
    info = lesion_classifier.model
    assert info.has_lesion_output is True
    assert info.lesion_threshold == DEFAULT_LESION_THRESHOLD  # no lesion_threshold metadata


def test_model_without_lesion_output_loads_and_says_so(
    model_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="adapters.inference.onnx_classifier"):
        classifier = OnnxTumorClassifier(model_path)
    assert (classifier.model.has_lesion_output, classifier.model.lesion_threshold) == (False, None)
    assert "no 'lesion' output" in caplog.text


def test_lesion_threshold_and_bands_come_from_metadata(tmp_path: Path) -> None:
    cuts = [0.0, 0.05, 0.1, 0.4, 0.9, 1.0]
    names = ["very_low", "low", "intermediate", "high", "very_high"]
    bands = json.dumps(
        [
            {"name": name, "lower": lower, "upper": upper, "n_val": 40, "malignancy_rate": 0.02}
            for name, (lower, upper) in zip(names, itertools.pairwise(cuts), strict=True)
        ]
    )
    metadata = {**METADATA, "lesion_threshold": "0.35", "likelihood_bands": bands}
    path = tiny_model(tmp_path / "m.onnx", metadata=metadata, lesion="pixels")
    info = OnnxTumorClassifier(path).model
    assert info.lesion_threshold == 0.35
    assert info.metadata["likelihood_bands"] == bands
    assert [(band.lower, band.upper) for band in info.bands] == list(itertools.pairwise(cuts))
    assert {band.observed_count for band in info.bands} == {40}


async def test_lesion_map_becomes_a_finding_on_the_stored_image(
    lesion_classifier: OnnxTumorClassifier,
) -> None:
    counting = CountingSession(lesion_classifier._session)
    lesion_classifier._session = counting  # type: ignore[assignment]
    images = [square_on_black((300, 200), spacing=(0.1, 0.2)), decoded(0), decoded(40)]
    square, black, dim = await lesion_classifier.classify(images)
    assert counting.runs == 1, "one session run per batch, lesion included"
    # 128 model pixels span the 200-pixel centre square starting at x = 50: 1.5625 px each
    assert square.lesion == LesionFinding(
        found=True,
        area_fraction=0.0625,
        max_probability=1.0,
        area_mm2=0.0625 * 200 * 200 * 0.1 * 0.2,
        bbox=BoundingBox(150, 50, 50, 50),
        outline=((150, 50), (200, 50), (200, 100), (150, 100)),
    )
    assert black.lesion == LesionFinding.none_found(0.0)
    assert dim.lesion is not None
    assert not dim.lesion.found  # 40/255 everywhere: below the threshold
    assert dim.lesion.max_probability == pytest.approx(40 / 255)


def test_run_returns_the_lesion_map(lesion_classifier: OnnxTumorClassifier) -> None:
    batch = np.stack([np.full((S, S, 3), v, np.uint8) for v in (0, 255)])
    _, _, lesion = lesion_classifier.run(batch)
    assert lesion is not None
    assert lesion.shape == (2, S, S)
    assert lesion.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lesion": "grid"}, "'lesion' must be float32"),
        ({"lesion": "double"}, "'lesion' must be float32"),
        ({"lesion": "pixels", "metadata": {**METADATA, "lesion_threshold": "1"}}, "outside"),
        (
            {"lesion": "pixels", "metadata": {**METADATA, "lesion_threshold": "half"}},
            "lesion_threshold is not a number",
        ),
    ],
)
def test_lesion_contract_violations_are_refused(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    path = tiny_model(tmp_path / "bad.onnx", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ModelUnavailable, match=message):
        OnnxTumorClassifier(path)
