"""OnnxTumorClassifier: the trained model (models/breast-cnn.onnx) behind the TumorClassifier port.

One ONNX Runtime session is created at construction and shared; inference runs in worker threads,
at most ``max_concurrency`` runs at once, so the loop never blocks and memory stays bounded.
Requests that arrive together share one session run (``MicroBatcher``: at most ``max_batch``
images, a request waiting at most ``max_wait_s`` for others while a run slot is free).
From model 2.0 the graph also has a `lesion` output (per-pixel lesion probability on the model
input); it is read in the same session run and turned into a LesionFinding per image. Older
models without it still load, and their classifications carry no lesion finding.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from adapters.imaging.lesion import find_lesion
from adapters.imaging.preprocessing import MODEL_INPUT_SIZE
from adapters.inference.batching import MicroBatcher
from application.ports import CamGrid, Classification, DecodedImage, ModelInfo, Tensor
from domain.bands import bands_from_metadata, borderline_margin_from_metadata
from domain.errors import InvalidImage, ModelUnavailable
from domain.lesions import DEFAULT_LESION_THRESHOLD, LesionFinding
from domain.performance import sensitivity_floor_from_metadata

logger = logging.getLogger(__name__)

INPUT_NAME = "image"
PROB_OUTPUT = "p_malignant"
CAM_OUTPUT = "cam"
LESION_OUTPUT = "lesion"
REQUIRED_METADATA = ("model_version", "threshold", "positive_class")


def _is_dynamic(dim: object) -> bool:
    return dim is None or isinstance(dim, str)


def _choose_providers(requested: Sequence[str]) -> list[str]:
    available = set(ort.get_available_providers())
    chosen = [p for p in requested if p in available]
    missing = [p for p in requested if p not in available]
    if missing:
        logger.warning(
            "ONNX Runtime providers %s are not available here (available: %s); using %s",
            missing,
            sorted(available),
            [*chosen, "CPUExecutionProvider"],
        )
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


class OnnxTumorClassifier:
    """TumorClassifier backed by an ONNX Runtime session that honours the model contract."""

    def __init__(
        self,
        model_path: Path,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        intra_op_threads: int | None = None,
        max_concurrency: int = 1,
        max_batch: int = 1,
        max_wait_s: float = 0.0,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelUnavailable(f"Model file not found: {path}")
        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        if intra_op_threads is not None:
            options.intra_op_num_threads = intra_op_threads
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=_choose_providers(providers)
            )
        except Exception as exc:  # onnxruntime raises several unrelated exception types
            raise ModelUnavailable(f"Model file {path} could not be loaded: {exc}") from exc
        self._path = path
        self._batcher: MicroBatcher[tuple[np.ndarray, DecodedImage], Classification] = MicroBatcher(
            self._classify_sync,
            max_batch=max_batch,
            max_wait_s=max_wait_s,
            max_concurrency=max_concurrency,
        )
        self._has_lesion = self._check_io()
        self._outputs = [PROB_OUTPUT, CAM_OUTPUT] + ([LESION_OUTPUT] if self._has_lesion else [])
        self._metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        self._info = self._read_info()
        if not self._has_lesion:
            logger.info(
                "Model %s has no %r output: predictions carry no lesion finding",
                self._info.version,
                LESION_OUTPUT,
            )

    # --- contract ---------------------------------------------------------------------

    def _check_io(self) -> bool:
        """Refuse a model that breaks the contract; True when it has the `lesion` output."""
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
            raise ModelUnavailable(
                f"{self._path}: expected one input named {INPUT_NAME!r}, "
                f"got {[i.name for i in inputs]}"
            )
        image = inputs[0]
        expected = [MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3]
        if (
            image.type != "tensor(uint8)"
            or len(image.shape) != 4
            or list(image.shape[1:]) != expected
        ):
            raise ModelUnavailable(
                f"{self._path}: input {INPUT_NAME!r} must be uint8 [batch,"
                f"{MODEL_INPUT_SIZE},{MODEL_INPUT_SIZE},3], got {image.type} {image.shape}"
            )
        if not _is_dynamic(image.shape[0]):
            raise ModelUnavailable(
                f"{self._path}: the batch axis of {INPUT_NAME!r} must be dynamic"
            )
        outputs = {o.name: o for o in self._session.get_outputs()}
        for name in (PROB_OUTPUT, CAM_OUTPUT):
            if name not in outputs:
                raise ModelUnavailable(
                    f"{self._path}: missing output {name!r} (has {list(outputs)})"
                )
            if outputs[name].type != "tensor(float)":
                raise ModelUnavailable(
                    f"{self._path}: output {name!r} must be float32, got {outputs[name].type}"
                )
        prob_shape = outputs[PROB_OUTPUT].shape
        if not (len(prob_shape) == 1 or (len(prob_shape) == 2 and prob_shape[1] == 1)):
            raise ModelUnavailable(
                f"{self._path}: {PROB_OUTPUT!r} must be [batch] or [batch,1], got {prob_shape}"
            )
        if len(outputs[CAM_OUTPUT].shape) != 3:
            raise ModelUnavailable(
                f"{self._path}: {CAM_OUTPUT!r} must be [batch,h,w], got {outputs[CAM_OUTPUT].shape}"
            )
        lesion = outputs.get(LESION_OUTPUT)
        if lesion is None:
            return False
        if (
            lesion.type != "tensor(float)"
            or len(lesion.shape) != 3
            or not all(_is_dynamic(d) or d == MODEL_INPUT_SIZE for d in lesion.shape[1:])
        ):
            raise ModelUnavailable(
                f"{self._path}: {LESION_OUTPUT!r} must be float32 [batch,{MODEL_INPUT_SIZE},"
                f"{MODEL_INPUT_SIZE}], got {lesion.type} {lesion.shape}"
            )
        return True

    def _read_info(self) -> ModelInfo:
        missing = [key for key in REQUIRED_METADATA if key not in self._metadata]
        if missing:
            raise ModelUnavailable(f"{self._path}: metadata_props lacks {missing}")
        try:
            threshold = float(self._metadata["threshold"])
        except ValueError as exc:
            raise ModelUnavailable(f"{self._path}: threshold is not a number") from exc
        if not 0.0 <= threshold <= 1.0:
            raise ModelUnavailable(f"{self._path}: threshold {threshold} is outside [0, 1]")
        try:
            bands = bands_from_metadata(self._metadata)
        except ValueError as exc:
            raise ModelUnavailable(f"{self._path}: {exc}") from exc
        return ModelInfo(
            version=self._metadata["model_version"],
            threshold=threshold,
            positive_class=self._metadata["positive_class"],
            input_size=MODEL_INPUT_SIZE,
            providers=tuple(self._session.get_providers()),
            metadata=dict(self._metadata),
            has_lesion_output=self._has_lesion,
            lesion_threshold=self._lesion_threshold() if self._has_lesion else None,
            bands=bands,
            borderline_margin=borderline_margin_from_metadata(self._metadata),
            sensitivity_floor=sensitivity_floor_from_metadata(self._metadata),
        )

    def _lesion_threshold(self) -> float:
        raw = self._metadata.get("lesion_threshold")
        if raw is None:
            return DEFAULT_LESION_THRESHOLD
        try:
            threshold = float(raw)
        except ValueError:
            raise ModelUnavailable(f"{self._path}: lesion_threshold is not a number") from None
        if not 0.0 < threshold < 1.0:
            raise ModelUnavailable(f"{self._path}: lesion_threshold {threshold} is outside (0, 1)")
        return threshold

    # --- port ------------------------------------------------------------------------

    @property
    def model(self) -> ModelInfo:
        return self._info

    @property
    def providers(self) -> tuple[str, ...]:
        """Execution providers the session actually uses, in priority order."""
        return self._info.providers

    @property
    def metadata(self) -> Mapping[str, str]:
        return self._info.metadata

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Synchronous inference, one session run: uint8 [N,128,128,3] -> (p_malignant [N],
        cam [N,h,w], lesion [N,128,128] or None when the model has no lesion output)."""
        if batch.dtype != np.uint8 or batch.shape[1:] != (MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3):
            raise ValueError(
                f"batch must be uint8 [N,{MODEL_INPUT_SIZE},{MODEL_INPUT_SIZE},3], "
                f"got {batch.dtype} {batch.shape}"
            )
        try:
            prob, cam, *rest = self._session.run(self._outputs, {INPUT_NAME: batch})
        except Exception as exc:
            raise ModelUnavailable(f"Inference failed: {exc}") from exc
        lesion = None
        if rest:
            lesion = np.asarray(rest[0], np.float32)
            expected = (len(batch), MODEL_INPUT_SIZE, MODEL_INPUT_SIZE)
            if lesion.shape != expected:
                raise ModelUnavailable(
                    f"The model's {LESION_OUTPUT!r} is {lesion.shape}, expected {expected}."
                )
        return np.asarray(prob, np.float32).reshape(-1), np.asarray(cam, np.float32), lesion

    async def classify(self, images: Sequence[DecodedImage]) -> list[Classification]:
        return await self._batcher.submit([(self._to_array(image), image) for image in images])

    async def infer(self, image: Tensor) -> tuple[Tensor, ...]:
        batch = np.frombuffer(image.data, np.uint8).reshape(image.shape)
        prob, cam, lesion = await self._batcher.call(lambda: self.run(batch))
        named = [(PROB_OUTPUT, prob), (CAM_OUTPUT, cam), (LESION_OUTPUT, lesion)]
        return tuple(
            Tensor(name, "FP32", tuple(array.shape), array.astype("<f4").tobytes())
            for name, array in named
            if array is not None
        )

    def _classify_sync(
        self, items: Sequence[tuple[np.ndarray, DecodedImage]]
    ) -> list[Classification]:
        batch = np.stack([array for array, _ in items])
        prob, cam, lesion = self.run(batch)
        return [
            Classification(
                p_malignant=float(np.clip(p, 0.0, 1.0)),
                cam=_to_grid(c),
                lesion=None if lesion is None else self._finding(lesion[i], image),
            )
            for i, ((_, image), p, c) in enumerate(zip(items, prob, cam, strict=True))
        ]

    def _finding(self, lesion_map: np.ndarray, image: DecodedImage) -> LesionFinding:
        width, height = image.stored_size
        threshold = self._info.lesion_threshold or DEFAULT_LESION_THRESHOLD
        return find_lesion(lesion_map, width, height, threshold, image.pixel_spacing_mm)

    # --- helpers -----------------------------------------------------------------------

    @staticmethod
    def _to_array(image: DecodedImage) -> np.ndarray:
        expected = MODEL_INPUT_SIZE * MODEL_INPUT_SIZE * 3
        if len(image.model_input) != expected:
            raise InvalidImage(
                f"Decoded image has {len(image.model_input)} bytes, the model expects {expected}."
            )
        return np.frombuffer(image.model_input, dtype=np.uint8).reshape(
            MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3
        )


def _to_grid(cam: np.ndarray) -> CamGrid:
    clean = np.nan_to_num(np.maximum(cam, 0.0), nan=0.0, posinf=0.0)
    return tuple(tuple(float(v) for v in row) for row in clean.tolist())
