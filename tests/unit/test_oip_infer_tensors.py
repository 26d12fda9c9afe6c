"""InferTensors (the inference protocol's use case) on the fake classifier."""

from __future__ import annotations

from array import array

import pytest

from application.commands import InferTensors, TensorResult
from application.ports import Tensor
from application.use_cases import InferTensorsUseCase
from domain.errors import ErrorCode, InvalidInput, ModelUnavailable
from tests.fakes import FakeTumorClassifier
from tests.unit.conftest import App

pytestmark = pytest.mark.unit

SIDE = 128
IMAGE = SIDE * SIDE * 3


def image(count: int, level: int = 51, shape: tuple[int, ...] | None = None) -> Tensor:
    return Tensor("image", "UINT8", shape or (count, SIDE, SIDE, 3), bytes([level]) * IMAGE * count)


async def infer(
    app: App, *inputs: Tensor, outputs: tuple[str, ...] = (), lesion: bool = True
) -> TensorResult:
    use_case = InferTensorsUseCase(FakeTumorClassifier(lesion=lesion), max_batch=3)
    return await use_case(InferTensors(actor=await app.user(), inputs=inputs, outputs=outputs))


async def test_every_output_by_default_in_order(app: App) -> None:
    result = await infer(app, image(2))
    assert result.model_version == "fake-1"
    assert [t.name for t in result.outputs] == ["p_malignant", "cam", "lesion"]
    prob = result.outputs[0]
    assert prob.shape == (2,)
    assert array("f", prob.data).tolist() == pytest.approx([0.2, 0.2])
    assert result.outputs[1].shape == (2, 4, 4)


async def test_only_the_outputs_asked_for_once_each(app: App) -> None:
    result = await infer(app, image(1), outputs=("cam", "p_malignant", "cam"))
    assert [t.name for t in result.outputs] == ["cam", "p_malignant"]


async def test_a_model_without_lesion_output_has_none_to_give(app: App) -> None:
    result = await infer(app, image(1), lesion=False)
    assert [t.name for t in result.outputs] == ["p_malignant", "cam"]
    with pytest.raises(InvalidInput) as raised:
        await infer(app, image(1), outputs=("lesion",), lesion=False)
    assert raised.value.code is ErrorCode.TENSOR_OUTPUT_UNKNOWN
    assert raised.value.params["outputs"] == ("p_malignant", "cam")


@pytest.mark.parametrize(
    ("inputs", "code"),
    [
        ((), ErrorCode.TENSOR_INPUT_EXPECTED),
        ((image(1), image(1)), ErrorCode.TENSOR_INPUT_EXPECTED),
        (
            (Tensor("pixels", "UINT8", (1, SIDE, SIDE, 3), bytes(IMAGE)),),
            ErrorCode.TENSOR_INPUT_EXPECTED,
        ),
        (
            (Tensor("image", "FP32", (1, SIDE, SIDE, 3), bytes(4 * IMAGE)),),
            ErrorCode.TENSOR_DATATYPE_INVALID,
        ),
        ((image(1, shape=(1, 64, 64, 3)),), ErrorCode.TENSOR_SHAPE_INVALID),
        ((image(1, shape=(SIDE, SIDE, 3)),), ErrorCode.TENSOR_SHAPE_INVALID),
        ((image(0),), ErrorCode.TENSOR_SHAPE_INVALID),
        ((image(4),), ErrorCode.TOO_MANY_IMAGES),
        (
            (Tensor("image", "UINT8", (2, SIDE, SIDE, 3), bytes(IMAGE)),),
            ErrorCode.TENSOR_SIZE_INVALID,
        ),
    ],
)
async def test_inputs_off_the_contract_are_refused_with_their_code(
    app: App, inputs: tuple[Tensor, ...], code: ErrorCode
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await infer(app, *inputs)
    assert raised.value.code is code


async def test_an_unavailable_model_says_so(app: App) -> None:
    classifier = FakeTumorClassifier()
    classifier.available = False
    use_case = InferTensorsUseCase(classifier, max_batch=3)
    with pytest.raises(ModelUnavailable):
        await use_case(InferTensors(actor=await app.user(), inputs=(image(1),)))
