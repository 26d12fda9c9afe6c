"""InferTensors: the shared model run on raw tensors, for clients of the inference protocol."""

from __future__ import annotations

from math import prod

from application.commands import InferTensors, TensorResult
from application.ports import ModelInfo, Tensor, TumorClassifier
from domain.errors import ErrorCode, InvalidInput

IMAGE_INPUT = "image"
IMAGE_DATATYPE = "UINT8"
OUTPUT_DATATYPE = "FP32"


def tensor_outputs(info: ModelInfo) -> tuple[str, ...]:
    """The outputs the model gives, in the order they are listed and returned."""
    return ("p_malignant", "cam", "lesion") if info.has_lesion_output else ("p_malignant", "cam")


class InferTensorsUseCase:
    """Checks one UINT8 [N,size,size,3] `image` batch (at most `max_batch` images) against the
    model's input contract and returns the outputs asked for, from one run of the model."""

    def __init__(self, classifier: TumorClassifier, max_batch: int) -> None:
        self._classifier = classifier
        self._max_batch = max_batch

    async def __call__(self, cmd: InferTensors) -> TensorResult:
        info = self._classifier.model
        image = self._checked_image(cmd.inputs, info.input_size)
        known = tensor_outputs(info)
        for name in cmd.outputs:
            if name not in known:
                raise InvalidInput(
                    f"The model has no output {name!r}; its outputs are {', '.join(known)}.",
                    ErrorCode.TENSOR_OUTPUT_UNKNOWN,
                    name=name,
                    outputs=known,
                )
        produced = {tensor.name: tensor for tensor in await self._classifier.infer(image)}
        wanted = dict.fromkeys(cmd.outputs or known)
        return TensorResult(info.version, tuple(produced[name] for name in wanted))

    def _checked_image(self, inputs: tuple[Tensor, ...], size: int) -> Tensor:
        if len(inputs) != 1 or inputs[0].name != IMAGE_INPUT:
            raise InvalidInput(
                f"Send one input tensor, named {IMAGE_INPUT!r}.",
                ErrorCode.TENSOR_INPUT_EXPECTED,
                name=IMAGE_INPUT,
            )
        image = inputs[0]
        if image.datatype != IMAGE_DATATYPE:
            raise InvalidInput(
                f"Input {IMAGE_INPUT!r} is {image.datatype}; the model takes {IMAGE_DATATYPE}.",
                ErrorCode.TENSOR_DATATYPE_INVALID,
                name=IMAGE_INPUT,
                datatype=image.datatype,
                expected=IMAGE_DATATYPE,
            )
        expected = f"[N,{size},{size},3]"
        if len(image.shape) != 4 or image.shape[1:] != (size, size, 3) or image.shape[0] < 1:
            shape = f"[{','.join(map(str, image.shape))}]"
            raise InvalidInput(
                f"Input {IMAGE_INPUT!r} has shape {shape}; the model takes {expected}.",
                ErrorCode.TENSOR_SHAPE_INVALID,
                name=IMAGE_INPUT,
                shape=shape,
                expected=expected,
            )
        if image.shape[0] > self._max_batch:
            raise InvalidInput(
                f"Send at most {self._max_batch} images at once.",
                ErrorCode.TOO_MANY_IMAGES,
                count=self._max_batch,
            )
        needed = prod(image.shape)
        if len(image.data) != needed:
            raise InvalidInput(
                f"Input {IMAGE_INPUT!r} holds {len(image.data)} bytes; its shape needs {needed}.",
                ErrorCode.TENSOR_SIZE_INVALID,
                name=IMAGE_INPUT,
                size=len(image.data),
                expected=needed,
            )
        return image
