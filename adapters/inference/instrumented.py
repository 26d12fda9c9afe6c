"""A TumorClassifier decorator that reports inference latency, batch size and labels."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from adapters.metrics import PrometheusMetrics
from application.ports import Classification, DecodedImage, ModelInfo, Tensor, TumorClassifier
from domain.predictions import Assessment

T = TypeVar("T")


class InstrumentedTumorClassifier:
    """TumorClassifier decorator: inference latency, batch size, labels and model version."""

    def __init__(self, inner: TumorClassifier, metrics: PrometheusMetrics) -> None:
        self._inner = inner
        self._metrics = metrics
        info = inner.model
        metrics.model_info.labels(
            version=info.version,
            threshold=f"{info.threshold:g}",
            providers=",".join(info.providers),
        ).set(1)

    @property
    def model(self) -> ModelInfo:
        return self._inner.model

    async def classify(self, images: Sequence[DecodedImage]) -> list[Classification]:
        results = await self._timed(self._inner.classify(images), len(images))
        info = self._inner.model
        for result in results:
            label = Assessment(result.p_malignant, info.threshold, info.version).label
            self._metrics.predictions.labels(label=label.value).inc()
        return results

    async def infer(self, image: Tensor) -> tuple[Tensor, ...]:
        return await self._timed(self._inner.infer(image), image.shape[0] if image.shape else 0)

    async def _timed(self, run: Awaitable[T], batch: int) -> T:
        started = time.perf_counter()
        try:
            result = await run
        except Exception:
            self._metrics.inference_errors.inc()
            raise
        self._metrics.inference_seconds.observe(time.perf_counter() - started)
        self._metrics.inference_batch.observe(batch)
        return result
